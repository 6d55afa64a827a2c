// (d) Role isolation in the UI. As hospital A's user, every page reachable from the navigation
// (a bounded crawl of same-origin links from the navigation bar, two clicks deep) never shows
// hospital B's code, name or any of B's settlement-list ids; B's hospital page, one of B's cases
// and one of B's uploads (URLs found as the admin beforehand) answer 404/403 with the #error
// page. Bureau-only pages refuse the roles that may not see them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixture, launch, newPage, login, shot, noJsErrors, expectErrorPage } from './lib.mjs';

const fx = fixture();
const bIds = new Set(JSON.parse(readFileSync(fx.hospitalBListIdsFile, 'utf8')));
const aIds = new Set(JSON.parse(readFileSync(fx.hospitalAListIdsFile, 'utf8')));
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Tokens of a page (ids, codes) — compared as whole tokens, never as substrings. */
function tokens(html) {
  return new Set(html.match(/[0-9A-Za-z_-]+/g) || []);
}

/** What of hospital B a page's HTML shows (empty = nothing). */
function leaksOfB(html) {
  const found = [];
  const t = tokens(html);
  if (t.has(fx.hospitalB)) found.push(`code ${fx.hospitalB}`);
  if (fx.hospitalBName && html.includes(fx.hospitalBName)) found.push(`name ${fx.hospitalBName}`);
  for (const id of t) if (bIds.has(id)) found.push(`list ${id}`);
  return found;
}

let bUrls; // found as the admin
let tierB; // B's tier, as the admin sees it on the dashboard

test('管理员找到医院 B 的医院页、病例与上传记录', async () => {
  const { context, page } = await newPage(browser, fx);
  await login(page, fx.users.admin);
  tierB = (await page.locator('#tbl-hospitals tbody tr', { has: page.locator(`td:nth-child(2):text-is("${fx.hospitalB}")`) }).locator('td:nth-child(3)').innerText()).trim();
  const resp = await page.goto(`/hospitals/${encodeURIComponent(fx.hospitalB)}`);
  assert.equal(resp.status(), 200);
  assert.match(await page.innerText('#hospital-info'), new RegExp(`编号 ${fx.hospitalB}`));
  const caseHref = await page.locator('#tbl-cases tbody tr td:first-child a').first().getAttribute('href');
  const casePrefix = `/cases/${encodeURIComponent(fx.hospitalB)}/`;
  assert.ok(caseHref.startsWith(casePrefix), `${caseHref} names hospital B`);
  assert.ok(bIds.has(decodeURIComponent(caseHref.slice(casePrefix.length))), `${caseHref} is one of B's lists`);
  await page.goto('/uploads');
  const uploadHref = await page.locator('#tbl-uploads tbody tr', { has: page.locator(`td:nth-child(2):text-is("${fx.hospitalB}")`) }).first().locator('a[href^="/uploads/"]').getAttribute('href');
  bUrls = { hospital: `/hospitals/${encodeURIComponent(fx.hospitalB)}`, case: caseHref, upload: uploadHref };
  await shot(page, 'd-isolation', 'admin-sees-B');
  await context.close();
});

test('医院 A 用户：导航可达页面不出现医院 B 的任何数据', async () => {
  assert.ok(bUrls, 'B URLs found as admin');
  const { context, page } = await newPage(browser, fx);
  await login(page, fx.users.hospitalA);
  assert.match(await page.innerText('#who'), new RegExp(fx.hospitalA));
  const nav = await page.locator('header nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  for (const p of ['/monitor', '/hospital', '/uploads', '/review', '/statements']) assert.ok(nav.includes(p), `nav has ${p}`);
  for (const p of ['/runs', '/audit-log']) assert.ok(!nav.includes(p), `nav hides ${p}`);

  const MAX_PAGES = 80;
  const CASES_PER_PAGE = 5;
  const seen = new Set();
  const queue = nav.map((href) => ({ href, depth: 0 }));
  // the dashboard at every level and the tier filter of B's tier are reachable through the form
  queue.push({ href: '/monitor?level=tier', depth: 1 }, { href: '/monitor?level=hospital', depth: 1 });
  if (tierB) queue.push({ href: `/monitor?level=hospital&tier=${encodeURIComponent(tierB)}`, depth: 1 });
  const leaks = [];
  let aSeen = 0;
  while (queue.length && seen.size < MAX_PAGES) {
    const { href, depth } = queue.shift();
    const key = href.replace(/#.*$/, '');
    if (seen.has(key)) continue;
    seen.add(key);
    const resp = await page.goto(key);
    assert.ok(resp.status() < 500, `${key}: status ${resp.status()}`);
    assert.ok(!new URL(page.url()).pathname.startsWith('/login'), `${key}: session kept`);
    const html = await page.content();
    const l = leaksOfB(html);
    if (l.length) leaks.push(`${key}: ${l.slice(0, 5).join(', ')}`);
    for (const id of tokens(html)) if (aIds.has(id)) aSeen += 1;
    if (depth >= 2) continue;
    const links = await page.locator('main a[href^="/"], header nav a[href^="/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    let cases = 0;
    for (const h of links) {
      if (/^\/(export|statements\/export|logout)/.test(h) || /\.xlsx(\?|$)/.test(h)) continue;
      if (h.startsWith('/cases/') && ++cases > CASES_PER_PAGE) continue;
      queue.push({ href: h, depth: depth + 1 });
    }
  }
  assert.deepEqual(leaks, [], 'pages showing hospital B');
  assert.ok(seen.size >= 15, `crawl visited ${seen.size} pages`);
  assert.ok(aSeen > 0, 'the crawl saw hospital A\'s own lists (it is not vacuous)');
  console.log(`# isolation crawl: ${seen.size} pages as ${fx.users.hospitalA.login}, ${aSeen} mentions of A's lists, none of B`);

  await page.goto('/hospital');
  assert.match(await page.innerText('#hospital-info'), new RegExp(`编号 ${fx.hospitalA}`));
  await shot(page, 'd-isolation', 'hospitalA-own-view');
  await page.goto('/uploads');
  assert.equal(await page.locator('#upload-form select[name=hospital]').count(), 0, 'no hospital choice for a hospital user');
  assert.equal(await page.locator('#upload-form input[type=hidden][name=hospital]').getAttribute('value'), fx.hospitalA);
  const upHospitals = await page.locator('#tbl-uploads tbody tr td:nth-child(2)').allInnerTexts();
  assert.ok(upHospitals.length > 0 && upHospitals.every((h) => h === fx.hospitalA), 'only A\'s uploads listed');
  await shot(page, 'd-isolation', 'hospitalA-uploads');
  await page.goto('/statements');
  const stHospitals = await page.locator('#tbl-statements tbody tr td:nth-child(1)').allInnerTexts();
  assert.deepEqual(stHospitals, [fx.hospitalA], 'only A\'s statement');
  assert.equal(await page.locator('#stmt-summary').count(), 0, 'no region totals for a hospital user');
  await shot(page, 'd-isolation', 'hospitalA-statements');
  const statementPeriod = new URL(await page.getAttribute('#stmt-export', 'href'), fx.base).searchParams.get('period');
  await page.goto('/review');
  assert.equal(await page.locator('form.decide').count(), 0, 'a hospital user cannot decide');
  const rvHospitals = await page.locator('#tbl-review tbody tr td:nth-child(3)').allInnerTexts();
  assert.ok(rvHospitals.every((h) => h === fx.hospitalA), 'only A\'s flags');

  // B's URLs, typed directly
  for (const [what, url] of Object.entries(bUrls)) {
    const resp = await page.goto(url);
    const msg = await expectErrorPage(page, resp, [403, 404], `B's ${what} ${url}`);
    assert.deepEqual(leaksOfB(await page.content()), [], `${url} error page`);
    assert.ok(msg.length > 0);
    await shot(page, 'd-isolation', `hospitalA-denied-B-${what}`);
  }
  const resp = await page.goto(`/statements/export.xlsx?period=${encodeURIComponent(statementPeriod)}&hospital=${encodeURIComponent(fx.hospitalB)}`);
  await expectErrorPage(page, resp, [403, 404], 'B\'s statement export');
  for (const url of ['/runs', '/audit-log']) {
    const r = await page.goto(url);
    await expectErrorPage(page, r, [403], `hospital user ${url}`);
  }
  noJsErrors(page);
  await context.close();
});

test('医保局分析员与审核员不能运行年度计算、查看操作日志', async () => {
  for (const who of ['analyst', 'auditor']) {
    const { context, page } = await newPage(browser, fx);
    await login(page, fx.users[who]);
    const nav = await page.locator('header nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(!nav.includes('/runs') && !nav.includes('/audit-log'), `${who} nav`);
    for (const url of ['/runs', '/audit-log']) {
      const r = await page.goto(url);
      await expectErrorPage(page, r, [403], `${who} ${url}`);
      if (who === 'analyst' && url === '/runs') await shot(page, 'd-isolation', 'analyst-denied-runs');
    }
    await page.goto('/uploads');
    assert.equal(await page.locator('#upload-form').count(), 0, `${who} has no upload form`);
    noJsErrors(page);
    await context.close();
  }
});
