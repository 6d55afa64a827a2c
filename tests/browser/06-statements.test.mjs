// (f) Settlement statements: the page lists every hospital for the bureau, balances, and its
// export link answers an xlsx (content type, a ZIP body); a hospital's own export too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, launch, newPage, login, shot, noJsErrors } from './lib.mjs';

const fx = fixture();
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

async function expectXlsx(page, href, what) {
  const r = await page.request.get(href);
  assert.equal(r.status(), 200, `${what}: ${href}`);
  assert.equal(r.headers()['content-type'], XLSX, `${what}: content type`);
  assert.match(r.headers()['content-disposition'] || '', /attachment/);
  const body = await r.body();
  assert.ok(body.length > 1000, `${what}: ${body.length} bytes`);
  assert.equal(body.subarray(0, 4).toString('latin1'), 'PK\u0003\u0004', `${what}: a ZIP (xlsx) body`);
  return body;
}

test('结算单页面与 Excel 导出', async () => {
  const { context, page } = await newPage(browser, fx);
  await login(page, fx.users.analyst);
  await page.goto('/statements');
  const rows = await page.locator('#tbl-statements tbody tr td:nth-child(1)').allInnerTexts();
  assert.deepEqual([...rows].sort(), [...fx.hospitals].sort(), 'one statement per hospital');
  assert.equal((await page.innerText('#stmt-balances')).trim(), '平衡到分');
  await shot(page, 'f-statements', 'statements');
  const href = await page.getAttribute('#stmt-export', 'href');
  assert.match(href, /^\/statements\/export\.xlsx\?period=/);
  await expectXlsx(page, href, 'region export');
  // the period selector offers the monthly statements and the year clearing
  const periods = await page.locator('form[action="/statements"] select[name=period] option').allInnerTexts();
  assert.ok(periods.some((p) => /年终清算/.test(p)) && periods.some((p) => /月度结算/.test(p)), periods.join(','));
  noJsErrors(page);
  await context.close();
});

test('医院用户导出本院结算单', async () => {
  const { context, page } = await newPage(browser, fx);
  await login(page, fx.users.hospitalA);
  await page.goto('/statements');
  const href = await page.getAttribute('#stmt-export', 'href');
  await expectXlsx(page, href, 'hospital A export');
  noJsErrors(page);
  await context.close();
});
