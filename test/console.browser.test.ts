/**
 * The seed's steps 2–4 on the example console, in headless Chromium, against a real FreeRADIUS 3.2:
 * an admin adds the server (the address test says "testing…", then "Failed" for a wrong port and
 * "Reachable" for the right one), makes an organization use it and a child organization inherit it,
 * their test users sign in (with the Access-Challenge flow), and stopping the server raises an alert.
 *
 * UPDATE_SCREENSHOTS=1 copies the screenshots of each page to docs/ (shown in the README).
 */
import { strict as assert } from 'node:assert';
import { copyFile, mkdtemp } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApp, type ExampleApp } from '../example/app';
import { DEMO_USERS, startDemo, type Demo } from '../example/demo';
import { MemorySettingsStore } from '../example/settings-store';
import { describeBrowser, launchChromium } from './support/browser';
import { startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { freeUdpPort } from './support/ports';
import { describeRequiring } from './support/requirements';
import { FortiAuthenticatorProfile, RadiusTestServer } from '../lib/testing';
import { freeradiusAvailable } from './support/freeradius';
import { closeHttp, listenHttp } from './support/http';

const NAS = 'passport-test';

describeBrowser('the example console in a real browser: the seed\'s steps 2–4', function () {
  describeRequiring(
    { available: freeradiusAvailable(), what: 'FreeRADIUS', requireVar: 'REQUIRE_FREERADIUS', install: 'install the freeradius package', skipping: 'the console walk-through' },
    'against FreeRADIUS',
    function () {
      this.timeout(60000);
      let fr: FreeRadiusServer;
      let demo: Demo;
      let built: ExampleApp;
      let http: Server;
      let url: string;
      let browser: Browser;
      let screens: string;
      let admin: BrowserContext;
      let adminPage: Page;

      before(async function () {
        [fr, demo] = await Promise.all([startFreeRadius({ statusServer: true, secret: 'console-browser-secret-16' }), startDemo()]);
        built = createApp({ settings: demo.settings, settingsStore: new MemorySettingsStore(), sessionSecret: 'console browser test' });
        ({ server: http, url } = await listenHttp(built.app));
        screens = await mkdtemp(join(tmpdir(), 'passport-radius-console-'));
        console.log(`      screenshots: ${screens}`);
        browser = await launchChromium();
        admin = await browser.newContext({ viewport: { width: 1100, height: 760 } });
        adminPage = await admin.newPage();
      });

      after(async function () {
        await browser?.close();
        await closeHttp(http);
        await built?.close();
        await demo?.close();
        await fr?.stop();
      });

      /** Saves a full-page screenshot; with UPDATE_SCREENSHOTS=1 also as docs/console-NAME.png. */
      async function shot(page: Page, name: string): Promise<void> {
        const file = join(screens, `${name}.png`);
        await page.screenshot({ path: file, fullPage: true });
        if (process.env.UPDATE_SCREENSHOTS === '1') await copyFile(file, resolve('docs', `console-${name}.png`));
      }

      /** Asserts that the table `selector` fits windows 1100 and 800 px wide: no overflow of the page, its frame or a cell. */
      async function assertTableFits(page: Page, selector: string): Promise<void> {
        for (const width of [1100, 800]) {
          await page.setViewportSize({ width, height: 700 });
          const overflow = await page.evaluate(`(() => {
            const table = document.querySelector(${JSON.stringify(selector)});
            const wrap = table.closest('.table-wrap');
            const cells = [...table.querySelectorAll('th, td')].filter((c) => c.scrollWidth > c.clientWidth + 1);
            return { page: Math.max(0, document.documentElement.scrollWidth - window.innerWidth), frame: Math.max(0, wrap.scrollWidth - wrap.clientWidth), cells: cells.map((c) => c.textContent) };
          })()`);
          assert.deepEqual(overflow, { page: 0, frame: 0, cells: [] }, `${selector} does not fit a ${width} px window`);
        }
        await page.setViewportSize({ width: 1100, height: 760 });
      }

      async function signIn(page: Page, username: string, password: string): Promise<void> {
        await page.goto(`${url}/login`);
        await page.getByLabel('User name').fill(username);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Sign in' }).click();
      }

      /** Every text the address test shows, in order (a MutationObserver, so a short "testing…" is seen too). */
      async function watchTestResult(page: Page): Promise<() => Promise<string[]>> {
        await page.evaluate(`(() => {
          const el = document.getElementById('address-test');
          window.__seen = [];
          new MutationObserver(() => window.__seen.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
        })()`);
        return () => page.evaluate('window.__seen') as Promise<string[]>;
      }

      it('step 2: the admin adds the FreeRADIUS server; its address is tested as typed ("testing…", then "Failed" or "Reachable")', async function () {
        await signIn(adminPage, DEMO_USERS.alice.username, DEMO_USERS.alice.password);
        await adminPage.waitForURL(`${url}/account`);
        await shot(adminPage, 'account');
        await adminPage.getByRole('link', { name: 'RADIUS servers' }).first().click();
        await adminPage.waitForURL(`${url}/settings/radius`);
        await adminPage.getByRole('link', { name: 'Add' }).click();
        await adminPage.getByLabel('Server name').fill('corp-freeradius');
        await adminPage.getByLabel('Shared secret', { exact: true }).fill(fr.secret);
        await adminPage.getByLabel('Attributes').fill(`NAS-Identifier = ${NAS}`);
        await adminPage.getByLabel('Timeout seconds').fill('3');
        await adminPage.getByRole('radio', { name: /^CHAP/ }).check();
        const seen = await watchTestResult(adminPage);
        const result = adminPage.locator('#address-test');

        // A port where nothing listens: "Failed", with why.
        const closed = await freeUdpPort();
        await adminPage.getByLabel('Address').pressSequentially(`127.0.0.1:${closed}`);
        await result.filter({ hasText: /^Failed/ }).waitFor();
        assert.match((await result.textContent())!, /^Failed: .*unreachable|^Failed: /i);
        assert.equal(await result.getAttribute('class'), 'test-result failed');

        // The real address: "testing…", then "Reachable (N ms)".
        await adminPage.getByLabel('Address').fill('');
        await adminPage.getByLabel('Address').pressSequentially(fr.address);
        await result.filter({ hasText: /^Reachable/ }).waitFor();
        assert.match((await result.textContent())!, /^Reachable \(\d+ ms\)$/);
        const texts = await seen();
        const lastTesting = texts.lastIndexOf('testing…');
        assert.ok(lastTesting >= 0 && /^Reachable/.test(texts.at(-1)!), `the test result went ${JSON.stringify(texts)}`);
        await shot(adminPage, 'server-add');

        // "Test" does the same on demand.
        await adminPage.getByRole('button', { name: 'Test' }).click();
        const testsBefore = texts.filter((t) => t === 'testing…').length;
        for (let i = 0; i < 100 && !((await seen()).filter((t) => t === 'testing…').length > testsBefore && /^Reachable/.test((await seen()).at(-1) ?? '')); i++) {
          await new Promise((done) => setTimeout(done, 50));
        }
        assert.match((await seen()).at(-1)!, /^Reachable/);
        assert.equal((await seen()).filter((t) => t === 'testing…').length, testsBefore + 1, '"Test" ran the test again');

        await adminPage.getByRole('button', { name: 'Save' }).click();
        await adminPage.waitForURL(`${url}/settings/radius`);
        assert.equal(await adminPage.getByRole('status').textContent(), 'Saved corp-freeradius.');
        const row = adminPage.locator('#servers tbody tr', { hasText: 'corp-freeradius' });
        assert.match((await row.textContent())!, new RegExp(`${fr.address.replace(/\./g, '\\.')}[\\s\\S]*CHAP[\\s\\S]*3 s`));
        assert.deepEqual(built.radius.strategy.client.serverNames, ['system', 'acme-2fa', 'corp-freeradius']);
        await adminPage.getByRole('link', { name: 'Edit' }).last().click();
        assert.equal(await adminPage.getByLabel('Shared secret', { exact: true }).inputValue(), '', 'the shared secret is write-only');
        assert.ok(!(await adminPage.content()).includes(fr.secret), 'the shared secret was sent back to the browser');
        await adminPage.goto(`${url}/settings/radius`);
        await built.monitor.checkNow();
        await adminPage.reload();
        await assertTableFits(adminPage, '#servers');
        await shot(adminPage, 'servers');
      });

      it('step 3: an organization chooses the server, and its child organization inherits it', async function () {
        await adminPage.getByRole('link', { name: 'Organizations' }).first().click();
        await adminPage.getByLabel('Name', { exact: true }).fill('Umbrella');
        await adminPage.getByLabel('User name domain').fill('umbrella.example');
        await adminPage.getByRole('button', { name: 'Add' }).click();
        await adminPage.waitForURL(/\/organizations\/umbrella-/);
        const umbrella = adminPage.url();
        await adminPage.getByLabel('Inherit security settings from parent').uncheck();
        await adminPage.getByLabel('Select an authentication method').selectOption('radius');
        await adminPage.getByLabel('corp-freeradius', { exact: true }).check();
        await adminPage.getByLabel('Users', { exact: true }).fill(USERS.carol.name);
        await shot(adminPage, 'organization-security');
        await adminPage.getByRole('button', { name: 'Save' }).click();
        await adminPage.waitForURL(`${url}/organizations`);

        await adminPage.getByLabel('Name', { exact: true }).fill('Umbrella Labs');
        await adminPage.getByLabel('Parent organization').selectOption({ label: '\u00a0\u00a0Umbrella' });
        await adminPage.getByRole('button', { name: 'Add' }).click();
        await adminPage.waitForURL(/\/organizations\/umbrella-labs-/);
        assert.equal(await adminPage.getByLabel('Inherit security settings from parent').isChecked(), true, 'a new organization inherits');
        assert.equal(await adminPage.locator('#effective').textContent(), 'RADIUS: corp-freeradius (inherited from Umbrella)');
        await adminPage.getByLabel('Users', { exact: true }).fill(USERS.dave.name);
        await adminPage.getByRole('button', { name: 'Save' }).click();
        await adminPage.waitForURL(`${url}/organizations`);

        const labs = adminPage.locator('#organizations tbody tr', { hasText: 'Umbrella Labs' });
        assert.equal(await labs.locator('.effective').textContent(), 'RADIUS: corp-freeradius (inherited from Umbrella)');
        const own = adminPage.locator('#organizations tbody tr', { hasText: 'umbrella.example' });
        assert.equal(await own.locator('.effective').textContent(), 'RADIUS: corp-freeradius');
        await shot(adminPage, 'organizations');
        assert.ok(umbrella);
      });

      it("step 4: the organization's test user signs in with the code, and the child's with two rounds", async function () {
        const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
        try {
          const page = await context.newPage();
          await page.goto(`${url}/login`);
          await shot(page, 'sign-in');
          await signIn(page, USERS.carol.name, USERS.carol.password);
          await page.waitForURL(`${url}/login/challenge`);
          assert.equal(await page.locator('#prompt').textContent(), USERS.carol.challengeMessage);
          assert.equal(await page.getByLabel('Code', { exact: true }).getAttribute('type'), 'password', 'Prompt No-Echo masks the code');
          await shot(page, 'challenge');
          await page.getByLabel('Code', { exact: true }).fill(USERS.carol.code);
          await page.getByRole('button', { name: 'Verify' }).click();
          await page.waitForURL(`${url}/account`);
          assert.equal(await page.locator('#organization').textContent(), 'Umbrella');
          assert.equal(await page.locator('#server').textContent(), 'corp-freeradius');
          await page.getByRole('button', { name: 'Sign out' }).click();
          await page.waitForURL(`${url}/login`);

          // The child organization's user: two Access-Challenges, each Prompt Echo (the code is shown as typed).
          await signIn(page, USERS.dave.name, USERS.dave.password);
          await page.waitForURL(`${url}/login/challenge`);
          assert.equal(await page.locator('#prompt').textContent(), USERS.dave.rounds[0]!.message);
          assert.equal(await page.getByLabel('Code', { exact: true }).getAttribute('type'), 'text', 'Prompt Echo shows the code');
          await page.getByLabel('Code', { exact: true }).fill(USERS.dave.rounds[0]!.code);
          await page.getByRole('button', { name: 'Verify' }).click();
          await page.locator('#prompt', { hasText: USERS.dave.rounds[1]!.message }).waitFor();
          assert.match((await page.locator('main').textContent())!, /Step 2 of at most 3/);
          await page.getByLabel('Code', { exact: true }).fill(USERS.dave.rounds[1]!.code);
          await page.getByRole('button', { name: 'Verify' }).click();
          await page.waitForURL(`${url}/account`);
          assert.equal(await page.locator('#organization').textContent(), 'Umbrella Labs');
          assert.equal(await page.locator('#server').textContent(), 'corp-freeradius');
          await page.getByRole('button', { name: 'Sign out' }).click();

          // A wrong code: FreeRADIUS rejects it, and the user is told in plain words.
          await signIn(page, USERS.carol.name, USERS.carol.password);
          await page.waitForURL(`${url}/login/challenge`);
          await page.getByLabel('Code', { exact: true }).fill('000000');
          await page.getByRole('button', { name: 'Verify' }).click();
          await page.waitForURL(`${url}/login`);
          assert.equal(await page.getByRole('alert').textContent(), 'That code was not accepted. Sign in again to get a new code.');
        } finally {
          await context.close();
        }
      });

      it('monitoring: the alert shows when the server is stopped, and the status page table fits the page', async function () {
        await fr.stop();
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          await signIn(page, USERS.carol.name, USERS.carol.password);
          await page.waitForLoadState('load');
          assert.match((await page.getByRole('alert').textContent())!, /The sign-in service is not answering/);
        } finally {
          await context.close();
        }
        await adminPage.getByRole('link', { name: 'Alerts and log' }).first().click();
        await adminPage.waitForURL(`${url}/alerts`);
        const lines = await adminPage.locator('#log li').allTextContents();
        assert.match(lines.find((l) => l.includes('corp-freeradius is down')) ?? '', /Auth\.error: corp-freeradius is down: unreachable/);
        assert.ok(lines.some((l) => /Auth\.info: \(Access-Accept corp-freeradius "dave"\): Login OK/.test(l)), lines.join('\n'));
        assert.ok(lines.some((l) => /Auth\.notice: \(Access-Reject corp-freeradius "carol"\): Login incorrect/.test(l)), lines.join('\n'));
        assert.match((await adminPage.locator('#alert-count').textContent())!, /^\d+ alerts? /);
        await shot(adminPage, 'alerts');

        await adminPage.getByRole('link', { name: 'Server status' }).first().click();
        await adminPage.getByRole('button', { name: 'Test every server' }).click();
        await adminPage.waitForURL(`${url}/status/test`);
        const row = adminPage.locator('#status tbody tr', { hasText: 'corp-freeradius' });
        assert.match((await row.textContent())!, /Held down[\s\S]*Failed: /);
        await assertTableFits(adminPage, '#status');
        await shot(adminPage, 'status');
      });
    },
  );
});

describeBrowser('the example challenge page in a real browser: an empty code only where the server invites one', function () {
  this.timeout(60000);
  const SECRET = 'forti-browser-secret-16';
  let forti: FortiAuthenticatorProfile;
  let radius: RadiusTestServer;
  let demo: Demo;
  const apps: ExampleApp[] = [];
  const servers: Server[] = [];
  let browser: Browser;

  async function serve(built: ExampleApp): Promise<string> {
    apps.push(built);
    const { server, url } = await listenHttp(built.app);
    servers.push(server);
    return url;
  }

  before(async () => {
    forti = new FortiAuthenticatorProfile({ pushDelayMs: 100, users: { frank: { password: 'frank-password', tokencode: '135790' } } });
    radius = new RadiusTestServer({ secret: SECRET, handler: forti });
    await radius.listen();
    demo = await startDemo();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const http of servers) await closeHttp(http);
    await Promise.all(apps.map((a) => a.close()));
    await radius?.close();
    await demo?.close();
  });

  it('FortiAuthenticator with allowEmptyResponse: Verify with the code left empty sends the push and signs in', async () => {
    const url = await serve(
      createApp({ servers: [{ name: 'forti', address: radius.address, secret: SECRET, attributes: { 'NAS-Identifier': NAS }, timeout: 5000, allowEmptyResponse: true }] }),
    );
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${url}/login`);
      await page.getByLabel('User name').fill('frank');
      await page.getByLabel('Password').fill('frank-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${url}/login/challenge`);
      assert.equal(await page.getByLabel('Code', { exact: true }).getAttribute('required'), null);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL(`${url}/account`);
      assert.equal(await page.locator('#username').textContent(), 'frank');
      assert.equal(forti.pushCount('frank'), 1);
    } finally {
      await context.close();
    }
  });

  it('a server without allowEmptyResponse: the browser does not send an empty code (required), the page stays', async () => {
    const url = await serve(createApp({ settings: demo.settings }));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${url}/login`);
      await page.getByLabel('User name').fill(DEMO_USERS.carol.username);
      await page.getByLabel('Password').fill(DEMO_USERS.carol.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${url}/login/challenge`);
      demo.acme.received.length = 0;
      await page.getByRole('button', { name: 'Verify' }).click();
      assert.equal(await page.getByLabel('Code', { exact: true }).evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing), true);
      assert.equal(page.url(), `${url}/login/challenge`);
      assert.equal(demo.acme.received.length, 0);
      await page.getByLabel('Code', { exact: true }).fill(DEMO_USERS.carol.code);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL(`${url}/account`);
    } finally {
      await context.close();
    }
  });
});
