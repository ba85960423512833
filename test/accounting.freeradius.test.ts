/**
 * Accounting of web sessions (RFC 2866) end to end: sign-in and sign-out through RadiusStrategy over
 * HTTP, and what FreeRADIUS 3.2 wrote to its `detail` file for each Accounting-Request.
 */
import { strict as assert } from 'node:assert';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import request from 'supertest';
import { RadiusStrategy, RadiusUnavailableError, type RadiusClientEvents, type RadiusServerOptions, type RadiusStrategyOptions } from '../lib';
import { passportFor } from './support/app';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { makePki, type Pki } from './support/tls';
import { sleep } from './support/time';

const NAS = { 'NAS-Identifier': 'passport-acct-test' };
/** One record of a FreeRADIUS `detail` file: attribute name → values as written (quotes removed). */
type DetailRecord = Map<string, string[]>;

function readDetail(file: string): DetailRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split(/\n\s*\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const record: DetailRecord = new Map();
      for (const line of block.split('\n').slice(1)) {
        const m = /^\s+([\w-]+) = (.*)$/.exec(line);
        if (!m) continue;
        const value = m[2]!.replace(/^"(.*)"$/, '$1');
        record.set(m[1]!, [...(record.get(m[1]!) ?? []), value]);
      }
      return record;
    });
}

/** Waits until the detail file holds a record matching `match`; fails after `limitMs`. */
async function waitForRecord(file: string, match: (r: DetailRecord) => boolean, limitMs = 5000): Promise<DetailRecord> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const found = readDetail(file).find(match);
    if (found) return found;
    if (performance.now() > deadline) assert.fail(`no such record in ${file} within ${limitMs} ms:\n${existsSync(file) ? readFileSync(file, 'utf8') : '(no file)'}`);
    await sleep(20);
  }
}

const one = (r: DetailRecord, name: string): string | undefined => r.get(name)?.[0];

interface AcctApp {
  app: express.Express;
  strategy: RadiusStrategy;
  errors: RadiusClientEvents['accounting-error'][0][];
}

const strategies: RadiusStrategy[] = [];

/**
 * Routes: POST /login (200 {user} after req.logIn), POST /logout (endSession, then req.logout; 204),
 * GET /session (the raw session); the interim middleware on every request.
 */
function buildAcctApp(options: RadiusStrategyOptions): AcctApp {
  const strategy = new RadiusStrategy({ holdDown: 0, accounting: true, ...options });
  strategies.push(strategy);
  const errors: AcctApp['errors'] = [];
  strategy.client.on('accounting-error', (e) => errors.push(e));
  const pp = passportFor(strategy);
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
  app.use(pp.session());
  app.use(strategy.accountingMiddleware());
  app.post('/login', (req, res, next) => {
    pp.authenticate('radius', (err: unknown, user: Express.User | false, info: unknown, status?: number) => {
      if (err) return next(err);
      if (!user) return res.status(status ?? 401).json({ info });
      req.logIn(user, (loginErr) => (loginErr ? next(loginErr) : res.json({ user })));
    })(req, res, next);
  });
  app.post('/logout', (req, res, next) => {
    strategy
      .endSession(req)
      .then(() => req.logout((err) => (err ? next(err) : res.status(204).end())))
      .catch(next);
  });
  app.get('/session', (req, res) => res.json(req.session));
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    void _next;
    res.status(500).json({ error: err.message });
  });
  return { app, strategy, errors };
}

function server(fr: FreeRadiusServer, extra: Partial<RadiusServerOptions> = {}): RadiusServerOptions {
  return { name: 'fr', address: fr.address, secret: fr.secret, attributes: NAS, timeout: 3000, retries: 2, accountingAddress: fr.acctAddress, ...extra };
}

describeFreeRadius('Accounting of web sessions against FreeRADIUS', function () {
  let fr: FreeRadiusServer;
  let wrongSecret: FreeRadiusServer;
  let blackhole: Socket | undefined;

  before(async function () {
    this.timeout(30000);
    [fr, wrongSecret] = await Promise.all([startFreeRadius(), startFreeRadius({ accountingSecret: 'not-the-auth-secret' })]);
  });
  afterEach(async () => {
    await Promise.all(strategies.splice(0).map((s) => s.close()));
    if (blackhole) await new Promise<void>((resolve) => blackhole!.close(() => resolve()));
    blackhole = undefined;
  });
  after(async () => {
    await Promise.all([fr?.stop(), wrongSecret?.stop()]);
  });

  it('writes Start at sign-in and Stop at endSession with one Acct-Session-Id, the echoed Class, Calling-Station-Id and the session time', async function () {
    this.timeout(15000);
    const { app, errors } = buildAcctApp({ servers: [server(fr)] });
    const agent = request.agent(app);
    const signedInAt = Date.now();
    const res = await agent.post('/login').type('form').send({ username: USERS.frank.name, password: USERS.frank.password });
    assert.equal(res.status, 200, JSON.stringify(res.body));

    const record = (await agent.get('/session')).body.radiusAccounting;
    assert.match(record.sessionId, /^[0-9A-F]{16}$/);
    assert.equal(record.server, 'fr');
    assert.equal(record.username, 'frank');
    assert.deepEqual(record.classes, USERS.frank.classes.map((c) => c.toString('base64')));
    assert.deepEqual(Object.keys(record).sort(), ['callingStationId', 'classes', 'server', 'sessionId', 'startedAt', 'username']);

    const start = await waitForRecord(fr.detailFile, (r) => one(r, 'Acct-Status-Type') === 'Start');
    assert.equal(one(start, 'Acct-Session-Id'), record.sessionId);
    assert.equal(one(start, 'User-Name'), 'frank');
    assert.equal(one(start, 'NAS-Identifier'), 'passport-acct-test');
    assert.equal(one(start, 'Calling-Station-Id'), '127.0.0.1');
    assert.deepEqual(start.get('Class'), USERS.frank.classes.map((c) => `0x${c.toString('hex')}`));
    assert.equal(one(start, 'Acct-Authentic'), 'RADIUS');
    assert.match(one(start, 'Acct-Delay-Time') ?? '', /^\d+$/, 'Acct-Delay-Time is sent');

    await sleep(1100); // so that Acct-Session-Time is at least 1 s
    const out = await agent.post('/logout');
    assert.equal(out.status, 204);
    const elapsed = (Date.now() - signedInAt) / 1000;
    const stop = await waitForRecord(fr.detailFile, (r) => one(r, 'Acct-Status-Type') === 'Stop');
    assert.equal(one(stop, 'Acct-Session-Id'), record.sessionId);
    assert.deepEqual(stop.get('Class'), start.get('Class'));
    assert.equal(one(stop, 'Calling-Station-Id'), '127.0.0.1');
    assert.equal(one(stop, 'Acct-Terminate-Cause'), 'User-Request');
    const sessionTime = Number(one(stop, 'Acct-Session-Time'));
    assert.ok(sessionTime >= 1 && sessionTime <= Math.ceil(elapsed), `Acct-Session-Time ${sessionTime} s after ${elapsed} s`);
    assert.equal((await agent.get('/session')).body.radiusAccounting, undefined, 'the record is gone with the sign-out');
    assert.deepEqual(errors, []);
    const startedAgain = readDetail(fr.detailFile).filter((r) => one(r, 'Acct-Session-Id') === record.sessionId);
    assert.equal(startedAgain.length, 2, 'one Start and one Stop');
  });

  it('sends Interim-Update from a request once accountingInterim has passed', async function () {
    this.timeout(15000);
    const { app } = buildAcctApp({ servers: [server(fr)], accountingInterim: 1000 });
    const agent = request.agent(app);
    assert.equal((await agent.post('/login').type('form').send({ username: 'alice', password: USERS.alice.password })).status, 200);
    const { sessionId } = (await agent.get('/session')).body.radiusAccounting;
    await sleep(1100);
    await agent.get('/session');
    const interim = await waitForRecord(fr.detailFile, (r) => one(r, 'Acct-Session-Id') === sessionId && one(r, 'Acct-Status-Type') === 'Interim-Update');
    assert.ok(Number(one(interim, 'Acct-Session-Time')) >= 1);
    await agent.get('/session'); // not due again yet
    await sleep(200);
    assert.equal(readDetail(fr.detailFile).filter((r) => one(r, 'Acct-Session-Id') === sessionId).length, 2, 'Start and one Interim-Update');
  });

  it('ends the previous accounting session with a Stop when the same web session signs in again', async function () {
    this.timeout(15000);
    const { app } = buildAcctApp({ servers: [server(fr)] });
    const agent = request.agent(app);
    const signIn = async (): Promise<string> => {
      assert.equal((await agent.post('/login').type('form').send({ username: 'alice', password: USERS.alice.password })).status, 200);
      return (await agent.get('/session')).body.radiusAccounting.sessionId as string;
    };
    const first = await signIn();
    const second = await signIn();
    assert.notEqual(first, second);
    const stop = await waitForRecord(fr.detailFile, (r) => one(r, 'Acct-Session-Id') === first && one(r, 'Acct-Status-Type') === 'Stop');
    assert.equal(one(stop, 'Acct-Terminate-Cause'), 'User-Request');
    await waitForRecord(fr.detailFile, (r) => one(r, 'Acct-Session-Id') === second && one(r, 'Acct-Status-Type') === 'Start');
  });

  it('delays neither sign-in nor sign-out when the accounting server does not answer', async function () {
    this.timeout(20000);
    // A UDP socket that takes every Accounting-Request and never answers (no ICMP error either).
    const received: Buffer[] = [];
    const hole = createSocket('udp4');
    blackhole = hole;
    hole.on('message', (msg) => received.push(msg));
    await new Promise<void>((resolve) => hole.bind(0, '127.0.0.1', resolve));
    const accountingAddress = `127.0.0.1:${hole.address().port}`;
    // Sign-in itself answers at once; accounting would wait 10 s per server before giving up.
    const { app, errors } = buildAcctApp({ servers: [server(fr, { accountingAddress, timeout: 10_000, retries: 0 })] });
    const agent = request.agent(app);
    let t = performance.now();
    const res = await agent.post('/login').type('form').send({ username: 'alice', password: USERS.alice.password });
    const signInMs = performance.now() - t;
    assert.equal(res.status, 200);
    t = performance.now();
    const out = await agent.post('/logout');
    const signOutMs = performance.now() - t;
    assert.equal(out.status, 204);
    assert.ok(signInMs < 5000 && signOutMs < 5000, `sign-in took ${Math.round(signInMs)} ms, sign-out ${Math.round(signOutMs)} ms`);
    for (let i = 0; i < 100 && received.length < 2; i++) await sleep(20);
    assert.deepEqual(
      received.map((p) => p[0]),
      [4, 4],
      'a Start and a Stop were sent (and are still unanswered)',
    );
    assert.deepEqual(errors, [], 'no accounting-error yet: the accounting timeout has not passed');
  });

  it('reports a wrong shared secret as an accounting-error, and the sign-in succeeds regardless', async function () {
    this.timeout(15000);
    const { app, errors } = buildAcctApp({ servers: [server(wrongSecret, { accountingAddress: wrongSecret.acctAddress, timeout: 1000, retries: 1 })] });
    const res = await request(app).post('/login').type('form').send({ username: 'alice', password: USERS.alice.password });
    assert.equal(res.status, 200, 'the sign-in itself is accepted');
    for (let i = 0; i < 150 && errors.length === 0; i++) await sleep(20);
    assert.equal(errors.length, 1);
    const [event] = errors as [RadiusClientEvents['accounting-error'][0]];
    assert.equal(event.statusType, 'Start');
    assert.equal(event.username, 'alice');
    assert.ok(event.error instanceof RadiusUnavailableError);
    assert.deepEqual(
      event.error.attempts.map((a) => [a.server, a.reason]),
      [['fr', 'timeout']],
    );
    assert.match(event.error.message, /shared secret/);
    assert.match(wrongSecret.output(), /invalid Request Authenticator/i, 'FreeRADIUS dropped the Accounting-Requests it could not verify');
    assert.deepEqual(readDetail(wrongSecret.detailFile), [], 'nothing was recorded');
  });
});

describeFreeRadius('Accounting of web sessions over RadSec (RFC 6614) against FreeRADIUS', function () {
  let pki: Pki;
  let fr: FreeRadiusServer;

  before(async function () {
    this.timeout(60000);
    pki = await makePki();
    fr = await startFreeRadius({ tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile } });
  });
  afterEach(async () => {
    await Promise.all(strategies.splice(0).map((s) => s.close()));
  });
  after(async () => {
    await fr?.stop();
    await pki?.remove();
  });

  it('sends Start and Stop over TLS to the server\'s own address, which records them', async function () {
    this.timeout(15000);
    const { app, errors } = buildAcctApp({
      servers: [
        {
          name: 'radsec',
          address: `127.0.0.1:${fr.tlsPort}`,
          transport: 'tls',
          tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
          attributes: NAS,
          timeout: 3000,
        },
      ],
    });
    const agent = request.agent(app);
    const res = await agent.post('/login').type('form').send({ username: USERS.frank.name, password: USERS.frank.password });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { sessionId } = (await agent.get('/session')).body.radiusAccounting;
    const start = await waitForRecord(fr.detailFile, (r) => one(r, 'Acct-Session-Id') === sessionId && one(r, 'Acct-Status-Type') === 'Start');
    assert.deepEqual(start.get('Class'), USERS.frank.classes.map((c) => `0x${c.toString('hex')}`));
    assert.equal((await agent.post('/logout')).status, 204);
    await waitForRecord(fr.detailFile, (r) => one(r, 'Acct-Session-Id') === sessionId && one(r, 'Acct-Status-Type') === 'Stop');
    assert.match(fr.output(), new RegExp(`Received Accounting-Request Id \\d+ from 127\\.0\\.0\\.1:\\d+ to 127\\.0\\.0\\.1:${fr.tlsPort}`));
    assert.doesNotMatch(fr.output(), new RegExp(`to 127\\.0\\.0\\.1:${fr.acctPort}`), 'nothing went to the UDP accounting port');
    assert.deepEqual(errors, []);
  });
});
