/**
 * The vendor profiles of `passport-radius/testing` (issue 12), each driven end to end through
 * RadiusStrategy's sign-in and challenge routes: the right answers sign in, the wrong ones do not, and the
 * simulated server sends exactly one push per sign-in attempt.
 */
import { strict as assert } from 'node:assert';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { RadiusServerOptions } from '../lib';
import {
  DuoProxyProfile,
  FortiAuthenticatorProfile,
  NpsMfaProfile,
  OktaAgentProfile,
  PrivacyIdeaProfile,
  RadiusTestServer,
  RsaProfile,
  type RadiusHandler,
} from '../lib/testing';
import { buildApp, closeAll } from './support/app';

const SECRET = 'vendor-profile-shared-secret';
const servers: RadiusTestServer[] = [];

async function serve(handler: RadiusHandler): Promise<RadiusTestServer> {
  const server = new RadiusTestServer({ secret: SECRET, handler });
  await server.listen();
  servers.push(server);
  return server;
}

/** A sign-in app (challengeURL flow) against one simulated server; retransmits every 333 ms. */
async function app(handler: RadiusHandler, extra: Partial<RadiusServerOptions> = {}): Promise<{ agent: TestAgent; server: RadiusTestServer }> {
  const server = await serve(handler);
  const { app: express } = buildApp({
    challengeURL: '/login/challenge',
    servers: [{ name: 'vendor', address: server.address, secret: SECRET, attributes: { 'NAS-Identifier': 'console' }, timeout: 3000, retries: 8, ...extra }],
  });
  express.set('trust proxy', 'loopback');
  return { agent: request.agent(express), server };
}

/** The user's browser address as the app sees it behind its (trusted, loopback) proxy. */
const BROWSER_IP = '203.0.113.50';

async function signIn(agent: TestAgent, username: string, password: string): Promise<request.Response> {
  return agent.post('/login').set('X-Forwarded-For', BROWSER_IP).type('form').send({ username, password });
}

async function answer(agent: TestAgent, code: string): Promise<request.Response> {
  return agent.post('/login/challenge').set('X-Forwarded-For', BROWSER_IP).type('form').send({ code });
}

async function pending(agent: TestAgent): Promise<{ prompt: string; echo: boolean; state?: string; round: number } | undefined> {
  return (await agent.get('/session')).body?.radius;
}

function accessRequests(server: RadiusTestServer, username: string): number {
  return server.received.filter((r) => r.code === 1 && r.username === username).length;
}

describe('Vendor profiles through RadiusStrategy', function () {
  this.timeout(10_000);
  afterEach(async () => {
    await closeAll();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  describe('Microsoft NPS with the Entra MFA extension', () => {
    const users = {
      alice: { password: 'alice-pw', method: 'push' as const },
      bob: { password: 'bob-pw', method: 'otp' as const, code: '123456' },
      dave: { password: 'dave-pw', method: 'push' as const, approves: false },
    };

    it('holds a push sign-in until approved, then signs in; retransmissions meanwhile make no second push', async () => {
      const nps = new NpsMfaProfile({ pushDelayMs: 900, users });
      const { agent, server } = await app(nps);
      const res = await signIn(agent, 'alice', 'alice-pw');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.user.username, 'alice');
      assert.equal(nps.pushCount('alice'), 1);
      assert.ok(accessRequests(server, 'alice') >= 2, 'the client retransmitted while the push was held');
      assert.ok((server.drops['in-progress'] ?? 0) >= 1, 'retransmissions of the held request were dropped');
      assert.equal(nps.pushLog[0]!.outcome, 'approved');
    });

    it('turns a wrong password away without a push, and a denied push with 401', async () => {
      const nps = new NpsMfaProfile({ pushDelayMs: 50, users });
      const { agent } = await app(nps);
      assert.equal((await signIn(agent, 'alice', 'wrong')).status, 401);
      assert.equal(nps.pushCount(), 0);
      assert.equal((await signIn(agent, 'dave', 'dave-pw')).status, 401);
      assert.equal(nps.pushCount('dave'), 1);
      assert.equal((await agent.get('/whoami')).status, 401);
    });

    it('asks an OTP user for the code with an Access-Challenge and signs in with it', async () => {
      const nps = new NpsMfaProfile({ users });
      const { agent } = await app(nps);
      const first = await signIn(agent, 'bob', 'bob-pw');
      assert.equal(first.status, 303);
      assert.match((await pending(agent))!.prompt, /verification code/);
      assert.equal((await answer(agent, '123456')).status, 200);
      assert.equal((await agent.get('/whoami')).status, 200);
      assert.equal(nps.pushCount(), 0);
    });

    it('compares Latin-1 passwords: a server entry with passwordEncoding latin1 signs in, utf8 does not', async () => {
      const latin = { erna: { password: 'Grüße-Müller', method: 'push' as const } };
      const utf8 = await app(new NpsMfaProfile({ pushDelayMs: 10, users: latin }));
      assert.equal((await signIn(utf8.agent, 'erna', 'Grüße-Müller')).status, 401);
      const nps = new NpsMfaProfile({ pushDelayMs: 10, users: latin });
      const latin1 = await app(nps, { passwordEncoding: 'latin1' });
      assert.equal((await signIn(latin1.agent, 'erna', 'Grüße-Müller')).status, 200);
      assert.equal(latin1.server.received[0]!.password, Buffer.from('Grüße-Müller', 'latin1').toString('utf8'), 'Latin-1 bytes on the wire');
      assert.equal(nps.pushCount('erna'), 1);
      const res = await signIn(latin1.agent, 'erna', 'Grüße-Müller-€');
      assert.equal(res.status, 500, 'a character outside Latin-1 is refused, never sent altered');
      assert.equal(latin1.server.received.length, 1);
    });

    it('turns a wrong OTP away with 401', async () => {
      const { agent } = await app(new NpsMfaProfile({ users }));
      assert.equal((await signIn(agent, 'bob', 'bob-pw')).status, 303);
      assert.equal((await answer(agent, '654321')).status, 401);
      assert.equal((await agent.get('/whoami')).status, 401);
    });
  });

  describe('Duo Authentication Proxy', () => {
    const users = { alice: { password: 'alice-pw', passcodes: ['111111', '222222'] }, dave: { password: 'dave-pw', approves: false } };

    it('auto: holds the sign-in for one push and signs in when approved', async () => {
      const duo = new DuoProxyProfile({ mode: 'auto', pushDelayMs: 600, users });
      const { agent } = await app(duo);
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 200);
      assert.equal(duo.pushCount('alice'), 1);
      assert.equal(duo.pushLog[0]!.clientIp, BROWSER_IP, 'Duo reads the user\'s IP from Calling-Station-Id');
    });

    it('auto: "password,phone" calls instead of pushing, "password,<passcode>" needs no device, a wrong passcode is refused', async () => {
      const duo = new DuoProxyProfile({ mode: 'auto', pushDelayMs: 50, users });
      const { agent } = await app(duo);
      assert.equal((await signIn(agent, 'alice', 'alice-pw,phone')).status, 200);
      assert.deepEqual(
        duo.pushLog.map((r) => r.kind),
        ['phone'],
      );
      assert.equal((await signIn(agent, 'alice', 'alice-pw,111111')).status, 200);
      assert.equal((await signIn(agent, 'alice', 'alice-pw,111111')).status, 401, 'a passcode works once');
      assert.equal((await signIn(agent, 'alice', 'wrong,push')).status, 401);
      assert.equal((await signIn(agent, 'dave', 'dave-pw')).status, 401, 'a denied push');
      assert.equal(duo.pushCount(), 1);
    });

    it('challenge: lists the factors, and "push" signs in after one push', async () => {
      const duo = new DuoProxyProfile({ mode: 'challenge', pushDelayMs: 50, users });
      const { agent } = await app(duo);
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      const menu = (await pending(agent))!.prompt;
      for (const word of ['push', 'phone', 'SMS', 'passcode']) assert.ok(menu.includes(word), menu);
      assert.equal(duo.pushCount(), 0, 'no push before the user chooses one');
      assert.equal((await answer(agent, 'push')).status, 200);
      assert.equal(duo.pushCount('alice'), 1);
    });

    it('challenge: "sms" sends passcodes and asks again; a passcode then signs in; a wrong one does not', async () => {
      const duo = new DuoProxyProfile({ mode: 'challenge', users });
      const { agent } = await app(duo);
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      assert.equal((await answer(agent, 'sms')).status, 303);
      assert.deepEqual(duo.smsSent, ['alice']);
      assert.equal((await answer(agent, '222222')).status, 200);
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      assert.equal((await answer(agent, '999999')).status, 401);
      assert.equal(duo.pushCount(), 0);
    });
  });

  describe('Okta RADIUS agent', () => {
    const users = {
      alice: { password: 'alice-pw', factors: ['push' as const, 'totp' as const], code: '424242' },
      carol: { password: 'carol-pw', factors: ['totp' as const], code: '737373' },
    };

    it('shows a menu of factors, then a second challenge for the code, and signs in with it', async () => {
      const okta = new OktaAgentProfile({ users });
      const { agent } = await app(okta);
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      assert.match((await pending(agent))!.prompt, /1\. .*push.*2\. .*totp/);
      assert.equal((await answer(agent, '2')).status, 303);
      const second = (await pending(agent))!;
      assert.match(second.prompt, /code/);
      assert.equal(second.round, 2);
      assert.equal((await answer(agent, '424242')).status, 200);
      assert.equal(okta.pushCount(), 0);
    });

    it('choosing push from the menu holds the follow-up for one push and signs in', async () => {
      const okta = new OktaAgentProfile({ pushDelayMs: 100, users });
      const { agent } = await app(okta);
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      assert.equal((await answer(agent, 'push')).status, 200);
      assert.equal(okta.pushCount('alice'), 1);
    });

    it('a wrong code, a wrong menu choice or a wrong password does not sign in', async () => {
      const okta = new OktaAgentProfile({ users });
      const { agent } = await app(okta);
      assert.equal((await signIn(agent, 'carol', 'carol-pw')).status, 303, 'one factor: straight to the code');
      assert.equal((await answer(agent, '000000')).status, 401);
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      assert.equal((await answer(agent, '7')).status, 401);
      assert.equal((await signIn(agent, 'alice', 'nope')).status, 401);
      assert.equal((await agent.get('/whoami')).status, 401);
    });
  });

  describe('RSA Authentication Manager', () => {
    const users = () => ({
      nora: { pin: '1234', tokencode: '111111', nextTokencode: '222222' },
      nick: { pin: '1234', tokencode: '111111', nextTokencode: '222222', mode: 'next-tokencode' as const },
      nina: { pin: '1234', tokencode: '111111', nextTokencode: '222222', mode: 'new-pin' as const },
    });

    it('signs in with PIN + tokencode, and turns a wrong passcode away', async () => {
      const { agent } = await app(new RsaProfile({ users: users() }));
      assert.equal((await signIn(agent, 'nora', '1234111111')).status, 200);
      assert.equal((await signIn(agent, 'nora', '1234999999')).status, 401);
    });

    it('Next Tokencode: one extra round with a long State, then signs in', async () => {
      const { agent } = await app(new RsaProfile({ users: users() }));
      assert.equal((await signIn(agent, 'nick', '1234111111')).status, 303);
      const state = Buffer.from((await pending(agent))!.state!, 'base64').toString('ascii');
      assert.match(state, /^RSA\|[0-9a-f-]{36}\|[0-9a-f-]{36}\|SECURID_NEXT$/);
      assert.equal((await answer(agent, '222222')).status, 200);
    });

    it('New PIN: three rounds, the PIN prompts echo on, the long State comes back byte for byte, then signs in', async () => {
      const rsa = new RsaProfile({ users: users() });
      const { agent, server } = await app(rsa);
      assert.equal((await signIn(agent, 'nina', '1234111111')).status, 303);
      const first = (await pending(agent))!;
      assert.equal(first.echo, true);
      const state = Buffer.from(first.state!, 'base64');
      assert.match(state.toString('ascii'), /^RSA\|.*\|SECURID_NEWPIN$/);
      assert.ok(state.length >= 90, `State is ${state.length} bytes`);
      assert.equal((await answer(agent, '8642')).status, 303);
      assert.equal((await pending(agent))!.echo, true);
      assert.ok(server.received.some((r) => r.state?.equals(state)), 'the State went back byte for byte');
      assert.equal((await answer(agent, '8642')).status, 303);
      const third = (await pending(agent))!;
      assert.equal(third.echo, false);
      assert.equal(third.round, 3);
      assert.equal((await answer(agent, '8642222222')).status, 200);
      assert.equal((await agent.get('/whoami')).status, 200);
    });

    it('New PIN: a confirmation that differs does not sign in', async () => {
      const { agent } = await app(new RsaProfile({ users: users() }));
      assert.equal((await signIn(agent, 'nina', '1234111111')).status, 303);
      assert.equal((await answer(agent, '8642')).status, 303);
      assert.equal((await answer(agent, '8643')).status, 401);
      assert.equal((await agent.get('/whoami')).status, 401);
    });
  });

  describe('privacyIDEA', () => {
    it('puts the transaction id in the State and signs in with the OTP', async () => {
      const pi = new PrivacyIdeaProfile({ users: { alice: { pin: 'alice-pin', otp: '287082' } } });
      const { agent, server } = await app(pi);
      assert.equal((await signIn(agent, 'alice', 'alice-pin')).status, 303);
      const state = Buffer.from((await pending(agent))!.state!, 'base64').toString('ascii');
      assert.match(state, /^\d{20}$/);
      assert.equal(server.received[0]!.attributes.find((a) => a.type === 61)?.value.readUInt32BE(0), 5, 'NAS-Port-Type = Virtual');
      assert.deepEqual(pi.transactions, [state]);
      assert.equal((await answer(agent, '287082')).status, 200);
    });

    it('a wrong OTP or PIN does not sign in', async () => {
      const { agent } = await app(new PrivacyIdeaProfile({ users: { alice: { pin: 'alice-pin', otp: '287082' } } }));
      assert.equal((await signIn(agent, 'alice', 'wrong')).status, 401);
      assert.equal((await signIn(agent, 'alice', 'alice-pin')).status, 303);
      assert.equal((await answer(agent, '000000')).status, 401);
    });

    it('a push token gets one push when the challenge is issued, answered at once (not held)', async () => {
      const pi = new PrivacyIdeaProfile({ pushDelayMs: null, users: { alice: { pin: 'alice-pin', otp: '287082', push: true } } });
      const { agent } = await app(pi);
      assert.equal((await signIn(agent, 'alice', 'alice-pin')).status, 303);
      assert.equal(pi.pushCount('alice'), 1);
      assert.equal((await answer(agent, '287082')).status, 200);
      assert.equal(pi.pushCount('alice'), 1);
    });

    it('polls a push with an empty response: pending asks again, approved signs in; one push in all', async () => {
      const pi = new PrivacyIdeaProfile({ pushDelayMs: null, users: { alice: { pin: 'alice-pin', push: true } } });
      const { agent } = await app(pi, { allowEmptyResponse: true });
      assert.equal((await signIn(agent, 'alice', 'alice-pin')).status, 303);
      const id = Buffer.from((await pending(agent))!.state!, 'base64').toString('ascii');
      assert.equal((await answer(agent, '')).status, 303, 'not yet approved: the same challenge again');
      assert.equal(Buffer.from((await pending(agent))!.state!, 'base64').toString('ascii'), id, 'same transaction id');
      assert.equal(pi.approve('alice'), 1);
      assert.equal((await answer(agent, '')).status, 200);
      assert.equal(pi.pushCount('alice'), 1);
    });

    it('without allowEmptyResponse an empty poll is refused with 400 before anything is sent', async () => {
      const pi = new PrivacyIdeaProfile({ pushDelayMs: 10, users: { alice: { pin: 'alice-pin', push: true } } });
      const { agent, server } = await app(pi);
      assert.equal((await signIn(agent, 'alice', 'alice-pin')).status, 303);
      assert.equal((await answer(agent, '')).status, 400);
      assert.equal(server.received.length, 1);
    });
  });

  describe('FortiAuthenticator', () => {
    it('with allowEmptyResponse, an empty response sends one push, held until approved, and signs in', async () => {
      const forti = new FortiAuthenticatorProfile({ pushDelayMs: 300, users: { alice: { password: 'alice-pw', tokencode: '135790' } } });
      const { agent } = await app(forti, { allowEmptyResponse: true });
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      assert.equal(forti.pushCount(), 0);
      assert.equal((await answer(agent, '')).status, 200);
      assert.equal(forti.pushCount('alice'), 1);
      assert.equal(forti.pushLog[0]!.clientIp, BROWSER_IP);
    });

    it('without allowEmptyResponse, an empty response is 400 as before, and no push is sent', async () => {
      const forti = new FortiAuthenticatorProfile({ pushDelayMs: 10, users: { alice: { password: 'alice-pw', tokencode: '135790' } } });
      const { agent } = await app(forti);
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      assert.equal((await answer(agent, '')).status, 400);
      assert.equal(forti.pushCount(), 0);
      assert.equal((await answer(agent, '135790')).status, 200, 'the challenge is still pending after the refused empty code');
    });

    it('a denied push does not sign in', async () => {
      const forti = new FortiAuthenticatorProfile({ pushDelayMs: 10, users: { alice: { password: 'alice-pw', tokencode: '135790', approves: false } } });
      const { agent } = await app(forti, { allowEmptyResponse: true });
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      assert.equal((await answer(agent, '')).status, 401);
      assert.equal(forti.pushCount(), 1);
    });

    it('challenges for the token code and signs in with it; a wrong code does not', async () => {
      const forti = new FortiAuthenticatorProfile({ users: { alice: { password: 'alice-pw', tokencode: '135790' } } });
      const { agent } = await app(forti);
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      assert.match((await pending(agent))!.prompt, /empty/);
      assert.equal((await answer(agent, '135790')).status, 200);
      assert.equal((await signIn(agent, 'alice', 'alice-pw')).status, 303);
      assert.equal((await answer(agent, '000000')).status, 401);
      assert.equal(forti.pushCount(), 0);
    });
  });
});
