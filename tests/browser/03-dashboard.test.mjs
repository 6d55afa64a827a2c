// (c) 运行监测: KPI cards and tables present; switch level region → tier → hospital (both
// through the level switch and by drilling the table rows), open hospital A's view, open one
// of its cases: the case page shows its group (#case-drg), the grouping trace (#case-trace)
// and the points/payment computation (#case-price-steps).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, launch, newPage, login, shot, noJsErrors } from './lib.mjs';

const fx = fixture();
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const KPIS = ['kpi-cases', 'kpi-cmi', 'kpi-grouping-rate', 'kpi-cost-index', 'kpi-time-index', 'kpi-lowrisk-mortality', 'kpi-personal-burden', 'kpi-selfpay-share'];

async function level(page) {
  return new URL(page.url()).searchParams.get('level') || 'region';
}

/** The hrefs of the first-column links of a table. */
async function tableLinks(page, id) {
  return page.locator(`#${id} tbody tr td:first-child a`).evaluateAll((as) => as.map((a) => a.getAttribute('href')));
}

test('运行监测：统筹区 → 医院等级 → 医疗机构 → 医院 → 病例', async () => {
  const { context, page } = await newPage(browser, fx);
  await login(page, fx.users.analyst);
  assert.equal(await level(page), 'region');
  for (const id of KPIS) {
    const v = (await page.locator(`#${id} .v`).innerText()).trim();
    assert.ok(v.length > 0, `${id} has a value`);
  }
  for (const id of ['form-monitor', 'level-switch', 'tbl-units', 'tbl-tiers', 'tbl-hospitals', 'tbl-methods', 'tbl-trend', 'tbl-top-groups', 'chart-trend', 'chart-cmi']) {
    assert.equal(await page.locator(`#${id}`).count(), 1, `#${id} present once`);
  }
  // every hospital of the region is a row of the hospitals table, linking to its view
  const hospitalLinks = await tableLinks(page, 'tbl-hospitals');
  assert.equal(hospitalLinks.length, fx.hospitals.length, 'one row per hospital');
  for (const h of fx.hospitals) assert.ok(hospitalLinks.some((href) => href.startsWith(`/hospitals/${encodeURIComponent(h)}?`) || href === `/hospitals/${encodeURIComponent(h)}`), `row of ${h}`);
  // hospital A's tier (column 3 等级 of its row; column 2 is the code)
  const aRow = page.locator('#tbl-hospitals tbody tr', { has: page.locator(`td:nth-child(2):text-is("${fx.hospitalA}")`) });
  assert.equal(await aRow.count(), 1, `row of ${fx.hospitalA}`);
  const tierA = (await aRow.locator('td:nth-child(3)').innerText()).trim();
  assert.ok(tierA.length > 0, 'hospital A has a tier');
  // the region's 出院人次 is the sum over its hospitals (column 4 of the hospitals table)
  const kpiCases = Number((await page.locator('#kpi-cases .v').innerText()).replace(/[,\s]/g, ''));
  const perHospital = (await page.locator('#tbl-hospitals tbody tr td:nth-child(4)').allInnerTexts()).map((t) => Number(t.replace(/[,\s]/g, '')));
  assert.ok(kpiCases > 0, `#kpi-cases ${kpiCases}`);
  assert.equal(perHospital.reduce((a, b) => a + b, 0), kpiCases, '#kpi-cases = Σ hospitals');
  await shot(page, 'c-dashboard', 'region');

  // the level switch
  await Promise.all([page.waitForURL(/level=tier/), page.click('#level-switch a:has-text("医院等级")')]);
  assert.equal(await level(page), 'tier');
  assert.ok((await page.locator('#tbl-units tbody tr').count()) >= 1);
  await shot(page, 'c-dashboard', 'tier');
  await Promise.all([page.waitForURL(/level=hospital/), page.click('#level-switch a:has-text("医疗机构")')]);
  assert.equal(await level(page), 'hospital');
  assert.equal((await tableLinks(page, 'tbl-hospitals')).length, fx.hospitals.length);
  await shot(page, 'c-dashboard', 'hospital-level');
  await Promise.all([page.waitForURL(/level=region/), page.click('#level-switch a:has-text("统筹区")')]);

  // drilling the rows: region row → tier level; hospital A's tier row → hospital level of that tier
  const regionLinks = await tableLinks(page, 'tbl-units');
  assert.equal(regionLinks.length, 1, 'one region row');
  await Promise.all([page.waitForURL(/level=tier/), page.click('#tbl-units tbody tr td:first-child a')]);
  const tierLink = page.locator('#tbl-units tbody tr td:first-child a', { hasText: tierA });
  assert.equal(await tierLink.count(), 1, `tier row ${tierA}`);
  await Promise.all([page.waitForURL(/level=hospital/), tierLink.click()]);
  assert.equal(new URL(page.url()).searchParams.get('tier'), tierA);
  const inTier = await tableLinks(page, 'tbl-hospitals');
  assert.ok(inTier.length >= 1 && inTier.length <= fx.hospitals.length);
  await shot(page, 'c-dashboard', 'tier-drill');

  // hospital A's view
  const aLink = page.locator(`#tbl-hospitals tbody tr td:first-child a[href^="/hospitals/${encodeURIComponent(fx.hospitalA)}?"]`);
  assert.equal(await aLink.count(), 1, `hospital ${fx.hospitalA} in its tier`);
  await Promise.all([page.waitForURL(new RegExp(`/hospitals/${fx.hospitalA}(\\?|$)`)), aLink.click()]);
  assert.match(await page.innerText('#hospital-info'), new RegExp(`编号 ${fx.hospitalA}`));
  for (const id of ['form-hospital', 'kpi-cases', 'tbl-compare', 'tbl-departments', 'tbl-cases']) {
    assert.equal(await page.locator(`#${id}`).count(), 1, `#${id} present`);
  }
  const caseLinks = await tableLinks(page, 'tbl-cases');
  assert.ok(caseLinks.length > 0, 'cases listed');
  await shot(page, 'c-dashboard', 'hospital-view');

  // one case
  const first = page.locator('#tbl-cases tbody tr td:first-child a').first();
  const listId = (await first.innerText()).trim();
  await Promise.all([page.waitForURL(/\/cases\//), first.click()]);
  // a case is named by its hospital and its list id (list ids are unique per hospital only)
  assert.equal(decodeURIComponent(new URL(page.url()).pathname), `/cases/${fx.hospitalA}/${listId}`);
  assert.match(await page.innerText('h1'), new RegExp(`病例 ${listId}`));
  const drg = (await page.innerText('#case-drg')).trim();
  assert.ok(drg.length > 0, '#case-drg');
  const trace = (await page.innerText('#case-trace')).trim();
  assert.ok(trace.split('\n').length >= 2, `#case-trace has the grouping steps: ${trace}`);
  const steps = await page.locator('#case-price-steps li').allInnerTexts();
  assert.ok(steps.length >= 1, '#case-price-steps lists the computation');
  assert.match((await page.innerText('#tbl-case-fields')), new RegExp(fx.hospitalA));
  await shot(page, 'c-dashboard', 'case');
  noJsErrors(page);
  await context.close();
});

test('表格可排序：点击表头改变顺序', async () => {
  const { context, page } = await newPage(browser, fx);
  await login(page, fx.users.analyst);
  const col = (i) => page.locator(`#tbl-hospitals tbody tr td:nth-child(${i})`).allInnerTexts();
  const num = (s) => Number(s.replace(/[,%\s]/g, ''));
  // column 4 = 出院人次
  await page.click('#tbl-hospitals thead th:nth-child(4)');
  const asc = (await col(4)).map(num);
  assert.deepEqual(asc, [...asc].sort((a, b) => a - b), 'ascending after the first click');
  await page.click('#tbl-hospitals thead th:nth-child(4)');
  const desc = (await col(4)).map(num);
  assert.deepEqual(desc, [...desc].sort((a, b) => b - a), 'descending after the second click');
  noJsErrors(page);
  await context.close();
});
