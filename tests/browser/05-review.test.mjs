// (e) The auditor confirms one flag in /review with a reason; the decision and the reason show
// in the queue, the flag leaves the pending count and is found under 已确认.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, launch, newPage, login, shot, noJsErrors } from './lib.mjs';

const fx = fixture();
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('审核员确认一条审核标记并填写理由', async () => {
  const { context, page } = await newPage(browser, fx);
  await login(page, fx.users.auditor);
  await page.goto('/review?status=pending');
  const total = Number(await page.innerText('#review-total'));
  const pending = Number(await page.innerText('#review-pending'));
  assert.ok(total > 0, 'the run produced audit flags');
  assert.ok(pending > 0 && pending <= total);
  await shot(page, 'e-review', 'queue');

  const row = page.locator('#tbl-review tbody tr', { has: page.locator('form.decide') }).first();
  const flagId = (await row.locator('td:nth-child(2)').innerText()).trim();
  const reason = `浏览器测试：核实病历后确认 ${flagId}`;
  await row.locator('input[name=reason]').fill(reason);
  await Promise.all([page.waitForURL(/\/review(\?|$)/), row.locator('button[name=decision][value=confirm]').click()]);
  assert.equal(Number(await page.innerText('#review-pending')), pending - 1, 'one flag less pending');

  await page.goto('/review?status=confirmed');
  const done = page.locator('#tbl-review tbody tr', { has: page.locator(`td:nth-child(2):text-is("${flagId}")`) });
  assert.equal(await done.count(), 1, `${flagId} listed as confirmed`);
  const cell = await done.locator('td:nth-child(9)').innerText();
  assert.match(cell, /已确认/);
  assert.ok(cell.includes(`${fx.users.auditor.login}：${reason}`) || cell.includes(reason), `decision shows the reason: ${cell}`);
  await shot(page, 'e-review', 'confirmed');

  // the case page lists the flag
  const caseHref = await done.locator('td:nth-child(4) a').getAttribute('href');
  await page.goto(caseHref);
  assert.match(await page.innerText('#tbl-case-flags'), new RegExp(flagId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  noJsErrors(page);
  await context.close();
});

test('审核复核需要理由：空理由不能提交', async () => {
  const { context, page } = await newPage(browser, fx);
  await login(page, fx.users.auditor);
  await page.goto('/review?status=pending');
  const row = page.locator('#tbl-review tbody tr', { has: page.locator('form.decide') }).first();
  const before = Number(await page.innerText('#review-pending'));
  await row.locator('button[name=decision][value=dismiss]').click();
  // the browser's own validation (required) keeps the form from being sent
  assert.equal(await row.locator('input[name=reason]').evaluate((i) => i.validity.valueMissing), true);
  await page.goto('/review');
  assert.equal(Number(await page.innerText('#review-pending')), before);
  noJsErrors(page);
  await context.close();
});
