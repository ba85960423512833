/**
 * RadiusStrategy end to end against a real FreeRADIUS 3.2 server (PAP, CHAP, failover, verification).
 */
import { strict as assert } from 'node:assert';
import type { Express } from 'express';
import request from 'supertest';
import { RadiusStrategy, type RadiusServerOptions } from '../lib';
import { RadiusTestServer, type Faults } from '../lib/testing';
import { buildApp, closeAll } from './support/app';
import { describeFreeRadius, outputAfterReply, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { freeUdpPort } from './support/ports';

const NAS = { 'NAS-Identifier': 'passport-test' };

function server(name: string, fr: FreeRadiusServer, extra: Partial<RadiusServerOptions> = {}): RadiusServerOptions {
  return { name, address: fr.address, secret: fr.secret, attributes: NAS, timeout: 3000, retries: 2, ...extra };
}

async function login(app: Express, username: string, password: string) {
  return request(app).post('/login').type('form').send({ username, password });
}

describeFreeRadius('RadiusStrategy against FreeRADIUS', function () {
  let signed: FreeRadiusServer;
  let unsigned: FreeRadiusServer;
  const testServers: RadiusTestServer[] = [];

  async function testServer(
    users: ConstructorParameters<typeof RadiusTestServer>[0]['users'] = {},
    faults: Faults = {},
  ): Promise<RadiusTestServer> {
    const s = new RadiusTestServer({ secret: 'test-server-secret', users, faults });
    await s.listen();
    testServers.push(s);
    return s;
  }
  const fromTestServer = (name: string, s: RadiusTestServer): RadiusServerOptions => ({
    name,
    address: s.address,
    secret: 'test-server-secret',
    attributes: NAS,
    timeout: 1000,
    retries: 1,
  });

  before(async function () {
    this.timeout(30000);
    [signed, unsigned] = await Promise.all([startFreeRadius(), startFreeRadius({ signReplies: false })]);
  });
  afterEach(closeAll);
  after(async () => {
    await Promise.all(testServers.splice(0).map((s) => s.close()));
    await Promise.all([signed?.stop(), unsigned?.stop()]);
  });

  describe('with PAP', () => {
    it('signs alice in and FreeRADIUS saw a signed Access-Request with the NAS-Identifier', async () => {
      const { app, storeDump } = buildApp({ servers: [server('fr', signed)] });
      const res = await login(app, USERS.alice.name, USERS.alice.password);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.user.username, 'alice');
      assert.equal(res.body.user.server, 'fr');
            assert.deepEqual(res.body.info, { server: 'fr', replyMessage: 'Welcome alice' });
      const out = signed.output();
      assert.match(out, /User-Name = "alice"/);
      assert.match(out, /NAS-Identifier = "passport-test"/);
      assert.match(out, /Message-Authenticator = 0x/);
      assert.ok(!storeDump().includes(USERS.alice.password), 'the session store holds the password');
    });

    it('turns a wrong password away with 401 and the default message', async () => {
      const { app } = buildApp({ servers: [server('fr', signed)] });
      const res = await login(app, 'alice', 'wrong-password');
      assert.equal(res.status, 401);
      assert.equal(res.body.info.message, 'Invalid username or password');
    });

    it('joins several Reply-Messages of an Access-Reject in order', async () => {
      const { app } = buildApp({ servers: [server('fr', signed)] });
      const res = await login(app, USERS.rejectme.name, 'anything');
      assert.equal(res.status, 401);
      assert.equal(res.body.info.message, USERS.rejectme.replyMessages.join(''));
    });

    it('signs in with a UTF-8 user name and password', async () => {
      const { app } = buildApp({ servers: [server('fr', signed)] });
      const res = await login(app, USERS.jorg.name, USERS.jorg.password);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.user.username, USERS.jorg.name);
    });

    it('signs in with 17- and 128-byte passwords', async () => {
      const { app } = buildApp({ servers: [server('fr', signed)] });
      assert.equal(Buffer.byteLength(USERS.long17.password), 17);
      assert.equal(Buffer.byteLength(USERS.long128.password), 128);
      assert.equal((await login(app, USERS.long17.name, USERS.long17.password)).status, 200);
      assert.equal((await login(app, USERS.long128.name, USERS.long128.password)).status, 200);
    });
  });

  describe('with CHAP', () => {
    it('signs alice in with CHAP-Password and no User-Password', async () => {
      const { app } = buildApp({ servers: [server('fr', signed, { protocol: 'chap' })] });
      const before = signed.output().length;
      const res = await login(app, USERS.alice.name, USERS.alice.password);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const seen = await outputAfterReply(signed, before);
      assert.match(seen, /CHAP-Password = 0x/);
      assert.doesNotMatch(seen, /User-Password =/);
    });

    it('turns a wrong CHAP password away with 401', async () => {
      const { app } = buildApp({ servers: [server('fr', signed, { protocol: 'chap' })] });
      const res = await login(app, 'alice', 'not-her-password');
      assert.equal(res.status, 401);
    });
  });

  describe('with several servers', () => {
    it('moves on after an Access-Reject from A and signs in at B', async () => {
      const a = await testServer({});
      const { app } = buildApp({ servers: [fromTestServer('a', a), server('b', signed)] });
      const res = await login(app, 'alice', USERS.alice.password);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.info.server, 'b');
      assert.equal(a.received.length, 1);
    });

    it('stops at the first Access-Reject with failoverOnReject: false', async () => {
      const b = await testServer({ alice: { password: 'only-here' } });
      const { app } = buildApp({ servers: [server('a', signed), fromTestServer('b', b)], failoverOnReject: false });
      const res = await login(app, 'alice', 'only-here');
      assert.equal(res.status, 401);
      assert.equal(b.received.length, 0, 'B was contacted');
    });

    it('moves on at once when nothing listens on A (ICMP port unreachable)', async () => {
      const dead = await freeUdpPort();
      const { app } = buildApp({
        servers: [{ name: 'a', address: `127.0.0.1:${dead}`, secret: 'x', attributes: NAS, timeout: 10000 }, server('b', signed)],
      });
      const started = Date.now();
      const res = await login(app, 'alice', USERS.alice.password);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.info.server, 'b');
      assert.ok(Date.now() - started < 5000, 'waited out the timeout instead of failing over');
    });

    it('errors naming every server when none answers', async () => {
      const [p1, p2] = [await freeUdpPort(), await freeUdpPort()];
      const { app } = buildApp({
        servers: [
          { name: 'first', address: `127.0.0.1:${p1}`, secret: 'x', attributes: NAS, timeout: 500 },
          { name: 'second', address: `127.0.0.1:${p2}`, secret: 'x', attributes: NAS, timeout: 500 },
        ],
      });
      const res = await login(app, 'alice', 'pw');
      assert.equal(res.status, 500);
      assert.equal(res.body.name, 'RadiusUnavailableError');
      assert.match(res.body.error, /first: unreachable/);
      assert.match(res.body.error, /second: unreachable/);
    });
  });

  describe('verification of replies', () => {
    it('with a wrong shared secret, errors and FreeRADIUS reports the secret as incorrect', async () => {
      const { app } = buildApp({ servers: [server('fr', signed, { secret: 'not-the-secret', timeout: 800, retries: 0 })] });
      const res = await login(app, 'alice', USERS.alice.password);
      assert.equal(res.status, 500);
      assert.match(res.body.error, /shared secret/);
      await signed.waitForOutput(/[Ss]hared secret is incorrect/, 2000);
      assert.ok(!res.body.error.includes('not-the-secret'));
    });

    it('says replies failed verification when a server answers with another secret', async () => {
      // The test server would drop our request (its Message-Authenticator fails); let it answer anyway.
      const a = await testServer({ alice: { password: 'pw' } }, { ignoreRequestMessageAuthenticator: true });
      const { app } = buildApp({ servers: [{ ...fromTestServer('a', a), secret: 'wrong' }] });
      const res = await login(app, 'alice', 'pw');
      assert.equal(res.status, 500);
      assert.match(res.body.error, /failed verification/);
    });

    it('drops unsigned replies by default and says they lacked a Message-Authenticator', async () => {
      const { app } = buildApp({ servers: [server('fr', unsigned, { timeout: 800, retries: 0 })] });
      const res = await login(app, 'alice', USERS.alice.password);
      assert.equal(res.status, 500);
      assert.match(res.body.error, /lacked a Message-Authenticator/);
    });

    it('accepts unsigned replies with requireMessageAuthenticator: false', async () => {
      const { app } = buildApp({ servers: [server('fr', unsigned, { requireMessageAuthenticator: false })] });
      const res = await login(app, 'alice', USERS.alice.password);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });

    it('signs in over IPv6 (::1)', async () => {
      const { app } = buildApp({ servers: [server('fr6', signed, { address: signed.address6 })] });
      const res = await login(app, 'alice', USERS.alice.password);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
  });
});

describe('RadiusStrategy input checks (nothing is sent)', () => {
  let srv: RadiusTestServer;
  before(async () => {
    srv = new RadiusTestServer({ secret: 's', users: { alice: { password: 'pw' } } });
    await srv.listen();
  });
  after(async () => {
    await closeAll();
    await srv.close();
  });
  const opts = () => ({ servers: [{ name: 't', address: srv.address, secret: 's', attributes: NAS }] });

  for (const [what, body] of [
    ['no user name', { password: 'pw' }],
    ['an empty password', { username: 'alice', password: '' }],
    ['nothing at all', {}],
    ['a password over 128 bytes', { username: 'alice', password: 'é'.repeat(65) }],
    ['a user name over 253 bytes', { username: 'a'.repeat(254), password: 'pw' }],
  ] as const) {
    it(`fails with 400 for ${what}`, async () => {
      const before = srv.received.length;
      const { app } = buildApp(opts());
      const res = await request(app).post('/login').type('form').send(body);
      assert.equal(res.status, 400);
      assert.equal(srv.received.length, before);
    });
  }

  it('refuses credentials in the query string with 400 by default, sending nothing', async () => {
    const { app } = buildApp({ ...opts(), usernameField: 'user', passwordField: 'pass' });
    const before = srv.received.length;
    for (const path of ['/login?user=alice&pass=pw', '/login?pass=pw']) {
      const res = await request(app).post(path).type('form').send({ user: 'alice' });
      assert.equal(res.status, 400, path);
      assert.equal(res.body.info.message, 'Send the user name, password and code in the request body, not in the URL');
    }
    assert.equal(srv.received.length, before);
  });

  it('reads the fields from the query string too with allowQueryCredentials, and custom field names', async () => {
    const { app } = buildApp({ ...opts(), usernameField: 'user', passwordField: 'pass', allowQueryCredentials: true });
    const res = await request(app).post('/login?user=alice&pass=pw');
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('makes the profile req.user without a verify callback', async () => {
    const { app } = buildApp(opts());
    const agent = request.agent(app);
    await agent.post('/login').type('form').send({ username: 'alice', password: 'pw' }).expect(200);
    const who = await agent.get('/whoami').expect(200);
    assert.equal(who.body.user.provider, 'radius');
    assert.equal(who.body.user.username, 'alice');
    assert.equal(who.body.user.server, 't');
  });

  it('fails 401 when verify refuses, and errors when verify errors', async () => {
    const refuse = buildApp(opts(), (_u, _p, done) => done(null, false, { message: 'Not in this app' }));
    const r1 = await request(refuse.app).post('/login').type('form').send({ username: 'alice', password: 'pw' });
    assert.equal(r1.status, 401);
    assert.equal(r1.body.info.message, 'Not in this app');
    const boom = buildApp(opts(), (_u, _p, done) => done(new Error('database down')));
    const r2 = await request(boom.app).post('/login').type('form').send({ username: 'alice', password: 'pw' });
    assert.equal(r2.status, 500);
    assert.equal(r2.body.error, 'database down');
  });

  it('passes req to verify with passReqToCallback', async () => {
    const strategy = new RadiusStrategy({ ...opts(), passReqToCallback: true }, (req, username, profile, done) =>
      done(null, { username, path: req.path, server: profile.server }),
    );
    await strategy.close();
  });
});

describe('RadiusStrategy construction', () => {
  const good = { name: 'a', address: '127.0.0.1', secret: 's', attributes: NAS };
  const cases: Array<[string, unknown, RegExp]> = [
    ['no servers', { servers: [] }, /servers must be a non-empty array/],
    ['a bad address', { servers: [good, { ...good, name: 'b', address: 'host:99999' }] }, /servers\[1\]\.address must be host\[:port\]/],
    ['an address with a path', { servers: [{ ...good, address: 'http://x' }] }, /address must be host\[:port\]/],
    ['an empty secret', { servers: [{ ...good, secret: '' }] }, /servers\[0\]\.secret must be a non-empty string or Buffer/],
    ['no NAS attribute', { servers: [{ ...good, attributes: {} }] }, /NAS-Identifier, NAS-IP-Address or NAS-IPv6-Address/],
    ['an unknown attribute', { servers: [{ ...good, attributes: { ...NAS, 'Nope-Attr': 'x' } }] }, /unknown attribute "Nope-Attr"/],
    ['a bad protocol', { servers: [{ ...good, protocol: 'mschap' }] }, /protocol must be "pap" or "chap"/],
    ['a bad timeout', { servers: [{ ...good, timeout: -1 }] }, /timeout must be a number/],
    ['duplicate names', { servers: [good, good] }, /name "a" is used twice/],
    ['a bad maxChallengeRounds', { servers: [good], maxChallengeRounds: 0 }, /maxChallengeRounds/],
    ['a misspelt option', { servers: [good], failoverOnRejct: false }, /unknown option "failoverOnRejct"/],
    ['a misspelt server option', { servers: [{ ...good, timout: 5 }] }, /servers\[0\]: unknown option "timout"/],
    ['an IPv6 address with a port but no brackets', { servers: [{ ...good, address: '::1:1812' }] }, /IPv6 address in brackets: "\[::1\]:1812"/],
    ['a NAS-Identifier over 253 bytes', { servers: [{ ...good, attributes: { 'NAS-Identifier': 'x'.repeat(300) } }] }, /NAS-Identifier.*too long/],
  ];
  for (const [what, options, message] of cases) {
    it(`throws TypeError for ${what}`, () => {
      assert.throws(() => new RadiusStrategy(options as never), (err: Error) => err instanceof TypeError && message.test(err.message) && err.message.startsWith('RadiusStrategy'));
    });
  }

  it('never puts the secret in a construction error', () => {
    assert.throws(
      () => new RadiusStrategy({ servers: [{ ...good, secret: 'hunter2-secret', attributes: {} }] }),
      (err: Error) => !err.message.includes('hunter2-secret'),
    );
  });

  it('accepts host names, IPv4, bracketed IPv6 with and without ports', async () => {
    const s = new RadiusStrategy({
      servers: [
        { ...good, name: 'h', address: 'radius.example.com' },
        { ...good, name: 'i', address: '10.0.0.5:1645' },
        { ...good, name: 'j', address: '[::1]:1812' },
        { ...good, name: 'k', address: '[2001:db8::1]' },
      ],
    });
    assert.deepEqual(s.client.servers().map((x) => x.address), ['radius.example.com', '10.0.0.5:1645', '[::1]:1812', '[2001:db8::1]']);
    await s.close();
  });
});
