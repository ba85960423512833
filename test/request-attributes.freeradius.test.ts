/**
 * Per-request attributes (issue 12 item 1) and long shared secrets (item 5) as a real FreeRADIUS 3.2
 * receives them: Calling-Station-Id = req.ip (Express's `trust proxy` decides), NAS-Port-Type = Virtual,
 * the app's `requestAttributes`, a server's `null` turning a default off; secrets of 64 octets and more.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { RadiusServerOptions } from '../lib';
import { buildApp, closeAll } from './support/app';
import { describeFreeRadius, outputAfterReply, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';

function entry(fr: FreeRadiusServer, extra: Partial<RadiusServerOptions> = {}): RadiusServerOptions {
  return { name: 'fr', address: fr.address, secret: fr.secret, attributes: { 'NAS-Identifier': 'console' }, timeout: 3000, ...extra };
}

describeFreeRadius('Per-request attributes and shared secrets against FreeRADIUS', function () {
  let fr: FreeRadiusServer;
  let longSecret: FreeRadiusServer;
  let secret64: FreeRadiusServer;

  before(async function () {
    this.timeout(30_000);
    [fr, longSecret, secret64] = await Promise.all([
      startFreeRadius(),
      startFreeRadius({ secret: randomBytes(75).toString('base64') }), // 100 octets
      startFreeRadius({ secret: randomBytes(48).toString('base64') }), // 64 octets
    ]);
  });
  afterEach(closeAll);
  after(async () => {
    await Promise.all([fr?.stop(), longSecret?.stop(), secret64?.stop()]);
  });

  it('sends Calling-Station-Id = req.ip (from X-Forwarded-For behind a trusted proxy) and NAS-Port-Type = Virtual', async () => {
    const { app } = buildApp({ servers: [entry(fr)] });
    app.set('trust proxy', 'loopback');
    const mark = fr.output().length;
    const res = await request(app).post('/login').set('X-Forwarded-For', '198.51.100.23').type('form').send({ username: 'alice', password: USERS.alice.password });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const log = await outputAfterReply(fr, mark);
    assert.match(log, /Calling-Station-Id = "198\.51\.100\.23"/);
    assert.match(log, /NAS-Port-Type = Virtual/);
  });

  it('ignores X-Forwarded-For without trust proxy: the socket address is sent', async () => {
    const { app } = buildApp({ servers: [entry(fr)] });
    const mark = fr.output().length;
    const res = await request(app).post('/login').set('X-Forwarded-For', '198.51.100.23').type('form').send({ username: 'alice', password: USERS.alice.password });
    assert.equal(res.status, 200);
    const log = await outputAfterReply(fr, mark);
    assert.match(log, /Calling-Station-Id = "(::ffff:)?127\.0\.0\.1"/);
    assert.doesNotMatch(log, /198\.51\.100\.23/);
  });

  it('adds the app\'s requestAttributes, lets them replace a default, and a server\'s null keeps a default out', async () => {
    const { app } = buildApp({
      servers: [entry(fr, { attributes: { 'NAS-Identifier': 'console', 'NAS-Port-Type': null } })],
      requestAttributes: (req, username) => ({ 'Called-Station-Id': `console/${username}`, 'Calling-Station-Id': `ip:${req.ip ?? ''}` }),
    });
    const mark = fr.output().length;
    assert.equal((await request(app).post('/login').type('form').send({ username: 'alice', password: USERS.alice.password })).status, 200);
    const log = await outputAfterReply(fr, mark);
    assert.match(log, /Called-Station-Id = "console\/alice"/);
    assert.match(log, /Calling-Station-Id = "ip:(::ffff:)?127\.0\.0\.1"/);
    assert.doesNotMatch(log, /NAS-Port-Type/);
  });

  it('sends them with the challenge response too', async () => {
    const { app } = buildApp({ challengeURL: '/login/challenge', servers: [entry(fr)] });
    app.set('trust proxy', 'loopback');
    const agent = request.agent(app);
    await agent.post('/login').set('X-Forwarded-For', '198.51.100.7').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
    const mark = fr.output().length;
    const res = await agent.post('/login/challenge').set('X-Forwarded-For', '198.51.100.7').type('form').send({ code: USERS.carol.code });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const log = await outputAfterReply(fr, mark);
    assert.match(log, /State = 0x00ff80fe0d0a2200c3/);
    assert.match(log, /Calling-Station-Id = "198\.51\.100\.7"/);
    assert.match(log, /NAS-Port-Type = Virtual/);
  });

  for (const [label, server] of [
    ['64', () => secret64],
    ['100', () => longSecret],
  ] as const) {
    it(`signs in with a ${label}-octet shared secret, PAP (17-byte password) and CHAP, and a wrong password is refused`, async () => {
      const s = server();
      assert.equal(Buffer.byteLength(s.secret), Number(label));
      const pap = buildApp({ servers: [entry(s)] }).app;
      assert.equal((await request(pap).post('/login').type('form').send({ username: 'long17', password: USERS.long17.password })).status, 200);
      assert.equal((await request(pap).post('/login').type('form').send({ username: 'alice', password: 'not-it' })).status, 401);
      const chap = buildApp({ servers: [entry(s, { protocol: 'chap' })] }).app;
      assert.equal((await request(chap).post('/login').type('form').send({ username: 'alice', password: USERS.alice.password })).status, 200);
    });
  }
});
