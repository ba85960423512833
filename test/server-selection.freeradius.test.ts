/**
 * Choosing servers per request: `selectServers(req)` and the per-route `servers` option, with FreeRADIUS
 * ("corp", the system-wide server) and a RadiusTestServer ("acme", an organization's own server).
 */
import { strict as assert } from 'node:assert';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import request from 'supertest';
import { RadiusStrategy, type RadiusServerOptions, type RadiusStrategyOptions } from '../lib';
import { RadiusTestServer } from '../lib/testing';
import { buildApp, closeAll, passportFor } from './support/app';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';

const NAS = { 'NAS-Identifier': 'passport-test' };

/** The organization's servers from the user name's domain; everyone else gets the system-wide server. */
function byDomain(_req: Request, username: string): string[] {
  const domain = username.includes('@') ? username.slice(username.lastIndexOf('@') + 1) : '';
  if (domain === 'acme.example') return ['acme'];
  if (domain === 'closed.example') return [];
  return ['corp'];
}

describeFreeRadius('Choosing servers per request (FreeRADIUS + RadiusTestServer)', function () {
  let fr: FreeRadiusServer;
  let acme: RadiusTestServer;
  let sent: string[];
  let servers: RadiusServerOptions[];

  function app(options: Partial<RadiusStrategyOptions>, route?: { servers?: string[] }) {
    const built = buildApp({ servers, challengeURL: '/login/challenge', ...options }, undefined, route ? { route } : {});
    built.strategy.client.on('request', (e) => sent.push(`${e.server}:${e.username}`));
    return { ...built, agent: request.agent(built.app) };
  }

  before(async function () {
    this.timeout(30000);
    fr = await startFreeRadius();
    acme = new RadiusTestServer({
      secret: 'acme-secret',
      users: {
        'bob@acme.example': { password: 'bob-password', replyMessage: 'Welcome bob' },
        alice: { password: 'acme-alice-password' },
      },
    });
    await acme.listen();
    servers = [
      { name: 'corp', address: fr.address, secret: fr.secret, attributes: NAS, timeout: 3000 },
      { name: 'acme', address: acme.address, secret: 'acme-secret', attributes: NAS, timeout: 3000 },
    ];
  });
  beforeEach(() => {
    sent = [];
    acme.received.length = 0;
  });
  afterEach(closeAll);
  after(async () => {
    await acme?.close();
    await fr?.stop();
  });

  it('tries every server in configured order by default', async () => {
    const { agent } = app({});
    const res = await agent.post('/login').type('form').send({ username: 'bob@acme.example', password: 'bob-password' });
    assert.equal(res.status, 200);
    assert.equal(res.body.user.server, 'acme');
    assert.deepEqual(sent, ['corp:bob@acme.example', 'acme:bob@acme.example']);
  });

  it("sends an organization's user only to its own server", async () => {
    const { agent } = app({ selectServers: byDomain });
    const res = await agent.post('/login').type('form').send({ username: 'bob@acme.example', password: 'bob-password' });
    assert.equal(res.status, 200);
    assert.equal(res.body.user.server, 'acme');
    assert.deepEqual(sent, ['acme:bob@acme.example']);
  });

  it('chooses by the user name the strategy sends, also when it comes in the query string (allowQueryCredentials)', async () => {
    const { agent } = app({ selectServers: byDomain, allowQueryCredentials: true });
    const res = await agent.post('/login?username=bob%40acme.example').type('form').send({ password: 'bob-password' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user.server, 'acme');
    assert.deepEqual(sent, ['acme:bob@acme.example']);
  });

  it('sends everyone else only to the system-wide server', async () => {
    const { agent } = app({ selectServers: byDomain });
    const res = await agent.post('/login').type('form').send({ username: USERS.alice.name, password: USERS.alice.password });
    assert.equal(res.status, 200);
    assert.equal(res.body.user.server, 'corp');
    assert.deepEqual(sent, ['corp:alice']);
    assert.equal(acme.received.length, 0);
  });

  it('follows the order selectServers returns, and accepts a promise', async () => {
    const { agent } = app({ selectServers: async () => ['acme', 'corp'] });
    // acme knows alice with another password: it rejects, then corp accepts.
    const res = await agent.post('/login').type('form').send({ username: USERS.alice.name, password: USERS.alice.password });
    assert.equal(res.status, 200);
    assert.equal(res.body.user.server, 'corp');
    assert.deepEqual(sent, ['acme:alice', 'corp:alice']);
  });

  it("fails 401 with 'RADIUS sign-in is not enabled for this account' for an empty list, sending nothing", async () => {
    const { agent } = app({ selectServers: byDomain });
    const res = await agent.post('/login').type('form').send({ username: 'eve@closed.example', password: 'whatever' });
    assert.equal(res.status, 401);
    assert.equal(res.body.info.message, 'RADIUS sign-in is not enabled for this account');
    assert.deepEqual(sent, []);
  });

  it('errors with RadiusConfigError naming a server that is not configured, sending nothing', async () => {
    const { agent } = app({ selectServers: () => ['corp', 'globex'] });
    const res = await agent.post('/login').type('form').send({ username: 'alice', password: 'pw-SECRET-1' });
    assert.equal(res.status, 500);
    assert.equal(res.body.name, 'RadiusConfigError');
    assert.match(res.body.error, /"globex"/);
    assert.ok(!JSON.stringify(res.body).includes('pw-SECRET-1'), 'no password in the error');
    assert.deepEqual(sent, []);
  });

  it('errors when selectServers throws or rejects', async () => {
    const { agent } = app({ selectServers: async () => Promise.reject(new Error('directory is down')) });
    const res = await agent.post('/login').type('form').send({ username: 'alice', password: 'x' });
    assert.equal(res.status, 500);
    assert.equal(res.body.error, 'directory is down');
    assert.deepEqual(sent, []);
  });

  it("lets the route's servers option win over selectServers", async () => {
    const { agent } = app({ selectServers: () => ['corp'] }, { servers: ['acme'] });
    const res = await agent.post('/login').type('form').send({ username: 'bob@acme.example', password: 'bob-password' });
    assert.equal(res.status, 200);
    assert.equal(res.body.user.server, 'acme');
    assert.deepEqual(sent, ['acme:bob@acme.example']);
  });

  it("checks the route's servers too", async () => {
    const { agent } = app({}, { servers: ['nope'] });
    const res = await agent.post('/login').type('form').send({ username: 'alice', password: 'x' });
    assert.equal(res.status, 500);
    assert.match(res.body.error, /"nope"/);
  });

  describe('the challenge follow-up', function () {
    for (const [title, followUp] of [
      ['whatever selectServers now returns', ['acme']],
      ['even when selectServers now returns an empty list', []],
    ] as const) {
      it(`goes to the server that issued the challenge, ${title}`, async () => {
        let calls = 0;
        const { agent } = app({
          selectServers: (req) => {
            calls++;
            return req.path === '/login/challenge' ? [...followUp] : ['corp'];
          },
        });
        const first = await agent.post('/login').type('form').send({ username: USERS.carol.name, password: USERS.carol.password });
        assert.equal(first.status, 303);
        const second = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
        assert.equal(second.status, 200);
        assert.equal(second.body.user.server, 'corp');
        assert.equal(second.body.user.username, 'carol');
        assert.deepEqual(sent, ['corp:carol', 'corp:carol']);
        assert.equal(acme.received.length, 0);
        assert.equal(calls, 1, 'selectServers is not consulted for the follow-up');
      });
    }

    it("goes to the issuing server even when the route's servers option names another", async () => {
      const strategy = new RadiusStrategy({ servers, challengeURL: '/login/challenge', holdDown: 0 });
      strategy.client.on('request', (e) => sent.push(`${e.server}:${e.username}`));
      const pp = passportFor(strategy);
      const web = express();
      web.use(express.urlencoded({ extended: false }));
      web.use(session({ secret: 't', resave: false, saveUninitialized: false }));
      const route = (names: string[]) => (req: Request, res: Response, next: NextFunction) =>
        pp.authenticate('radius', { servers: names }, (err: unknown, user: { server: string } | false) => {
          if (err) return next(err);
          res.status(user ? 200 : 401).json({ server: user ? user.server : null });
        })(req, res, next);
      web.post('/login', route(['corp']));
      web.post('/login/challenge', route(['acme']));
      try {
        const agent = request.agent(web);
        const first = await agent.post('/login').type('form').send({ username: USERS.carol.name, password: USERS.carol.password });
        assert.equal(first.status, 303);
        const second = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
        assert.equal(second.status, 200);
        assert.equal(second.body.server, 'corp');
        assert.deepEqual(sent, ['corp:carol', 'corp:carol']);
        assert.equal(acme.received.length, 0);
      } finally {
        await strategy.close();
      }
    });
  });
});
