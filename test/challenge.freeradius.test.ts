/**
 * The two-factor Access-Challenge flow (RFC 2865 §4.4) through HTTP, against FreeRADIUS.
 */
import { strict as assert } from 'node:assert';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { RadiusStrategy, type RadiusServerOptions, type RadiusStrategyOptions } from '../lib';
import { RadiusTestServer } from '../lib/testing';
import { buildApp, closeAll, passportFor } from './support/app';
import { describeFreeRadius, outputAfterReply, startFreeRadius, USERS, waitForOutputSince, type FreeRadiusServer } from './support/freeradius';
import { sleep } from './support/time';
import { signInWithCode } from './support/sign-in';

const NAS = { 'NAS-Identifier': 'passport-test' };

function flow(options: RadiusStrategyOptions, extra?: Parameters<typeof buildApp>[2]) {
  const built = buildApp({ challengeURL: '/login/challenge', ...options }, undefined, extra);
  return { ...built, agent: request.agent(built.app) };
}

describeFreeRadius('RadiusStrategy with an Access-Challenge (FreeRADIUS)', function () {
  let fr: FreeRadiusServer;
  const testServers: RadiusTestServer[] = [];
  const server = (extra: Partial<RadiusServerOptions> = {}): RadiusServerOptions => ({
    name: 'fr',
    address: fr.address,
    secret: fr.secret,
    attributes: NAS,
    timeout: 3000,
    ...extra,
  });
  async function rejectingTestServer(): Promise<RadiusServerOptions> {
    const s = new RadiusTestServer({ secret: 'ts', users: {} });
    await s.listen();
    testServers.push(s);
    return { name: 'ts', address: s.address, secret: 'ts', attributes: NAS, timeout: 1000 };
  }

  before(async function () {
    this.timeout(30000);
    fr = await startFreeRadius();
  });
  afterEach(closeAll);
  after(async () => {
    await Promise.all(testServers.splice(0).map((s) => s.close()));
    await fr?.stop();
  });

  it('redirects to the challenge route with 303 and keeps State in the session, not the password', async () => {
    const { agent, storeDump } = flow({ servers: [server()] });
    const res = await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/login/challenge');
    assert.ok(!JSON.stringify(res.headers).includes(USERS.carol.state.toString('base64')), 'State leaked to the browser');
    const s = (await agent.get('/session')).body.radius;
    assert.equal(s.state, USERS.carol.state.toString('base64'));
    assert.equal(Buffer.from(s.state, 'base64').toString('hex'), '00ff80fe0d0a2200c3');
    assert.equal(s.server, 'fr');
    assert.equal(s.username, 'carol');
    assert.equal(s.prompt, USERS.carol.challengeMessage);
    assert.equal(s.echo, false);
    assert.equal(s.round, 1);
    assert.ok(s.expiresAt > Date.now());
    assert.ok(!storeDump().includes(USERS.carol.password));
  });

  it('signs in with the code, sending the State byte for byte, and clears the challenge', async () => {
    const { agent, storeDump } = flow({ servers: [server()] });
    await signInWithCode(agent, fr);
    const session = (await agent.get('/session')).body;
    assert.equal(session.radius, undefined);
    assert.equal((await agent.get('/whoami')).status, 200);
    assert.ok(!storeDump().includes(USERS.carol.code), 'the session store holds the code');
  });

  it('turns a wrong code away with 401 and does not sign in', async () => {
    const { agent } = flow({ servers: [server()] });
    await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
    const res = await agent.post('/login/challenge').type('form').send({ code: '000000' });
    assert.equal(res.status, 401);
    assert.equal((await agent.get('/whoami')).status, 401);
  });

  it('refuses a code over 128 bytes with 400, sending nothing, and keeps the challenge for the right code', async () => {
    const { agent } = flow({ servers: [server()] });
    await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
    const mark = fr.output().length;
    const long = await agent.post('/login/challenge').type('form').send({ code: '1'.repeat(129) });
    assert.equal(long.status, 400);
    assert.equal(long.body.info.message, 'Code is too long');
    assert.doesNotMatch(fr.output().slice(mark), /Received Access-Request/);
    assert.equal((await agent.get('/session')).body.radius?.username, 'carol', 'the pending challenge was spent');
    const res = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('answers a code with nothing pending with 403', async () => {
    const { agent } = flow({ servers: [server()] });
    const res = await agent.post('/login/challenge').type('form').send({ code: '123456' });
    assert.equal(res.status, 403);
    assert.equal(res.body.info.message, 'No pending RADIUS challenge');
  });

  it('answers the same code replayed after success with 403', async () => {
    const { agent } = flow({ servers: [server()] });
    await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
    await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code }).expect(200);
    const again = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
    assert.equal(again.status, 403);
  });

  it('answers an expired challenge with 403 and sends nothing', async () => {
    const { agent } = flow({ servers: [server()], challengeTimeout: 50 });
    await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
    await sleep(120);
    const mark = fr.output().length;
    const res = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
    assert.equal(res.status, 403);
    assert.doesNotMatch(fr.output().slice(mark), /Received Access-Request/);
  });

  it('ignores a different user name in the body of the code step', async () => {
    const { agent } = flow({ servers: [server()] });
    await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
    const res = await agent.post('/login/challenge').type('form').send({ username: 'alice', code: USERS.carol.code });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user.username, 'carol');
  });

  it('goes through two rounds, echo following the Prompt attribute', async () => {
    const { agent } = flow({ servers: [server()] });
    await agent.post('/login').type('form').send({ username: 'dave', password: USERS.dave.password }).expect(303);
    let s = (await agent.get('/session')).body.radius;
    assert.equal(s.round, 1);
    assert.equal(s.echo, true);
    assert.equal(Buffer.from(s.state, 'base64').toString(), 'dave-round-1');
    await agent.post('/login/challenge').type('form').send({ code: USERS.dave.rounds[0]!.code }).expect(303);
    s = (await agent.get('/session')).body.radius;
    assert.equal(s.round, 2);
    assert.equal(Buffer.from(s.state, 'base64').toString(), 'dave-round-2');
    const res = await agent.post('/login/challenge').type('form').send({ code: USERS.dave.rounds[1]!.code });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('fails 401 past maxChallengeRounds', async () => {
    const { agent } = flow({ servers: [server()], maxChallengeRounds: 1 });
    await agent.post('/login').type('form').send({ username: 'dave', password: USERS.dave.password }).expect(303);
    const res = await agent.post('/login/challenge').type('form').send({ code: USERS.dave.rounds[0]!.code });
    assert.equal(res.status, 401);
    assert.equal((await agent.get('/session')).body.radius, undefined);
  });

  it('handles a challenge without State and joins its Reply-Messages in order', async () => {
    const { agent } = flow({ servers: [server()] });
    await agent.post('/login').type('form').send({ username: 'erin', password: USERS.erin.password }).expect(303);
    const s = (await agent.get('/session')).body.radius;
    assert.equal(s.state, undefined);
    assert.equal(s.prompt, USERS.erin.challengeMessages.join(''));
    const res = await agent.post('/login/challenge').type('form').send({ code: USERS.erin.code });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('fails 401 with challenge: true and the prompt in API mode (no challengeURL)', async () => {
    const built = buildApp({ servers: [server()] });
    const agent = request.agent(built.app);
    const res = await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password });
    assert.equal(res.status, 401);
    assert.deepEqual(res.body.info, { message: USERS.carol.challengeMessage, challenge: true });
    const done = await agent.post('/login').type('form').send({ code: USERS.carol.code });
    assert.equal(done.status, 200, JSON.stringify(done.body));
  });

  it('sends the follow-up of a CHAP server as User-Password', async () => {
    const { agent } = flow({ servers: [server({ protocol: 'chap' })] });
    const mark = fr.output().length;
    await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
    await waitForOutputSince(fr, mark, /CHAP-Password = 0x/);
    const mark2 = fr.output().length;
    const res = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const second = await outputAfterReply(fr, mark2);
    assert.match(second, /User-Password = "123456"|User-Password/);
    assert.doesNotMatch(second, /CHAP-Password/);
  });

  it('sends the code to B when A rejects and B challenges', async () => {
    const a = await rejectingTestServer();
    const { agent } = flow({ servers: [a, server()] });
    await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
    assert.equal((await agent.get('/session')).body.radius.server, 'fr');
    const res = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(testServers.at(-1)!.received.length, 1, 'the code went to A');
  });

  it('never contacts B when A challenges', async () => {
    const b = await rejectingTestServer();
    const { agent } = flow({ servers: [server(), b] });
    await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
    await agent.post('/login/challenge').type('form').send({ code: '999999' }).expect(401);
    assert.equal(testServers.at(-1)!.received.length, 0);
  });

  it('discards a pending challenge when a new password sign-in starts', async () => {
    const { agent } = flow({ servers: [server()] });
    await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
    await agent.post('/login').type('form').send({ username: 'alice', password: 'wrong' }).expect(401);
    assert.equal((await agent.get('/session')).body.radius, undefined);
    await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code }).expect(403);
  });

  it('errors naming express-session when there is no session middleware', async () => {
    const { agent } = flow({ servers: [server()] }, { useSession: false });
    const res = await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password });
    assert.equal(res.status, 500);
    assert.match(res.body.error, /express-session/);
    const code = await agent.post('/login/challenge').type('form').send({ code: '1' });
    assert.equal(code.status, 500);
    assert.match(code.body.error, /express-session/);
  });
});

describe('RadiusStrategy with an Access-Challenge (odd State bytes, test server)', () => {
  for (const [what, state] of [
    ['NUL, 0xff and CR/LF bytes', Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x00, 0x80, 0x22, 0x27, 0x5c])],
    ['a 253-byte State', Buffer.from(Array.from({ length: 253 }, (_, i) => (i * 7 + 3) % 256))],
  ] as const) {
    it(`returns ${what} byte for byte through the session`, async () => {
      const srv = new RadiusTestServer({
        secret: 's',
        users: { carol: { password: 'pw', challenge: [{ code: '42', prompt: 'Code?', state }] } },
      });
      await srv.listen();
      try {
        const built = buildApp({ servers: [{ name: 't', address: srv.address, secret: 's', attributes: NAS }], challengeURL: '/c' });
        const agent = request.agent(built.app);
        await agent.post('/login').type('form').send({ username: 'carol', password: 'pw' }).expect(303);
        const res = await agent.post('/login/challenge').type('form').send({ code: '42' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const followUp = srv.received.at(-1)!;
        assert.ok(followUp.state && followUp.state.equals(state), 'State changed on the way');
      } finally {
        await closeAll();
        await srv.close();
      }
    });
  }
});

describe('RadiusStrategy with an Access-Challenge answered concurrently', () => {
  it('sends at most one code per challenge when code POSTs race on one session', async () => {
    const srv = new RadiusTestServer({
      secret: 's',
      users: { carol: { password: 'pw', challenge: [{ code: '42', prompt: 'Code?' }] } },
      faults: { delayMs: 200 },
    });
    await srv.listen();
    try {
      const built = buildApp({ servers: [{ name: 't', address: srv.address, secret: 's', attributes: NAS, timeout: 2000 }], challengeURL: '/c' });
      const agent = request.agent(built.app);
      await agent.post('/login').type('form').send({ username: 'carol', password: 'pw' }).expect(303);
      const before = srv.received.length;
      const codes = ['1', '2', '3', '4', '42', '5', '6', '7', '8', '9'];
      const results = await Promise.all(codes.map((code) => agent.post('/login/challenge').type('form').send({ code })));
      const followUps = srv.received.slice(before);
      assert.equal(followUps.length, 1, `${followUps.length} codes were sent for one challenge`);
      assert.equal(results.filter((r) => r.status === 403).length, codes.length - 1);
    } finally {
      await closeAll();
      await srv.close();
    }
  });
});

describe('RadiusStrategy with challenges from another strategy', () => {
  it('answers 403 to a code for a challenge another strategy issued, and sends nothing', async () => {
    const staff = new RadiusTestServer({ secret: 's', users: { carol: { password: 'pw', challenge: [{ code: '42', prompt: 'Code?' }] } } });
    const admin = new RadiusTestServer({ secret: 's', users: { carol: { password: 'pw', challenge: [{ code: '42', prompt: 'Code?' }] } } });
    await Promise.all([staff.listen(), admin.listen()]);
    const strategies = [
      new RadiusStrategy({ name: 'radius', servers: [{ name: 'primary', address: staff.address, secret: 's', attributes: NAS }], challengeURL: '/c' }),
      new RadiusStrategy({ name: 'radius-admin', servers: [{ name: 'primary', address: admin.address, secret: 's', attributes: NAS }], challengeURL: '/c' }),
    ];
    try {
      const pp = passportFor(...strategies);
      const web = express();
      web.use(express.urlencoded({ extended: false }));
      web.use(session({ secret: 't', resave: false, saveUninitialized: false }));
      web.use(pp.session());
      for (const name of ['radius', 'radius-admin']) {
        web.post(`/${name}`, (req, res, next) =>
          pp.authenticate(name, (err: unknown, user: unknown, info: unknown, status: number | undefined) => {
            if (err) return next(err);
            res.status(user ? 200 : (status ?? 401)).json({ user, info });
          })(req, res, next),
        );
      }
      const agent = request.agent(web);
      await agent.post('/radius').type('form').send({ username: 'carol', password: 'pw' }).expect(303);
      const res = await agent.post('/radius-admin').type('form').send({ code: '42' });
      assert.equal(res.status, 403);
      assert.equal(admin.received.length, 0, 'the admin strategy sent the code to its own server');
      assert.equal(staff.received.length, 1);
    } finally {
      await Promise.all(strategies.map((s) => s.close()));
      await Promise.all([staff.close(), admin.close()]);
    }
  });
});

describe('RadiusStrategy issuing an Access-Challenge', () => {
  it('gives the session a new id, so a session id planted beforehand cannot see or spend the challenge', async () => {
    const srv = new RadiusTestServer({ secret: 's', users: { carol: { password: 'pw', challenge: [{ code: '42', prompt: 'Code?' }] } } });
    await srv.listen();
    try {
      const built = buildApp({ servers: [{ name: 't', address: srv.address, secret: 's', attributes: NAS }], challengeURL: '/c' });
      const sid = (res: request.Response): string | undefined =>
        ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('connect.sid='))?.split(';')[0];
      // The attacker's session: one challenge already issued to it.
      const attacker = request.agent(built.app);
      const planted = sid(await attacker.post('/login').type('form').send({ username: 'carol', password: 'pw' }).expect(303));
      assert.ok(planted);
      // The victim's browser carries the planted id and signs in with the password.
      const victim = await request(built.app).post('/login').set('Cookie', planted).type('form').send({ username: 'carol', password: 'pw' });
      assert.equal(victim.status, 303);
      const fresh = sid(victim);
      assert.ok(fresh && fresh !== planted, 'the session id did not change at the challenge');
      // The planted id no longer holds any challenge.
      const watch = await request(built.app).get('/session').set('Cookie', planted);
      assert.equal(watch.body?.radius, undefined);
      const spend = await request(built.app).post('/login/challenge').set('Cookie', planted).type('form').send({ code: '42' });
      assert.equal(spend.status, 403);
      // The victim finishes with the new id.
      const done = await request(built.app).post('/login/challenge').set('Cookie', fresh).type('form').send({ code: '42' });
      assert.equal(done.status, 200, JSON.stringify(done.body));
    } finally {
      await closeAll();
      await srv.close();
    }
  });
});
