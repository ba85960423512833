/**
 * The example console's guards, through HTTP against its in-process demo servers: names that could forge
 * or reverse log lines are refused (forms and stored settings), a short shared secret is refused in the
 * server form, an administrator cannot leave their own organization without a server, the challenge page
 * lets an empty response through only where the issuing server allows one, "no server answered" is 503,
 * and a code refused before it was sent keeps the user on the challenge page.
 */
import { strict as assert } from 'node:assert';
import request from 'supertest';
import { createApp, type ExampleApp } from '../example/app';
import { DEMO_USERS, startDemo, type Demo } from '../example/demo';
import { checkSettings, type Settings } from '../example/settings';
import { FortiAuthenticatorProfile, RadiusTestServer } from '../lib/testing';
import { freeUdpPort } from './support/freeradius';

type Agent = ReturnType<typeof request.agent>;

/** The characters that must never reach a name: line breaks, other controls, bidi overrides and isolates. */
const UNSAFE = ['\n', '\r', '\u0000', '\u001b', '\u0085', '\u2028', '\u202a', '\u202e', '\u2066', '\u2069', '\u200f'];
const code = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

describe('The example console: names, secrets and lock-out guards', function () {
  this.timeout(20000);
  let demo: Demo;
  let built: ExampleApp;
  let admin: Agent;
  const { alice, bob, carol } = DEMO_USERS;

  async function signIn(app: ExampleApp, username: string, password: string): Promise<Agent> {
    const agent = request.agent(app.app);
    const res = await agent.post('/login').type('form').send({ username, password });
    assert.equal(res.status, 303, res.text);
    assert.equal(res.headers.location, '/account');
    return agent;
  }
  const serverForm = (extra: Record<string, string>): Record<string, string> => ({
    name: 'extra',
    address: demo.servers[0]!.address,
    secret: 'a-long-enough-secret-1',
    attributes: 'NAS-Identifier = console',
    timeout: '3',
    protocol: 'pap',
    ...extra,
  });

  before(async () => {
    demo = await startDemo();
    built = createApp({ settings: demo.settings, sessionSecret: 'safety-test' });
    admin = await signIn(built, alice.username, alice.password);
  });
  after(async () => {
    await built.close();
    await demo.close();
  });

  describe('names (log forging, reversed lines)', () => {
    it('refuses a server name with a line break, another control character or a bidi control: 400, the form again, nothing saved', async () => {
      const before = JSON.stringify(built.radius.settings);
      for (const ch of UNSAFE) {
        const res = await admin.post('/settings/radius').type('form').send(serverForm({ name: `evil${ch}Auth.error: forged` }));
        assert.equal(res.status, 400, `server name with ${code(ch)}`);
        assert.match(res.text, new RegExp(`The server name must not contain control characters, line breaks or bidirectional-text controls \\(found ${code(ch).replace('+', '\\+')}\\)`));
        assert.match(res.text, /<form method="post" action="\/settings\/radius" id="server-form"/);
      }
      assert.equal(JSON.stringify(built.radius.settings), before);
      // Editing (renaming) a server is refused the same way.
      const renamed = await admin.post('/settings/radius/edit/system').type('form').send(serverForm({ original: 'system', name: 'sys\u202Emetsys', address: demo.servers[0]!.address, secret: '' }));
      assert.equal(renamed.status, 400);
      assert.match(renamed.text, /found U\+202E/);
      assert.equal(JSON.stringify(built.radius.settings), before);
    });

    it('refuses organization names, domains and listed users with such characters, re-showing the form', async () => {
      const before = JSON.stringify(built.radius.settings);
      const added = await admin.post('/organizations').type('form').send({ name: 'Initech\nAuth.error: x', parent: 'system' });
      assert.equal(added.status, 400);
      assert.match(added.text, /The organization name must not contain control characters, line breaks or bidirectional-text controls \(found U\+000A\)/);
      assert.match(added.text, /<h2>Add an organization<\/h2>/);
      const edited = await admin.post('/organizations/globex').type('form').send({ name: 'Globex\u202E', domain: 'globex.example', parent: 'system', inherit: '1', method: 'radius' });
      assert.equal(edited.status, 400);
      assert.match(edited.text, /found U\+202E/);
      assert.match(edited.text, /<form method="post" action="\/organizations\/globex"/);
      const domain = await admin.post('/organizations/globex').type('form').send({ name: 'Globex', domain: 'globex\u2066.example', parent: 'system', inherit: '1', method: 'radius' });
      assert.match(domain.text, /The user name domain must not[^<]*U\+2066/);
      const users = await admin.post('/organizations/globex').type('form').send({ name: 'Globex', domain: 'globex.example', users: 'ok-user\nbad\u202Duser', parent: 'system', inherit: '1', method: 'radius' });
      assert.equal(users.status, 400);
      assert.match(users.text, /A user name must not[^<]*U\+202D/);
      assert.equal(JSON.stringify(built.radius.settings), before);
    });

    it('refuses stored settings (file, Redis) holding such a name, naming the entry without echoing the character', () => {
      const bad: Settings = structuredClone(demo.settings);
      bad.servers[1]!.name = 'acme\u202E2fa';
      bad.organizations.find((o) => o.id === 'acme')!.providers = ['acme\u202E2fa'];
      assert.throws(() => checkSettings(bad), (err: Error) => {
        assert.ok(err instanceof TypeError);
        assert.equal(err.message, 'Server 2 ("acme<U+202E>2fa"): its name must not contain control characters, line breaks or bidirectional-text controls (found U+202E).');
        return true;
      });
      assert.throws(() => createApp({ settings: bad }), /Server 2 \("acme<U\+202E>2fa"\)/);
      const org: Settings = structuredClone(demo.settings);
      org.organizations[2]!.name = 'Research\nAuth.error: forged';
      assert.throws(() => checkSettings(org), /^TypeError: Organization 3 \("Research<U\+000A>Auth\.error: forged"\): its name must not .*\(found U\+000A\)\.$/);
    });

    it('refuses a user name holding bidi or control characters before RADIUS or the log sees it', async () => {
      for (const username of ['mallory\u202Eexample', 'mallory\nAuth.error: forged', 'mallory\u2028x']) {
        const visitor = request.agent(built.app);
        const res = await visitor.post('/login').type('form').send({ username, password: 'wrong-password-7' });
        assert.equal(res.status, 303, JSON.stringify(username));
        assert.match((await visitor.get('/login')).text, /Invalid user name/, JSON.stringify(username));
      }
      const page = await admin.get('/alerts');
      assert.doesNotMatch(page.text, /mallory/);
    });
  });

  describe('shared secret', () => {
    it('refuses a secret shorter than 16 bytes in the server form (and its Test), naming RFC 2865 §3; 16 is accepted', async () => {
      for (const secret of ['x', '123456789012345']) {
        const res = await admin.post('/settings/radius').type('form').send(serverForm({ secret }));
        assert.equal(res.status, 400);
        assert.match(res.text, /The shared secret must be at least 16 bytes long \(RFC 2865 §3\)/);
        assert.doesNotMatch(res.text, new RegExp(`value="${secret}"`));
        const test = await admin.post('/settings/radius/test').set('Accept', 'application/json').type('form').send(serverForm({ secret }));
        assert.equal(test.body.state, 'failed');
        assert.match(test.body.text, /at least 16 bytes/);
      }
      assert.ok(!built.radius.settings.servers.some((s) => s.name === 'extra'));
      const page = await admin.get('/settings/radius/new');
      assert.match(page.text, /<input id="secret" name="secret" type="password" autocomplete="new-password" minlength="16"/);
      const ok = await admin.post('/settings/radius').type('form').send(serverForm({ secret: '1234567890123456' }));
      assert.equal(ok.status, 303);
      // Editing with the secret left blank keeps the saved one (whatever its length came from).
      const kept = await admin.post('/settings/radius/edit/extra').type('form').send(serverForm({ original: 'extra', secret: '' }));
      assert.equal(kept.status, 303);
      assert.equal((await admin.post('/settings/radius/delete/extra')).status, 303);
    });
  });

  it("shows the library's short-secret warning for a secret that came from elsewhere (RADIUS_* variables) in the alerts", async () => {
    const other = createApp({ servers: [{ name: 'from-env', address: demo.servers[0]!.address, secret: 'testing123', attributes: { 'NAS-Identifier': 'x' } }] });
    try {
      await new Promise((resolve) => setImmediate(resolve)); // the client emits its warnings on the next tick
      const line = other.alerts.alerts().find((e) => /short|octets/.test(e.text));
      assert.ok(line, JSON.stringify(other.alerts.list()));
      assert.equal(line.level, 'warn');
      assert.match(line.text, /^from-env: the shared secret of "from-env" is 10 octets/);
      assert.doesNotMatch(line.text, /testing123/);
    } finally {
      await other.close();
    }
  });

  describe('lock-out guard', () => {
    it("refuses to leave the signed-in admin's own organization without a server (method None, no provider), with the form again", async () => {
      const before = JSON.stringify(built.radius.settings);
      const none = await admin.post('/organizations/system').type('form').send({ name: 'System-wide', method: 'none', providers: 'system' });
      assert.equal(none.status, 400);
      assert.match(none.text, /This change would leave your own organization \(System-wide\) without a RADIUS server: you could not sign in again\./);
      assert.match(none.text, /<form method="post" action="\/organizations\/system"/);
      const empty = await admin.post('/organizations/system').type('form').send({ name: 'System-wide', method: 'radius' });
      assert.equal(empty.status, 400);
      assert.equal(JSON.stringify(built.radius.settings), before);
      // alice can still sign in.
      await signIn(built, alice.username, alice.password);
    });

    it('refuses moving the admin into an organization without a server (listing her as its user)', async () => {
      const before = JSON.stringify(built.radius.settings);
      const res = await admin.post('/organizations').type('form').send({ name: 'Empty', parent: 'system' });
      const id = decodeURIComponent(String(res.headers.location).split('/').pop()!);
      try {
        const moved = await admin.post(`/organizations/${id}`).type('form').send({ name: 'Empty', users: 'alice', parent: 'system', method: 'none' });
        assert.equal(moved.status, 400);
        assert.match(moved.text, /your own organization \(Empty\) without a RADIUS server/);
      } finally {
        await admin.post(`/organizations/${id}/delete`);
      }
      assert.equal(JSON.stringify(built.radius.settings), before);
    });

    it("makes a change to the admin's own servers with a warning on the page; others' changes without one", async () => {
      const moved = await admin.post('/organizations/system').type('form').send({ name: 'System-wide', method: 'radius', providers: 'acme-2fa' });
      try {
        assert.equal(moved.status, 303);
        const page = await admin.get('/organizations');
        assert.match(
          page.text,
          /<p class="message warn" role="alert">Saved System-wide\. Your own sign-in changed: your organization now signs in with acme-2fa \(was system\)\. You were signed in by system\. Before you sign out, sign in from a private window/,
        );
      } finally {
        const back = await admin.post('/organizations/system').type('form').send({ name: 'System-wide', method: 'radius', providers: 'system' });
        assert.equal(back.status, 303);
      }
      // Her own server's address changes: saved, with a warning to check before signing out.
      const system = built.radius.settings.servers.find((s) => s.name === 'system')!;
      const edited = await admin.post('/settings/radius/edit/system').type('form').send({
        original: 'system', name: 'system', address: system.address.replace('127.0.0.1', 'localhost'), secret: '', attributes: 'NAS-Identifier = passport-radius-example', timeout: '5', protocol: 'pap',
      });
      assert.equal(edited.status, 303);
      try {
        assert.match((await admin.get('/settings/radius')).text, /class="message warn" role="alert">Saved system\. Your own sign-in changed: system, which you sign in with, changed\./);
      } finally {
        await admin.post('/settings/radius/edit/system').type('form').send({ original: 'system', name: 'system', address: system.address, secret: '', attributes: 'NAS-Identifier = passport-radius-example', timeout: '5', protocol: 'pap' });
      }
      // Globex is not alice's organization: no warning.
      const other = await admin.post('/organizations/globex').type('form').send({ name: 'Globex', domain: 'globex.example', parent: 'system', inherit: '1', method: 'radius' });
      assert.equal(other.status, 303);
      const page = await admin.get('/organizations');
      assert.match(page.text, /<p class="message ok" role="status">Saved Globex\.<\/p>/);
      // Another admin (CONSOLE_ADMINS) of another organization may change it: the guard is about oneself.
      const bobAdmin = createApp({ settings: built.radius.settings, admins: [bob.username] });
      try {
        const agent = await signIn(bobAdmin, bob.username, bob.password);
        const res = await agent.post('/organizations/acme').type('form').send({ name: 'Acme', domain: 'acme.example', parent: 'system', method: 'none' });
        assert.equal(res.status, 303);
      } finally {
        await bobAdmin.close();
      }
    });
  });

  it('warns when the admin deletes the server that signed them in (their organization chose another first)', async () => {
    const own = createApp({ settings: demo.settings });
    try {
      const agent = await signIn(own, alice.username, alice.password);
      await agent.post('/organizations/system').type('form').send({ name: 'System-wide', method: 'radius', providers: 'acme-2fa' }).expect(303);
      await agent.post('/organizations/globex').type('form').send({ name: 'Globex', domain: 'globex.example', parent: 'system', inherit: '1', method: 'radius' }).expect(303);
      const deleted = await agent.post('/settings/radius/delete/system');
      assert.equal(deleted.status, 303);
      assert.match((await agent.get('/settings/radius')).text, /class="message warn" role="alert">Deleted system\. Your own sign-in changed: system, which signed you in, was deleted\./);
    } finally {
      await own.close();
    }
  });

  describe('challenge page', () => {
    it('keeps an over-long or empty code on the challenge page with a message, and the right code then signs in', async () => {
      const agent = request.agent(built.app);
      await agent.post('/login').type('form').send({ username: carol.username, password: carol.password }).expect(303);
      const page = await agent.get('/login/challenge');
      assert.match(page.text, /<input id="code" name="code" type="password"[^>]* required autofocus>/, 'the demo server allows no empty response');
      const long = await agent.post('/login/challenge').type('form').send({ code: '9'.repeat(200) });
      assert.equal(long.status, 303);
      assert.equal(long.headers.location, '/login/challenge');
      assert.match((await agent.get('/login/challenge')).text, /role="alert">That code is too long\. Enter the code you received\.<\/p>/);
      const empty = await agent.post('/login/challenge').type('form').send({ code: '' });
      assert.equal(empty.headers.location, '/login/challenge');
      assert.match((await agent.get('/login/challenge')).text, /role="alert">Enter the code\.<\/p>/);
      const right = await agent.post('/login/challenge').type('form').send({ code: carol.code });
      assert.equal(right.headers.location, '/account');
    });

    it('lets the code field be left empty only for a server that allows an empty response (FortiAuthenticator push)', async () => {
      const forti = new FortiAuthenticatorProfile({ pushDelayMs: 50, users: { alice: { password: 'alice-pw', tokencode: '135790' } } });
      const server = new RadiusTestServer({ secret: 'forti-secret-forti-secret', handler: forti });
      await server.listen();
      const app = createApp({
        servers: [{ name: 'forti', address: server.address, secret: 'forti-secret-forti-secret', attributes: { 'NAS-Identifier': 'console' }, timeout: 3000, allowEmptyResponse: true }],
      });
      try {
        assert.equal(app.radius.settings.servers[0]!.allowEmptyResponse, true);
        const agent = request.agent(app.app);
        await agent.post('/login').type('form').send({ username: 'alice', password: 'alice-pw' }).expect(303);
        const page = await agent.get('/login/challenge');
        assert.match(page.text, /<input id="code" name="code" type="[a-z]+" autocomplete="one-time-code" inputmode="numeric" aria-describedby="empty-hint" autofocus>/);
        assert.doesNotMatch(page.text, /required/);
        assert.match(page.text, /leave it empty and press Verify/);
        const pushed = await agent.post('/login/challenge').type('form').send({ code: '' });
        assert.equal(pushed.headers.location, '/account');
        assert.equal(forti.pushCount('alice'), 1);
      } finally {
        await app.close();
        await server.close();
      }
    });

    it('keeps allowEmptyResponse set in the server form', async () => {
      const res = await admin.post('/settings/radius').type('form').send(serverForm({ name: 'push', allowEmptyResponse: '1' }));
      assert.equal(res.status, 303);
      try {
        assert.equal(built.radius.settings.servers.find((s) => s.name === 'push')?.allowEmptyResponse, true);
        assert.equal(built.strategy.client.allowsEmptyResponse('push'), true);
        assert.match((await admin.get('/settings/radius/edit/push')).text, /name="allowEmptyResponse" value="1" checked/);
      } finally {
        await admin.post('/settings/radius/delete/push');
      }
    });
  });

  describe('no server answered', () => {
    it('is 503 with Retry-After and a plain sentence', async () => {
      const dead = await freeUdpPort();
      const other = createApp({ servers: [{ name: 'gone', address: `127.0.0.1:${dead}`, secret: 'a-long-enough-secret-1', attributes: { 'NAS-Identifier': 'x' }, timeout: 300 }] });
      try {
        const res = await request(other.app).post('/login').type('form').send({ username: 'alice', password: 'pw' });
        assert.equal(res.status, 503);
        assert.equal(res.headers['retry-after'], '60');
        assert.match(res.text, /The sign-in service is not answering\. Please try again in a few minutes\./);
        assert.match(res.text, /<title>[^<]*Sign-in is unavailable/);
      } finally {
        await other.close();
      }
    });

    it('is not what an oversized request gets: 413, titled as a refused request', async () => {
      const res = await request(built.app).post('/login').type('form').send({ username: 'alice', password: 'x'.repeat(200_000) });
      assert.equal(res.status, 413);
      assert.match(res.text, /<title>[^<]*The request was refused/);
      assert.doesNotMatch(res.text, /Sign-in is unavailable/);
    });
  });

  describe('deprecated client names', () => {
    it('renders the servers and status pages from serverStatus(), not the deprecated servers()', async () => {
      const client = built.strategy.client as unknown as { servers: () => unknown };
      const original = client.servers;
      client.servers = () => {
        throw new Error('the deprecated servers() was called');
      };
      try {
        assert.equal((await admin.get('/settings/radius')).status, 200);
        assert.equal((await admin.get('/status')).status, 200);
      } finally {
        client.servers = original;
      }
    });
  });
});
