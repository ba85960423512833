/**
 * The example console (example/app.ts) with its demo servers (example/demo.ts), through HTTP: the demo
 * users sign in through their organizations' providers, admins change servers and organizations at run
 * time, traffic-generating actions are POSTs, and no password, code or shared secret ever leaves the
 * request that carried it.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from 'express-session';
import request from 'supertest';
import type { Response } from 'supertest';
import { createApp, type ExampleApp } from '../example/app';
import { DEMO_USERS, refreshDemoServers, startDemo, type Demo } from '../example/demo';
import { FileSettingsStore, MemorySettingsStore } from '../example/settings-store';
import { freeUdpPort } from './support/ports';

type Agent = ReturnType<typeof request.agent>;

describe('The example console with its demo servers', function () {
  this.timeout(20000);
  let demo: Demo;
  let built: ExampleApp;
  let store: MemoryStore;
  let settingsStore: MemorySettingsStore;
  const { alice, bob, carol, dave } = DEMO_USERS;
  const secrets = [alice.password, bob.password, carol.password, carol.code, dave.password, 'wrong-password-7', 'brand-new-secret-42'];
  const seen: string[] = [];

  /** Everything that left the app so far: every response's headers and body, every stored session, the log. */
  function assertNoSecrets(): void {
    const sessions = JSON.stringify((store as unknown as { sessions: Record<string, string> }).sessions);
    const log = JSON.stringify(built.alerts.list());
    const demoSecrets = demo.servers.map((s) => String(s.secret));
    for (const text of [...seen, sessions, log]) {
      for (const secret of [...secrets, ...demoSecrets]) assert.ok(!text.includes(secret), `a password, code or secret leaked: ${secret}`);
    }
  }
  const record = (res: Response): Response => {
    seen.push(JSON.stringify(res.headers), res.text ?? '');
    return res;
  };
  async function signIn(username: string, password: string): Promise<Agent> {
    const agent = request.agent(built.app);
    const res = record(await agent.post('/login').type('form').send({ username, password }));
    assert.equal(res.status, 303, res.text);
    assert.equal(res.headers.location, '/account');
    return agent;
  }
  const probesSeen = (): number => [...demo.system.received, ...demo.acme.received].filter((r) => r.code === 12).length;

  before(async () => {
    demo = await startDemo();
    store = new MemoryStore();
    settingsStore = new MemorySettingsStore();
    built = createApp({ settings: demo.settings, settingsStore, store, sessionSecret: 'example-test' });
  });
  beforeEach(() => {
    demo.system.received.length = 0;
    demo.acme.received.length = 0;
  });
  after(async () => {
    assertNoSecrets();
    await built.close();
    await demo.close();
  });

  describe('sign-in', () => {
    it('signs alice in (system-wide server), redirects to /account and shows her name, role and server', async () => {
      const agent = await signIn(alice.username, alice.password);
      const account = record(await agent.get('/account'));
      assert.equal(account.status, 200);
      assert.match(account.text, /<strong id="username">alice<\/strong>/);
      assert.match(account.text, /<span id="role">admin<\/span>/);
      assert.match(account.text, /<strong id="organization">System-wide<\/strong>/);
      assert.match(account.text, /<strong id="server">system<\/strong>/);
      assert.equal(demo.acme.received.length, 0);
    });

    it('signs bob@globex.example in through the system-wide server (Globex inherits it)', async () => {
      const agent = await signIn(bob.username, bob.password);
      const account = record(await agent.get('/account'));
      assert.match(account.text, /<span id="role">user<\/span>/);
      assert.match(account.text, /<strong id="organization">Globex<\/strong>/);
      assert.match(account.text, /<strong id="server">system<\/strong>/);
      assert.equal(demo.system.received.length, 1);
      assert.equal(demo.acme.received.length, 0);
    });

    it("takes carol@acme.example through Acme's two-factor server and the challenge page", async () => {
      const agent = request.agent(built.app);
      const first = record(await agent.post('/login').type('form').send({ username: carol.username, password: carol.password }));
      assert.equal(first.status, 303);
      assert.equal(first.headers.location, '/login/challenge');
      assert.equal(demo.system.received.length, 0, 'Acme users never reach the system-wide server');
      const page = record(await agent.get('/login/challenge'));
      assert.equal(page.status, 200);
      assert.match(page.text, /<p id="prompt">Enter the code sent to your phone<\/p>/);
      assert.match(page.text, /<input id="code" name="code" type="password"/);
      assert.match(page.text, />Verify<\/button>/);
      assert.match(page.text, /Signing in as <strong id="challenge-user">carol@acme\.example<\/strong>/);
      assert.equal((await agent.get('/account')).status, 303, 'not signed in after the password alone');
      const second = record(await agent.post('/login/challenge').type('form').send({ code: carol.code }));
      assert.equal(second.headers.location, '/account');
      const account = record(await agent.get('/account'));
      assert.match(account.text, /<strong id="organization">Acme<\/strong>/);
      assert.match(account.text, /<strong id="server">acme-2fa<\/strong>/);
      assert.equal(demo.acme.received.length, 2);
      assert.equal(demo.system.received.length, 0);
    });

    it("signs dave@research.acme.example in through Acme's server: the child organization inherits Acme's settings", async () => {
      const agent = request.agent(built.app);
      record(await agent.post('/login').type('form').send({ username: dave.username, password: dave.password }));
      record(await agent.post('/login/challenge').type('form').send({ code: dave.code }));
      const account = record(await agent.get('/account'));
      assert.match(account.text, /<strong id="organization">Acme Research<\/strong>/);
      assert.match(account.text, /<strong id="server">acme-2fa<\/strong>/);
      assert.equal(demo.system.received.length, 0);
    });

    it('returns a wrong password to /login with a message for people', async () => {
      const agent = request.agent(built.app);
      const res = record(await agent.post('/login').type('form').send({ username: 'alice', password: 'wrong-password-7' }));
      assert.equal(res.headers.location, '/login');
      const page = record(await agent.get('/login'));
      assert.match(page.text, /role="alert">The user name or password is not right\.<\/p>/);
      assert.equal((await agent.get('/account')).status, 303);
    });

    it('keeps a wrong code on the challenge page with the server\'s message while tries remain, then back to sign-in', async () => {
      const agent = request.agent(built.app);
      record(await agent.post('/login').type('form').send({ username: carol.username, password: carol.password }));
      const wrong = record(await agent.post('/login/challenge').type('form').send({ code: '000000' }));
      assert.equal(wrong.headers.location, '/login/challenge', 'a wrong code left the challenge page');
      const again = record(await agent.get('/login/challenge'));
      assert.match(again.text, /<p id="prompt">That code is not right\. Enter the code sent to your phone<\/p>/);
      assert.match(again.text, /Step 2 of at most 3/);
      // The right code on the second try signs in.
      const right = record(await agent.post('/login/challenge').type('form').send({ code: carol.code }));
      assert.equal(right.headers.location, '/account');
      assert.match(record(await agent.get('/account')).text, /<strong id="server">acme-2fa<\/strong>/);

      // Three wrong codes: the server gives up, and so does the page.
      const other = request.agent(built.app);
      record(await other.post('/login').type('form').send({ username: carol.username, password: carol.password }));
      for (const location of ['/login/challenge', '/login/challenge', '/login']) {
        const res = record(await other.post('/login/challenge').type('form').send({ code: '000000' }));
        assert.equal(res.headers.location, location);
      }
      assert.match(record(await other.get('/login')).text, /role="alert">Too many wrong codes\. Please sign in again\.<\/p>/);
      assert.equal((await other.get('/account')).status, 303);
    });

    it('says in plain words that a used-up verification has expired', async () => {
      const agent = request.agent(built.app);
      record(await agent.post('/login').type('form').send({ username: carol.username, password: carol.password }));
      record(await agent.post('/login/challenge').type('form').send({ code: carol.code }));
      record(await agent.post('/logout'));
      const late = record(await agent.post('/login/challenge').type('form').send({ code: carol.code }));
      assert.equal(late.headers.location, '/login');
      const page = record(await agent.get('/login'));
      assert.match(page.text, /Your verification has expired or was already used\. Please sign in again\./);
      assert.doesNotMatch(page.text, /No pending RADIUS challenge/);
    });

    it('signs out with a POST', async () => {
      const agent = await signIn(alice.username, alice.password);
      const out = record(await agent.post('/logout'));
      assert.equal(out.headers.location, '/login');
      assert.equal((await agent.get('/account')).status, 303);
    });

    it('shows visitors a plain sentence when no RADIUS server answers, and logs the details', async () => {
      const dead = await freeUdpPort();
      const lines: string[] = [];
      const other = createApp({
        servers: [{ name: 'secret-internal-name', address: `127.0.0.1:${dead}`, secret: 's', attributes: { 'NAS-Identifier': 'x' }, timeout: 300 }],
        log: (line) => lines.push(line),
      });
      try {
        const res = await request(other.app).post('/login').type('form').send({ username: 'alice', password: 'pw' });
        assert.equal(res.status, 503);
        assert.match(res.text, /The sign-in service is not answering/);
        assert.doesNotMatch(res.text, /secret-internal-name|unreachable|127\.0\.0\.1/);
        assert.ok(lines.some((l) => l.includes('secret-internal-name') && l.includes('unreachable')), lines.join('\n'));
      } finally {
        await other.close();
      }
    });
  });

  describe('headers', () => {
    it('sends helmet security headers and no-store on pages, and answers /healthz', async () => {
      const agent = await signIn(alice.username, alice.password);
      const res = await agent.get('/account');
      assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
      assert.doesNotMatch(String(res.headers['content-security-policy']), /upgrade-insecure-requests/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['x-powered-by'], undefined);
      const health = await request(built.app).get('/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { status: 'ok', servers: 2 });
    });
  });

  describe('admin pages', () => {
    const adminPages = ['/settings/radius', '/settings/radius/new', '/organizations', '/organizations/acme', '/alerts', '/status'];

    it('send anonymous visitors to the sign-in page and refuse non-admins with 403', async () => {
      const bobAgent = await signIn(bob.username, bob.password);
      for (const path of adminPages) {
        assert.equal((await request(built.app).get(path)).status, 303, `anonymous ${path}`);
        assert.equal((await bobAgent.get(path)).status, 403, `bob ${path}`);
      }
      const before = JSON.stringify(built.radius.settings);
      assert.equal((await bobAgent.post('/settings/radius/delete/system')).status, 403);
      assert.equal((await bobAgent.post('/organizations/globex').type('form').send({ name: 'Owned' })).status, 403);
      assert.equal((await bobAgent.post('/status/test')).status, 403);
      assert.equal(JSON.stringify(built.radius.settings), before);
    });

    it('makes users listed as admins administrators whatever their Class', async () => {
      const other = createApp({ settings: demo.settings, admins: ['BOB@globex.example'] });
      try {
        const agent = request.agent(other.app);
        await agent.post('/login').type('form').send({ username: bob.username, password: bob.password }).expect(303);
        assert.equal((await agent.get('/settings/radius')).status, 200);
      } finally {
        await other.close();
      }
    });

    it('link every admin page for admins only', async () => {
      const admin = record(await (await signIn(alice.username, alice.password)).get('/account'));
      for (const path of ['/settings/radius', '/organizations', '/alerts', '/status']) assert.match(admin.text, new RegExp(`href="${path}"`));
      const user = record(await (await signIn(bob.username, bob.password)).get('/account'));
      assert.doesNotMatch(user.text, /href="\/status"|href="\/settings\/radius"/);
    });
  });

  describe('server status (issue 16 item 7: traffic only on POST)', () => {
    it('sends no probe for GET /status?test=1: a cross-site link cannot make the app send RADIUS traffic', async () => {
      const agent = await signIn(alice.username, alice.password);
      demo.system.received.length = 0;
      const res = record(await agent.get('/status?test=1'));
      assert.equal(res.status, 200);
      assert.equal(probesSeen(), 0);
      assert.doesNotMatch(res.text, /Reachable/);
      assert.match(res.text, /<form method="post" action="\/status\/test"/);
    });

    it('tests every server on POST /status/test from the same origin, and refuses one from another origin', async () => {
      const agent = await signIn(alice.username, alice.password);
      demo.system.received.length = 0;
      const refused = await agent.post('/status/test').set('Origin', 'https://evil.example').set('Sec-Fetch-Site', 'cross-site');
      assert.equal(refused.status, 403);
      assert.equal(probesSeen(), 0);
      const res = record(await agent.post('/status/test').set('Sec-Fetch-Site', 'same-origin'));
      assert.equal(res.status, 200);
      assert.equal(res.text.match(/Reachable \(\d+ ms\)/g)?.length, 2);
      assert.equal(probesSeen(), 2);
    });
  });

  describe('RADIUS servers page', () => {
    let admin: Agent;
    before(async () => {
      admin = await signIn(alice.username, alice.password);
    });

    it('lists the servers with state, round trip and last error, and never shows a shared secret', async () => {
      const res = record(await admin.get('/settings/radius'));
      assert.match(res.text, /<table id="servers">/);
      assert.match(res.text, /Last round trip/);
      assert.match(res.text, /Last error/);
      const edit = record(await admin.get('/settings/radius/edit/system'));
      assert.match(edit.text, /id="secret" name="secret" type="password"/);
      assert.match(edit.text, /Unchanged/);
    });

    it('tests an address from the form ("Reachable (N ms)" or "Failed: why") with a POST, as JSON for the page script', async () => {
      const server = demo.servers[0]!;
      const ok = await admin
        .post('/settings/radius/test')
        .set('Accept', 'application/json')
        .type('form')
        .send({ name: 'x', address: server.address, secret: String(server.secret), attributes: 'NAS-Identifier = t', timeout: '2', protocol: 'pap' });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.state, 'reachable');
      assert.match(ok.body.text, /^Reachable \(\d+ ms\)$/);
      // The stored secret is used when editing a server and the secret field is left blank.
      const kept = await admin.post('/settings/radius/test').set('Accept', 'application/json').type('form').send({ original: 'system', name: 'system', address: server.address, attributes: 'NAS-Identifier = t', timeout: '2' });
      assert.equal(kept.body.state, 'reachable');
      const wrong = await admin.post('/settings/radius/test').set('Accept', 'application/json').type('form').send({ name: 'x', address: server.address, secret: 'not-the-secret-at-all', attributes: 'NAS-Identifier = t', timeout: '1' });
      assert.equal(wrong.body.state, 'failed');
      assert.match(wrong.body.text, /^Failed: /);
      const bad = await admin.post('/settings/radius/test').set('Accept', 'application/json').type('form').send({ name: 'x', address: 'not an address', secret: 'long-enough-secret-x', attributes: 'NAS-Identifier = t' });
      assert.equal(bad.body.state, 'failed');
      assert.match(bad.body.text, /address must be host\[:port\]/);
      assert.equal((await admin.get('/settings/radius/test')).status, 404, 'the test never runs on GET');
    });

    it('adds a server (the secret is saved, never shown back), refuses bad input naming the field, and edits and deletes it', async () => {
      const target = demo.servers[0]!;
      const bad = record(await admin.post('/settings/radius').type('form').send({ name: 'extra', address: target.address, secret: 'brand-new-secret-42', attributes: 'Filter-Id = x', timeout: '3' }));
      assert.equal(bad.status, 400);
      assert.match(bad.text, /Server &#34;extra&#34;: attributes must include NAS-Identifier/);
      assert.doesNotMatch(bad.text, /brand-new-secret-42/);
      assert.equal(built.radius.settings.servers.length, 2, 'nothing changed');

      const added = await admin.post('/settings/radius').type('form').send({ name: 'extra', address: target.address, secret: 'brand-new-secret-42', attributes: 'NAS-Identifier = console', timeout: '3', protocol: 'chap' });
      assert.equal(added.status, 303);
      const saved = (await settingsStore.load())!.servers.find((s) => s.name === 'extra');
      assert.deepEqual(saved, { name: 'extra', address: target.address, secret: 'brand-new-secret-42', attributes: [['NAS-Identifier', 'console']], timeoutSeconds: 3, protocol: 'chap' });
      assert.deepEqual(built.radius.strategy.client.serverNames, ['system', 'acme-2fa', 'extra'], 'the strategy uses the new list at once');
      const list = record(await admin.get('/settings/radius'));
      assert.match(list.text, /Saved extra\./);

      const edited = await admin.post('/settings/radius/edit/extra').type('form').send({ original: 'extra', name: 'extra-renamed', address: target.address, secret: '', attributes: 'NAS-Identifier = console', timeout: '4', protocol: 'pap' });
      assert.equal(edited.status, 303);
      const renamed = built.radius.settings.servers.find((s) => s.name === 'extra-renamed');
      assert.equal(renamed?.secret, 'brand-new-secret-42', 'a blank secret keeps the saved one');
      assert.equal(renamed?.timeoutSeconds, 4);

      const deleted = await admin.post('/settings/radius/delete/extra-renamed');
      assert.equal(deleted.status, 303);
      assert.deepEqual(built.radius.strategy.client.serverNames, ['system', 'acme-2fa']);
    });

    it("refuses a code whose server's address changed meanwhile, in plain words, and sends it nowhere", async () => {
      const acme = demo.servers[1]!;
      const user = request.agent(built.app);
      await user.post('/login').type('form').send({ username: carol.username, password: carol.password }).expect(303);
      const other = await startDemo();
      try {
        const moved = await admin.post('/settings/radius/edit/acme-2fa').type('form').send({ original: 'acme-2fa', name: 'acme-2fa', address: other.acme.address, attributes: 'NAS-Identifier = passport-radius-example', timeout: '5', protocol: 'pap' });
        assert.equal(moved.status, 303);
        const before = demo.acme.received.length;
        const res = record(await user.post('/login/challenge').type('form').send({ code: carol.code }));
        assert.equal(res.headers.location, '/login');
        assert.match(record(await user.get('/login')).text, /Your verification has expired or was already used/);
        assert.equal(demo.acme.received.length, before);
        assert.equal(other.acme.received.length, 0);
      } finally {
        await admin.post('/settings/radius/edit/acme-2fa').type('form').send({ original: 'acme-2fa', name: 'acme-2fa', address: acme.address, attributes: 'NAS-Identifier = passport-radius-example', timeout: '5', protocol: 'pap' });
        await other.close();
      }
    });

    it('refuses to delete a server an organization chooses, naming the organization', async () => {
      const res = await admin.post('/settings/radius/delete/acme-2fa');
      assert.equal(res.status, 303);
      assert.match(record(await admin.get('/settings/radius')).text, /acme-2fa is chosen by Acme: choose other providers there first\./);
      assert.ok(built.radius.settings.servers.some((s) => s.name === 'acme-2fa'));
    });
  });

  describe('Organizations page', () => {
    let admin: Agent;
    before(async () => {
      admin = await signIn(alice.username, alice.password);
    });

    it('shows the tree with each organization\'s effective providers, inherited or its own', async () => {
      const res = record(await admin.get('/organizations'));
      assert.match(res.text, /Acme Research<\/a><\/td>[\s\S]*?inherited[\s\S]*?RADIUS: acme-2fa \(inherited from Acme\)/);
      assert.match(res.text, /Globex<\/a><\/td>[\s\S]*?RADIUS: system \(inherited from System-wide\)/);
    });

    it('applies a change at once: Globex choosing its own provider sends bob there, and back when it inherits again', async () => {
      const own = await admin.post('/organizations/globex').type('form').send({ name: 'Globex', domain: 'globex.example', parent: 'system', method: 'radius', providers: 'acme-2fa' });
      assert.equal(own.status, 303);
      const refused = await request(built.app).post('/login').type('form').send({ username: bob.username, password: bob.password });
      assert.equal(refused.headers.location, '/login');
      assert.equal(demo.system.received.length, 0);
      assert.equal(demo.acme.received.length, 1, 'bob went to the provider Globex chose');

      await admin.post('/organizations/globex').type('form').send({ name: 'Globex', domain: 'globex.example', parent: 'system', inherit: '1', method: 'radius', providers: 'acme-2fa' });
      await signIn(bob.username, bob.password);
      assert.equal(demo.system.received.length, 1);
    });

    it('turns sign-in off for an organization whose method is None, with a message for the user', async () => {
      await admin.post('/organizations/acme').type('form').send({ name: 'Acme', domain: 'acme.example', parent: 'system', method: 'none', providers: 'acme-2fa' });
      try {
        const agent = request.agent(built.app);
        await agent.post('/login').type('form').send({ username: dave.username, password: dave.password });
        assert.match((await agent.get('/login')).text, /Sign-in is not enabled for your organization/);
        assert.equal(demo.acme.received.length, 0);
      } finally {
        await admin.post('/organizations/acme').type('form').send({ name: 'Acme', domain: 'acme.example', parent: 'system', method: 'radius', providers: 'acme-2fa' });
      }
    });

    it('adds a child organization that inherits, and keeps providers in the chosen order', async () => {
      const res = await admin.post('/organizations').type('form').send({ name: 'Initech', domain: 'initech.example', parent: 'system' });
      assert.equal(res.status, 303);
      const id = decodeURIComponent(String(res.headers.location).split('/').pop()!);
      const org = built.radius.settings.organizations.find((o) => o.id === id);
      assert.deepEqual({ ...org, id: 'x' }, { id: 'x', name: 'Initech', parent: 'system', domain: 'initech.example', inherit: true, method: 'radius', providers: [] });
      await admin
        .post(`/organizations/${id}`)
        .type('form')
        .send('name=Initech&domain=initech.example&parent=system&method=radius&providers=system&providers=acme-2fa&order%3Asystem=2&order%3Aacme-2fa=1');
      assert.deepEqual(built.radius.settings.organizations.find((o) => o.id === id)?.providers, ['acme-2fa', 'system']);
      assert.equal((await admin.post(`/organizations/${id}/delete`)).status, 303);
    });
  });

  it('raises alerts for replies that failed verification and for a missing Message-Authenticator', async () => {
    const count = built.alerts.list().length;
    try {
      demo.system.setFaults({ badResponseAuthenticator: true });
      const forged = await request(built.app).post('/login').type('form').send({ username: bob.username, password: bob.password });
      assert.equal(forged.status, 503, 'a reply that failed verification signed in');
      demo.system.setFaults({ noMessageAuthenticator: true });
      const unsigned = await request(built.app).post('/login').type('form').send({ username: bob.username, password: bob.password });
      assert.equal(unsigned.status, 503, 'a reply without Message-Authenticator signed in');
    } finally {
      demo.system.setFaults({});
    }
    const admin = await signIn(alice.username, alice.password);
    const lines = [...record(await admin.get('/alerts')).text.matchAll(/<li class="level-(\w+)">([^<]*)<\/li>/g)].map((m): [string, string] => [m[1]!, m[2]!]);
    assert.ok(built.alerts.list().length > count);
    const has = (level: string, re: RegExp): boolean => lines.some(([l, text]) => l === level && re.test(text));
    assert.ok(has('warn', /system: reply failed verification \(Response Authenticator\): check the shared secret/), lines.join('\n'));
    assert.ok(has('warn', /system: reply without Message-Authenticator dropped: make the server sign its replies/), lines.join('\n'));
    assert.ok(has('error', /system is down/), lines.join('\n'));
    assert.ok(has('notice', /system answers again/), lines.join('\n'));
    assert.match(record(await admin.get('/alerts')).text, /id="alert-count"[^>]*>\d+ alerts/);
  });

  it('logs rejects and verification failures as alerts, newest first, without secrets', async () => {
    await request(built.app).post('/login').type('form').send({ username: 'alice', password: 'wrong-password-7' });
    const admin = await signIn(alice.username, alice.password);
    const res = record(await admin.get('/alerts'));
    const lines = [...res.text.matchAll(/<li class="level-(\w+)">([^<]*)<\/li>/g)].map((m) => m[2]!);
    assert.match(lines[0]!, /^\w{3} [ \d]\d \d\d:\d\d:\d\d Auth\.info: \(Access-Accept system &#34;alice&#34;\): Login OK/);
    assert.ok(lines.some((l) => /Auth\.notice: \(Access-Reject system &#34;alice&#34;\): Login incorrect/.test(l)), lines.join('\n'));
  });
});

describe('The example console: settings across restarts, throttling', function () {
  this.timeout(20000);
  let demo: Demo;
  let dir: string;
  before(async () => {
    demo = await startDemo();
    dir = await mkdtemp(join(tmpdir(), 'console-settings-'));
  });
  after(async () => {
    await demo.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps settings in a JSON file readable by its owner only, and starts from them again', async () => {
    const file = join(dir, 'settings.json');
    const settingsStore = new FileSettingsStore(file);
    const first = createApp({ settings: demo.settings, settingsStore });
    try {
      await first.radius.update((draft) => {
        draft.organizations.find((o) => o.id === 'globex')!.inherit = false;
        draft.organizations.find((o) => o.id === 'globex')!.providers = ['acme-2fa'];
      });
    } finally {
      await first.close();
    }
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const saved = await new FileSettingsStore(file).load();
    assert.deepEqual(saved?.organizations.find((o) => o.id === 'globex')?.providers, ['acme-2fa']);
    assert.match(await readFile(file, 'utf8'), /"demo": true/);
    const second = createApp({ settings: refreshDemoServers(saved!, demo), settingsStore });
    try {
      assert.deepEqual(second.radius.settings.organizations.find((o) => o.id === 'globex')?.providers, ['acme-2fa']);
    } finally {
      await second.close();
    }
  });

  it('a settings file that is not valid JSON: an error with the file and the position, never its text (it holds secrets)', async () => {
    const file = join(dir, 'broken-settings.json');
    await writeFile(file, '{\n  "servers": [{ "name": "corp", "secret": TOPSECRET-hunter2 }],\n  "organizations": []\n}\n', { mode: 0o600 });
    await assert.rejects(new FileSettingsStore(file).load(), (err: Error) => {
      assert.equal(err.message, `The settings in ${file} are not valid JSON (unexpected character at line 2, column 43)`);
      assert.equal(err.cause, undefined);
      return true;
    });
  });

  it('refuses sign-in with 429 once a user name used up its failures, before any RADIUS traffic, and counts per IP too', async () => {
    const built = createApp({ settings: demo.settings, throttle: { perUser: { points: 3, durationSeconds: 60 }, perIp: { points: 5, durationSeconds: 60 } } });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await request(built.app).post('/login').type('form').send({ username: 'Alice', password: 'wrong-password-7' });
        assert.equal(res.status, 303);
      }
      demo.system.received.length = 0;
      const blocked = await request(built.app).post('/login').type('form').send({ username: 'alice', password: DEMO_USERS.alice.password });
      assert.equal(blocked.status, 429);
      assert.match(blocked.text, /Too many sign-in attempts\. Please try again in 1 minute\./);
      assert.ok(Number(blocked.headers['retry-after']) > 0);
      assert.equal(demo.system.received.length, 0, 'a throttled attempt reached RADIUS');
      // Two more failures with other names use up this IP's five.
      for (const name of ['x1', 'x2']) await request(built.app).post('/login').type('form').send({ username: name, password: 'wrong-password-7' });
      const ip = await request(built.app).post('/login').type('form').send({ username: DEMO_USERS.bob.username, password: DEMO_USERS.bob.password });
      assert.equal(ip.status, 429);
    } finally {
      await built.close();
    }
  });
});
