/**
 * The example app driven by a real browser (headless Chromium through playwright-core): sign-in with a
 * two-factor challenge, a wrong code, an HTML Reply-Message that must stay text, and a form posted from
 * another origin. Screenshots of each page go to a temp folder printed at the start.
 *
 * UPDATE_SCREENSHOTS=1 also copies the challenge page to docs/challenge-page.png (for the README).
 */
import { strict as assert } from 'node:assert';
import { copyFile, mkdtemp } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Dialog, Page } from 'playwright-core';
import type { RadiusStrategy } from '../lib';
import { RadiusTestServer } from '../lib/testing';
import { createApp } from '../example/app';
import { describeBrowser, launchChromium } from './support/browser';
import { closeHttp, listenHttp } from './support/http';

const SECRET = 'browser-test-secret';
const CAROL = { password: 'carol-password', code: '123456', prompt: 'Enter the code sent to your phone', state: Buffer.from('00ff80fe0d0a2200c3', 'hex') };
const ALICE = { password: 'alice-password' };
const HOSTILE_PROMPT = '<img src=x onerror=alert(1)>';

describeBrowser('the example app in a real browser (headless Chromium)', function () {
  this.timeout(30000);
  let radius: RadiusTestServer;
  let strategy: RadiusStrategy;
  let app: { server: Server; url: string };
  let browser: Browser;
  let screens: string;
  let context: BrowserContext;
  let page: Page;
  let dialogs: string[];

  before(async function () {
    radius = new RadiusTestServer({
      secret: SECRET,
      users: {
        alice: { password: ALICE.password, replyMessage: 'Welcome alice' },
        carol: { password: CAROL.password, challenge: [{ code: CAROL.code, prompt: CAROL.prompt, echo: false, state: CAROL.state }], replyMessage: 'Welcome carol' },
        mallory: { password: 'mallory-password', challenge: [{ code: '999999', prompt: HOSTILE_PROMPT, echo: true }] },
      },
    });
    const { address } = await radius.listen();
    const built = createApp({
      servers: [{ name: 'demo', address, secret: SECRET, attributes: { 'NAS-Identifier': 'passport-test' } }],
      sessionSecret: 'browser test',
    });
    strategy = built.strategy;
    app = await listenHttp(built.app);
    screens = await mkdtemp(join(tmpdir(), 'passport-radius-screens-'));
    console.log(`      screenshots: ${screens}`);
    browser = await launchChromium();
  });

  beforeEach(async function () {
    context = await browser.newContext({ viewport: { width: 640, height: 480 } });
    page = await context.newPage();
    dialogs = [];
    page.on('dialog', (dialog: Dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });

  afterEach(async function () {
    await context?.close();
  });

  after(async function () {
    await browser?.close();
    await closeHttp(app?.server);
    await strategy?.close();
    await radius?.close();
  });

  async function shot(name: string): Promise<string> {
    const file = join(screens, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  async function focusedId(): Promise<string | null> {
    return page.locator(':focus').getAttribute('id');
  }

  async function signInWithPassword(username: string, password: string): Promise<void> {
    await page.goto(`${app.url}/login`);
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('signs in with the password and a masked code, shows the account, and signs out', async function () {
    await page.goto(`${app.url}/login`);
    assert.equal(await page.title(), 'Sign in');
    assert.equal(await focusedId(), 'username', 'the user name field has the focus');
    assert.equal(await page.getByLabel('Password').getAttribute('type'), 'password');
    assert.equal(await page.getByLabel('Password').getAttribute('autocomplete'), 'current-password');
    await shot('01-login');

    await page.getByLabel('User name').fill('carol');
    await page.getByLabel('Password').fill(CAROL.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${app.url}/login/challenge`);

    assert.equal(await page.title(), 'Two-step verification');
    assert.equal(await page.locator('#prompt').textContent(), CAROL.prompt);
    const code = page.getByLabel('Code', { exact: true });
    assert.equal(await code.getAttribute('type'), 'password', 'Prompt No-Echo masks the code');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await code.getAttribute('autofocus'), '');
    assert.equal(await focusedId(), 'code', 'the code field has the focus');
    const challengeShot = await shot('02-challenge');
    if (process.env.UPDATE_SCREENSHOTS === '1') await copyFile(challengeShot, resolve('docs', 'challenge-page.png'));

    const before = radius.received.length;
    await page.keyboard.type(CAROL.code); // straight into the focused field
    await page.keyboard.press('Enter');
    await page.waitForURL(`${app.url}/account`);
    const followUp = radius.received.slice(before);
    assert.equal(followUp.length, 1);
    assert.equal(followUp[0]!.password, CAROL.code);
    assert.deepEqual(followUp[0]!.state, CAROL.state, 'the State went back byte for byte');
    assert.equal(await page.title(), 'Account');
    assert.equal(await page.locator('#username').textContent(), 'carol');
    assert.equal(await page.locator('#server').textContent(), 'demo');
    await shot('03-account');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${app.url}/login`);
    await page.goto(`${app.url}/account`);
    assert.equal(page.url(), `${app.url}/login`, 'signed out: /account sends back to /login');
    assert.deepEqual(dialogs, []);
  });

  it('shows the error message for a wrong code and does not sign in', async function () {
    await signInWithPassword('carol', CAROL.password);
    await page.waitForURL(`${app.url}/login/challenge`);
    await page.getByLabel('Code', { exact: true }).fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${app.url}/login`);
    const alert = page.getByRole('alert');
    assert.equal(await alert.textContent(), 'That code was not accepted. Sign in again to get a new code.');
    await shot('04-wrong-code');
    await page.goto(`${app.url}/account`);
    assert.equal(page.url(), `${app.url}/login`);
  });

  it('shows a Reply-Message holding HTML as text and never runs it', async function () {
    // Escaping alone must hold: this context ignores the app's Content-Security-Policy (tested below).
    await context.close();
    context = await browser.newContext({ viewport: { width: 640, height: 480 }, bypassCSP: true });
    page = await context.newPage();
    page.on('dialog', (dialog: Dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await signInWithPassword('mallory', 'mallory-password');
    await page.waitForURL(`${app.url}/login/challenge`);
    await page.waitForLoadState('load');
    assert.equal(await page.locator('#prompt').textContent(), HOSTILE_PROMPT);
    assert.equal(await page.locator('img').count(), 0, 'the Reply-Message became an element');
    assert.equal(await page.getByLabel('Code', { exact: true }).getAttribute('type'), 'text', 'Prompt Echo shows the code');
    await new Promise((done) => setTimeout(done, 300)); // time for a (failed) image load to fire onerror
    await shot('05-html-reply-message');
    assert.deepEqual(dialogs, [], 'a script from the Reply-Message ran');

    // The detector works: the same text parsed as HTML does open a dialog.
    await page.evaluate(`document.body.insertAdjacentHTML('beforeend', ${JSON.stringify(HOSTILE_PROMPT)})`);
    const start = Date.now();
    while (dialogs.length === 0 && Date.now() - start < 5000) await new Promise((done) => setTimeout(done, 20));
    assert.deepEqual(dialogs, ['1']);
  });

  it("also blocks inline script through helmet's Content-Security-Policy (defence in depth)", async function () {
    await signInWithPassword('mallory', 'mallory-password');
    await page.waitForURL(`${app.url}/login/challenge`);
    await page.evaluate(`document.body.insertAdjacentHTML('beforeend', ${JSON.stringify(HOSTILE_PROMPT)})`);
    assert.equal(await page.locator('img').count(), 1, 'the hostile element was inserted');
    await new Promise((done) => setTimeout(done, 500)); // time for the failed image load to fire onerror
    assert.deepEqual(dialogs, [], 'an inline event handler ran despite the Content-Security-Policy');
  });

  it('refuses a sign-in form posted from another origin (CSRF) and sends nothing to RADIUS', async function () {
    // A page on another origin (same host, other port: same-site but cross-origin) posting to /login.
    const evil = await listenHttp((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<!doctype html><title>elsewhere</title><form method="post" action="${app.url}/login">` +
          `<input name="username" value="alice"><input name="password" value="${ALICE.password}"><button>Go</button></form>`,
      );
    });
    try {
      const before = radius.received.length;
      await page.goto(evil.url);
      const [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Go' }).click()]);
      assert.equal(response?.status(), 403);
      assert.equal(await page.getByRole('alert').textContent(), 'This form was sent from another site, so it was not accepted.');
      await shot('06-cross-origin-refused');
      assert.equal(radius.received.length, before, 'the forged sign-in reached RADIUS');
      await page.goto(`${app.url}/account`);
      assert.equal(page.url(), `${app.url}/login`, 'the forged sign-in signed the browser in');

      // The same form on the app's own origin goes through (alice has no second factor).
      await signInWithPassword('alice', ALICE.password);
      await page.waitForURL(`${app.url}/account`);
    } finally {
      await closeHttp(evil.server);
    }
  });
});
