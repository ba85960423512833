/**
 * The vendor profiles of `passport-radius/testing` through the example app's own pages (issue 12 item 4):
 * /login, the challenge page (its prompt and input type), /account. Right answers sign in, wrong ones come
 * back to /login, and the simulated server sees exactly one push per sign-in attempt. (Empty responses —
 * FortiAuthenticator's push, privacyIDEA's poll — are driven in test/vendor-profiles.udp.test.ts, and
 * through the example's challenge page in Chromium in test/console.browser.test.ts.)
 */
import { strict as assert } from 'node:assert';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp } from '../example/app';
import type { RadiusStrategy } from '../lib';
import { DuoProxyProfile, NpsMfaProfile, OktaAgentProfile, PrivacyIdeaProfile, RadiusTestServer, RsaProfile, type RadiusHandler } from '../lib/testing';

const SECRET = 'example-vendor-profile-secret';

describe('Vendor profiles through the example app\'s pages', function () {
  this.timeout(10_000);
  const servers: RadiusTestServer[] = [];
  const strategies: RadiusStrategy[] = [];
  afterEach(async () => {
    await Promise.all(strategies.splice(0).map((s) => s.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function example(handler: RadiusHandler): Promise<TestAgent> {
    const server = new RadiusTestServer({ secret: SECRET, handler });
    await server.listen();
    servers.push(server);
    const { app, strategy } = createApp({
      servers: [{ name: 'vendor', address: server.address, secret: SECRET, attributes: { 'NAS-Identifier': 'example' }, timeout: 3000, final: true }],
      sessionSecret: 'vendor-profiles',
    });
    strategies.push(strategy);
    return request.agent(app);
  }

  async function signIn(agent: TestAgent, username: string, password: string): Promise<string | undefined> {
    const res = await agent.post('/login').type('form').send({ username, password });
    return res.headers.location;
  }

  async function challengePage(agent: TestAgent): Promise<string> {
    const res = await agent.get('/login/challenge');
    assert.equal(res.status, 200);
    return res.text;
  }

  async function answer(agent: TestAgent, code: string): Promise<string | undefined> {
    return (await agent.post('/login/challenge').type('form').send({ code })).headers.location;
  }

  async function signedInAs(agent: TestAgent): Promise<string | undefined> {
    const res = await agent.get('/account');
    return res.status === 200 ? /<strong id="username">([^<]*)<\/strong>/.exec(res.text)?.[1] : undefined;
  }

  it('NPS + Entra MFA: a held push signs in after one push; an OTP user gets the challenge page', async () => {
    const nps = new NpsMfaProfile({ pushDelayMs: 300, users: { alice: { password: 'alice-pw', method: 'push' }, bob: { password: 'bob-pw', method: 'otp', code: '123456' } } });
    const agent = await example(nps);
    assert.equal(await signIn(agent, 'alice', 'alice-pw'), '/account');
    assert.equal(await signedInAs(agent), 'alice');
    assert.equal(nps.pushCount('alice'), 1);
    const bob = await example(nps);
    assert.equal(await signIn(bob, 'bob', 'bob-pw'), '/login/challenge');
    assert.match(await challengePage(bob), /<p id="prompt">Enter the verification code[^<]*<\/p>/);
    assert.equal(await answer(bob, '000000'), '/login');
    assert.equal(await signedInAs(bob), undefined);
  });

  it('Duo (challenge mode): the factor menu on the challenge page, "push" signs in after one push', async () => {
    const duo = new DuoProxyProfile({ mode: 'challenge', pushDelayMs: 100, users: { alice: { password: 'alice-pw', passcodes: ['111111'] } } });
    const agent = await example(duo);
    assert.equal(await signIn(agent, 'alice', 'alice-pw'), '/login/challenge');
    assert.match(await challengePage(agent), /1 \(push\), 2 \(phone call\) or 3 \(SMS passcodes\)/);
    assert.equal(await answer(agent, 'push'), '/account');
    assert.equal(await signedInAs(agent), 'alice');
    assert.equal(duo.pushCount('alice'), 1);
    assert.equal(await signIn(agent, 'alice', 'wrong'), '/login');
    assert.equal(duo.pushCount('alice'), 1, 'a wrong password sends no push');
  });

  it('Okta: menu page, then the code page, then signed in; a wrong code is not', async () => {
    const okta = new OktaAgentProfile({ users: { alice: { password: 'alice-pw', factors: ['push', 'totp'], code: '424242' } } });
    const agent = await example(okta);
    assert.equal(await signIn(agent, 'alice', 'alice-pw'), '/login/challenge');
    assert.match(await challengePage(agent), /Choose a verification method/);
    assert.equal(await answer(agent, 'totp'), '/login/challenge');
    const code = await challengePage(agent);
    assert.match(code, /authenticator app/);
    assert.match(code, /Step 2 of at most 3\./);
    assert.equal(await answer(agent, '111111'), '/login');
    assert.equal(await signedInAs(agent), undefined);
    assert.equal(await signIn(agent, 'alice', 'alice-pw'), '/login/challenge');
    assert.equal(await answer(agent, 'totp'), '/login/challenge');
    assert.equal(await answer(agent, '424242'), '/account');
    assert.equal(await signedInAs(agent), 'alice');
    assert.equal(okta.pushCount(), 0);
  });

  it('RSA New PIN: three pages, the PIN inputs shown as typed (Prompt Echo), then signed in', async () => {
    const rsa = new RsaProfile({ users: { nina: { pin: '1234', tokencode: '111111', nextTokencode: '222222', mode: 'new-pin' } } });
    const agent = await example(rsa);
    assert.equal(await signIn(agent, 'nina', '1234111111'), '/login/challenge');
    assert.match(await challengePage(agent), /<input id="code" name="code" type="text"/);
    assert.equal(await answer(agent, '8642'), '/login/challenge');
    assert.match(await challengePage(agent), /type="text"/);
    assert.equal(await answer(agent, '8642'), '/login/challenge');
    const third = await challengePage(agent);
    assert.match(third, /type="password"/);
    assert.match(third, /Step 3 of at most 3\./);
    assert.equal(await answer(agent, '8642222222'), '/account');
    assert.equal(await signedInAs(agent), 'nina');
  });

  it('privacyIDEA: the OTP on the challenge page signs in; a wrong one does not', async () => {
    const pi = new PrivacyIdeaProfile({ users: { alice: { pin: 'alice-pin', otp: '287082' } } });
    const agent = await example(pi);
    assert.equal(await signIn(agent, 'alice', 'alice-pin'), '/login/challenge');
    assert.equal(await answer(agent, '000000'), '/login');
    assert.equal(await signIn(agent, 'alice', 'alice-pin'), '/login/challenge');
    assert.equal(await answer(agent, '287082'), '/account');
    assert.equal(await signedInAs(agent), 'alice');
  });
});
