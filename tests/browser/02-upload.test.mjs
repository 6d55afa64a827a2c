// (b) Upload: as the bureau admin, upload the month of hospital A that the setup held back
// (#upload-form) → job page → the upload's page with the QC report: #qc-cards, #qc-lists equal
// to the number of lists in the file, the per-rule table #tbl-qc-rules; the upload is listed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, launch, newPage, login, shot, noJsErrors } from './lib.mjs';

const fx = fixture();
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('管理员上传医院 A 的一个月结算清单并看到质控报告', async () => {
  const { context, page } = await newPage(browser, fx);
  await login(page, fx.users.admin);
  await page.goto('/uploads');
  await page.waitForSelector('#upload-form');
  await page.selectOption('#upload-form select[name=hospital]', fx.hospitalA);
  await page.fill('#upload-form input[name=period]', fx.holdback.period);
  await page.setInputFiles('#upload-form input[name=file]', fx.holdback.file);
  await shot(page, 'b-upload', 'form-filled');

  // POST /uploads → /jobs/<id> (refreshes every second while running) → /uploads/<id> when done
  const seen = [];
  // navigation requests, redirects included: a quick job answers /jobs/<id> with a redirect to
  // its result before the page ever renders, so committed navigations alone may skip it
  page.on('request', (r) => { if (r.isNavigationRequest() && r.frame() === page.mainFrame()) seen.push(new URL(r.url()).pathname); });
  await page.click('#upload-submit');
  await page.waitForURL(/\/(jobs|uploads)\/\d+$/, { timeout: 30_000 });
  if (/\/jobs\/\d+$/.test(new URL(page.url()).pathname)) {
    await shot(page, 'b-upload', 'job-progress');
    assert.equal(await page.locator('#job-failed').count(), 0, await page.locator('main').innerText());
  }
  await page.waitForURL(/\/uploads\/\d+$/, { timeout: 60_000 });
  assert.ok(seen.some((p) => /^\/jobs\/\d+$/.test(p)), `went through the job page: ${seen.join(' → ')}`);
  const uploadId = new URL(page.url()).pathname.split('/').pop();

  await page.waitForSelector('#qc-cards');
  assert.match(await page.innerText('h1'), new RegExp(`上传 #${uploadId}`));
  assert.equal((await page.innerText('#qc-lists')).trim(), String(fx.holdback.lists), '#qc-lists = lists in the uploaded file');
  const errorLists = Number((await page.innerText('#qc-error-lists')).trim());
  assert.ok(Number.isInteger(errorLists) && errorLists >= 0 && errorLists <= fx.holdback.lists, `#qc-error-lists ${errorLists}`);
  assert.match((await page.innerText('#qc-pass')).trim(), /^\d+(\.\d)?%$/);
  assert.equal(await page.locator('#tbl-qc-rules').count(), 1);
  const ruleRows = await page.locator('#tbl-qc-rules tbody tr').count();
  const findingRows = await page.locator('#tbl-qc-findings tbody tr').count();
  // the synthetic region injects coding errors, so a month of a hospital has QC findings
  assert.ok(ruleRows > 0, 'QC rules table has rows');
  assert.ok(findingRows >= ruleRows, 'findings listed');
  const ruleCount = (await page.locator('#tbl-qc-rules tbody tr td:nth-child(4)').allInnerTexts()).reduce((s, t) => s + Number(t), 0);
  if (findingRows < 2000) assert.equal(ruleCount, findingRows, 'per-rule counts add up to the listed findings');
  assert.match(await page.locator('main').innerText(), new RegExp(`医院 ${fx.hospitalA}，期间 ${fx.holdback.period}`));
  await shot(page, 'b-upload', 'qc-report');

  await page.goto('/uploads');
  const row = page.locator('#tbl-uploads tbody tr', { has: page.locator(`a[href="/uploads/${uploadId}"]`) });
  assert.equal(await row.count(), 1, 'the upload is listed');
  const cells = await row.locator('td').allInnerTexts();
  assert.equal(cells[1], fx.hospitalA);
  assert.equal(cells[2], fx.holdback.period);
  assert.equal(Number(cells[4]), fx.holdback.lists, 'record count');
  assert.equal(Number(cells[5]), fx.holdback.lists, 'all new (the month was held back from the import)');
  await shot(page, 'b-upload', 'uploads-list');
  noJsErrors(page);
  await context.close();
});
