// Shared helpers of the browser tests: the fixture written by scripts/browser-test.sh, Debian's
// headless chromium driven by playwright-core, login, screenshots, and page-level checks.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The fixture (base URL, logins, hospitals A/B, held-back upload, B's list ids). */
export function fixture() {
  const p = process.env.CASEMIX_BROWSER_FIXTURE;
  if (!p) throw new Error('CASEMIX_BROWSER_FIXTURE 未设置：请用 scripts/browser-test.sh 运行浏览器测试');
  return JSON.parse(readFileSync(p, 'utf8'));
}

export const ARTIFACTS = process.env.ARTIFACTS || 'target/browser-artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

/** Debian's chromium, headless; no browser is downloaded by playwright-core. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/**
 * A fresh browser context (own cookie jar) and page. Every uncaught script error and every
 * console error of the page is collected in `page.jsErrors` (asserted empty by `noJsErrors`).
 */
export async function newPage(browser, fx) {
  const context = await browser.newContext({ baseURL: fx.base, locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  page.jsErrors = [];
  page.on('pageerror', (e) => page.jsErrors.push(`pageerror ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    // a 4xx/5xx document is reported by chromium as a console error "Failed to load resource";
    // the tests check statuses themselves, so only script errors count here
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) page.jsErrors.push(`console ${page.url()}: ${m.text()}`);
  });
  return { context, page };
}

export function noJsErrors(page) {
  assert.deepEqual(page.jsErrors, [], 'page script errors');
}

let shotNo = 0;
/** A full-page PNG in $ARTIFACTS, named `<file prefix>-<nn>-<step>.png`. */
export async function shot(page, prefix, step) {
  shotNo += 1;
  const path = join(ARTIFACTS, `${prefix}-${String(shotNo).padStart(2, '0')}-${step}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Logs in through the form and waits for the dashboard. */
export async function login(page, user) {
  await page.goto('/login');
  await page.fill('#login-form input[name=login]', user.login);
  await page.fill('#login-form input[name=password]', user.password);
  await Promise.all([page.waitForURL('**/monitor**'), page.click('#login-submit')]);
}

/** Escapes a string for a RegExp. */
export function reEscape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `text` contains `token` as a whole word (not inside a longer code or id). */
export function containsToken(text, token) {
  return new RegExp(`(^|[^0-9A-Za-z_-])${reEscape(token)}($|[^0-9A-Za-z_-])`).test(text);
}

/**
 * Asserts that a page answered `status` in `allowed` and rendered the #error page.
 */
export async function expectErrorPage(page, resp, allowed, what) {
  assert.ok(resp, `${what}: no response`);
  assert.ok(allowed.includes(resp.status()), `${what}: status ${resp.status()}, expected one of ${allowed}`);
  const err = page.locator('#error');
  assert.equal(await err.count(), 1, `${what}: no #error element`);
  const msg = (await err.innerText()).trim();
  assert.ok(msg.length > 0, `${what}: empty error message`);
  return msg;
}
