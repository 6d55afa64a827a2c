// (a) Login: a wrong password shows the error and keeps the user out; the right one lands on
// /monitor with a session cookie that is HttpOnly, SameSite=Strict (and Secure unless the
// server was started with --insecure-cookies); logout ends the session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, launch, newPage, shot, noJsErrors } from './lib.mjs';

const fx = fixture();
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('未登录访问页面跳转到登录页', async () => {
  const { context, page } = await newPage(browser, fx);
  await page.goto('/monitor');
  assert.match(new URL(page.url()).pathname, /^\/login$/);
  await shot(page, 'a-login', 'login-page');
  noJsErrors(page);
  await context.close();
});

test('密码错误显示错误提示，密码正确进入运行监测', async () => {
  const { context, page } = await newPage(browser, fx);
  const admin = fx.users.admin;
  await page.goto('/login');
  await page.fill('#login-form input[name=login]', admin.login);
  await page.fill('#login-form input[name=password]', admin.password + '-wrong');
  const [resp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'), page.click('#login-submit')]);
  assert.equal(resp.status(), 401);
  await page.waitForSelector('#login-error');
  assert.equal((await page.innerText('#login-error')).trim(), '用户名或密码不正确');
  assert.equal((await context.cookies()).filter((c) => c.name === 'casemix_session').length, 0, 'no session cookie after a wrong password');
  await shot(page, 'a-login', 'wrong-password');

  await page.fill('#login-form input[name=login]', admin.login);
  await page.fill('#login-form input[name=password]', admin.password);
  await Promise.all([page.waitForURL('**/monitor**'), page.click('#login-submit')]);
  assert.equal(new URL(page.url()).pathname, '/monitor');
  assert.match(await page.innerText('#who'), /医保局管理员/);
  const cookie = (await context.cookies()).find((c) => c.name === 'casemix_session');
  assert.ok(cookie, 'session cookie set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.secure, !fx.insecureCookies, 'Secure flag of the session cookie');
  await shot(page, 'a-login', 'logged-in-monitor');

  await Promise.all([page.waitForURL('**/login'), page.click('#logout')]);
  await page.goto('/monitor');
  assert.equal(new URL(page.url()).pathname, '/login', 'after logout the session is gone');
  noJsErrors(page);
  await context.close();
});
