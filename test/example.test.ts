/**
 * The example app (example/app.ts) with its demo servers (example/demo.ts), through HTTP: the printed
 * demo users sign in, organizations reach their own servers, and no password or code ever leaves the
 * request that carried it.
 */
import { strict as assert } from 'node:assert';
import { MemoryStore } from 'express-session';
import request from 'supertest';
import type { Response } from 'supertest';
import type { RadiusStrategy } from '../lib';
import { createApp, organizationOf } from '../example/app';
import { DEMO_ORGANIZATIONS, DEMO_USERS, startDemo, type Demo } from '../example/demo';
import { freeUdpPort } from './support/freeradius';

describe('The example app with its demo servers', function () {
  let demo: Demo;
  let app: ReturnType<typeof createApp>['app'];
  let strategy: RadiusStrategy;
  let store: MemoryStore;
  const secrets = [DEMO_USERS.alice.password, DEMO_USERS.bob.password, DEMO_USERS.carol.password, DEMO_USERS.carol.code, 'wrong-password-7'];
  const seen: string[] = [];

  /** Everything that left the app so far: every response's headers and body, and every stored session. */
  function assertNoSecrets(): void {
    const sessions = JSON.stringify((store as unknown as { sessions: Record<string, string> }).sessions);
    for (const text of [...seen, sessions]) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `a password or code leaked: ${secret}`);
    }
  }
  const record = (res: Response): Response => {
    seen.push(JSON.stringify(res.headers), res.text ?? '');
    return res;
  };

  before(async () => {
    demo = await startDemo();
    store = new MemoryStore();
    ({ app, strategy } = createApp({
      servers: demo.servers,
      organizations: demo.organizations,
      defaultServers: demo.defaultServers,
      store,
      sessionSecret: 'example-test',
    }));
  });
  beforeEach(() => {
    demo.system.received.length = 0;
    demo.acme.received.length = 0;
  });
  after(async () => {
    assertNoSecrets();
    await strategy.close();
    await demo.close();
  });

  it('signs alice in, redirects to /account and shows her name, role and the server that accepted', async () => {
    const agent = request.agent(app);
    const res = record(await agent.post('/login').type('form').send({ username: 'alice', password: DEMO_USERS.alice.password }));
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, '/account');
    const account = record(await agent.get('/account'));
    assert.equal(account.status, 200);
    assert.match(account.text, /<strong id="username">alice<\/strong>/);
    assert.match(account.text, /<span id="role">admin<\/span>/);
    assert.match(account.text, /<strong id="organization">\(system-wide\)<\/strong>/);
    assert.match(account.text, /<strong id="server">system<\/strong>/);
    assert.equal(demo.acme.received.length, 0);
    assertNoSecrets();
  });

  it("signs bob@globex.example in through the system-wide server (Globex inherits it)", async () => {
    const agent = request.agent(app);
    const res = record(await agent.post('/login').type('form').send({ username: DEMO_USERS.bob.username, password: DEMO_USERS.bob.password }));
    assert.equal(res.headers.location, '/account');
    const account = record(await agent.get('/account'));
    assert.match(account.text, /<strong id="username">bob@globex\.example<\/strong>/);
    assert.match(account.text, /<span id="role">user<\/span>/);
    assert.match(account.text, /<strong id="organization">Globex<\/strong>/);
    assert.match(account.text, /<strong id="server">system<\/strong>/);
    assert.equal(demo.system.received.length, 1);
    assert.equal(demo.acme.received.length, 0);
  });

  it('returns a wrong password to /login with the message', async () => {
    const agent = request.agent(app);
    const res = record(await agent.post('/login').type('form').send({ username: 'alice', password: 'wrong-password-7' }));
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, '/login');
    const page = record(await agent.get('/login'));
    assert.match(page.text, /<p class="error" role="alert">Invalid username or password<\/p>/);
    const account = record(await agent.get('/account'));
    assert.equal(account.status, 303);
    assert.equal(account.headers.location, '/login');
    assertNoSecrets();
  });

  it("takes carol@acme.example through Acme's two-factor server and the challenge page", async () => {
    const agent = request.agent(app);
    const first = record(await agent.post('/login').type('form').send({ username: DEMO_USERS.carol.username, password: DEMO_USERS.carol.password }));
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/login/challenge');
    assert.equal(demo.system.received.length, 0, 'Acme users never reach the system-wide server');
    const page = record(await agent.get('/login/challenge'));
    assert.equal(page.status, 200);
    assert.match(page.text, /<p id="prompt">Enter the code sent to your phone<\/p>/);
    assert.match(page.text, /type="password"/);
    assert.match(page.text, /Code for carol@acme\.example/);
    assert.equal((await agent.get('/account')).status, 303, 'not signed in after the password alone');
    const second = record(await agent.post('/login/challenge').type('form').send({ code: DEMO_USERS.carol.code }));
    assert.equal(second.status, 302);
    assert.equal(second.headers.location, '/account');
    const account = record(await agent.get('/account'));
    assert.match(account.text, /<strong id="username">carol@acme\.example<\/strong>/);
    assert.match(account.text, /<strong id="organization">Acme<\/strong>/);
    assert.match(account.text, /<strong id="server">acme-2fa<\/strong>/);
    assert.equal(demo.acme.received.length, 2);
    assert.equal(demo.system.received.length, 0);
    assertNoSecrets();
  });

  it('returns a wrong code to /login with the message', async () => {
    const agent = request.agent(app);
    record(await agent.post('/login').type('form').send({ username: DEMO_USERS.carol.username, password: DEMO_USERS.carol.password }));
    const res = record(await agent.post('/login/challenge').type('form').send({ code: '000000' }));
    assert.equal(res.headers.location, '/login');
    const page = record(await agent.get('/login'));
    assert.match(page.text, /role="alert">/);
    assert.equal((await agent.get('/account')).status, 303);
  });

  it('signs out', async () => {
    const agent = request.agent(app);
    record(await agent.post('/login').type('form').send({ username: 'alice', password: DEMO_USERS.alice.password }));
    const out = record(await agent.post('/logout'));
    assert.equal(out.headers.location, '/login');
    assert.equal((await agent.get('/account')).status, 303);
  });

  it('tests every server from /status?test=1 and says Reachable, for administrators only', async () => {
    assert.equal((await request(app).get('/status?test=1')).status, 303, 'anonymous users see the status page');
    const bob = request.agent(app);
    await bob.post('/login').type('form').send({ username: DEMO_USERS.bob.username, password: DEMO_USERS.bob.password }).expect(302);
    assert.equal((await bob.get('/status?test=1')).status, 403, 'a non-admin sees the status page');
    const alice = request.agent(app);
    await alice.post('/login').type('form').send({ username: DEMO_USERS.alice.username, password: DEMO_USERS.alice.password }).expect(302);
    const res = record(await alice.get('/status?test=1'));
    assert.equal(res.status, 200);
    assert.equal(res.text.match(/Reachable \(\d+ ms, status-server\)/g)?.length, demo.servers.length);
    assert.doesNotMatch(res.text, /Failed/);
  });

  it('finds organizations by the domain after the last @, case-insensitively', () => {
    assert.equal(organizationOf('carol@ACME.example', DEMO_ORGANIZATIONS)?.name, 'Acme');
    assert.equal(organizationOf('x@y@globex.example', DEMO_ORGANIZATIONS)?.name, 'Globex');
    assert.equal(organizationOf('alice', DEMO_ORGANIZATIONS), undefined);
    assert.equal(organizationOf('alice@elsewhere.example', DEMO_ORGANIZATIONS), undefined);
  });

  it('refuses an organization naming a server that is not configured', () => {
    assert.throws(
      () => createApp({ servers: demo.servers, organizations: [{ name: 'X', domain: 'x.example', servers: ['nope'] }] }),
      /server "nope" is not configured/,
    );
  });

  it('shows visitors a plain sentence when no RADIUS server answers, and logs the details', async () => {
    const dead = await freeUdpPort();
    const lines: string[] = [];
    const built = createApp({
      servers: [{ name: 'secret-internal-name', address: `127.0.0.1:${dead}`, secret: 's', attributes: { 'NAS-Identifier': 'x' }, timeout: 300 }],
      log: (line) => lines.push(line),
    });
    try {
      const res = await request(built.app).post('/login').type('form').send({ username: 'alice', password: 'pw' });
      assert.equal(res.status, 500);
      assert.match(res.text, /The sign-in service is not answering/);
      assert.doesNotMatch(res.text, /secret-internal-name|unreachable|127\.0\.0\.1/);
      assert.ok(lines.some((l) => l.includes('secret-internal-name') && l.includes('unreachable')), lines.join('\n'));
    } finally {
      await built.strategy.close();
    }
  });
});
