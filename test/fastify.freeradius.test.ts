/**
 * Fastify: the app in the README's "Fastify" section (@fastify/passport, @fastify/session), compiled from
 * the README against the packed package and run as its own process, signs users in against FreeRADIUS:
 * PAP, the challenge flow with a new session id at the challenge and at sign-in, and API mode.
 */
import { strict as assert } from 'node:assert';
import request from 'supertest';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { runReadmeApp, type ReadmeApp } from './support/readme';

function sessionId(res: request.Response): string | undefined {
  const cookies = res.headers['set-cookie'] as unknown as string[] | undefined;
  return cookies?.map((c) => /^sessionId=([^;]+)/.exec(c)?.[1]).find((v) => v !== undefined);
}

describeFreeRadius('RadiusStrategy in the README Fastify app (FreeRADIUS)', function () {
  this.timeout(60000);
  let fr: FreeRadiusServer;
  let app: ReadmeApp;

  before(async function () {
    this.timeout(180000);
    fr = await startFreeRadius();
    app = await runReadmeApp('fastify-app', { RADIUS_ADDRESS: fr.address, RADIUS_SECRET: fr.secret, SESSION_SECRET: 'x'.repeat(40) }, '/me');
  });

  after(async () => {
    await app?.stop();
    await fr?.stop();
  });

  it('signs in with PAP and keeps the user in the session', async () => {
    const agent = request.agent(app.base);
    const res = await agent.post('/login').type('form').send({ username: USERS.alice.name, password: USERS.alice.password });
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, '/me');
    assert.deepEqual((await agent.get('/me')).body, { user: { username: 'alice', server: 'corp' } });
  });

  it('sends a wrong password back to /login and signs nobody in', async () => {
    const agent = request.agent(app.base);
    const res = await agent.post('/login').type('form').send({ username: USERS.alice.name, password: 'wrong' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, '/login');
    assert.equal((await agent.get('/me')).status, 401);
  });

  it('redirects to the challenge with 303 under a new session id, and the code signs in under another', async () => {
    const agent = request.agent(app.base);
    const planted = sessionId(await agent.get('/login/challenge'));
    assert.ok(planted, 'a session before sign-in');
    const first = await agent.post('/login').type('form').send({ username: USERS.carol.name, password: USERS.carol.password });
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/login/challenge');
    const atChallenge = sessionId(first);
    assert.ok(atChallenge && atChallenge !== planted, 'the session id changes when the challenge is issued');
    assert.equal((await agent.get('/me')).status, 401, 'signed in before the code');
    assert.deepEqual((await agent.get('/login/challenge')).body, { prompt: USERS.carol.challengeMessage, echo: false });
    const second = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
    assert.equal(second.status, 302);
    assert.equal(second.headers.location, '/me');
    const signedIn = sessionId(second);
    assert.ok(signedIn && signedIn !== atChallenge, 'the session id changes at sign-in');
    assert.deepEqual((await agent.get('/me')).body, { user: { username: 'carol', server: 'corp' } });
  });

  it('refuses a wrong code and a replayed code', async () => {
    const agent = request.agent(app.base);
    await agent.post('/login').type('form').send({ username: USERS.carol.name, password: USERS.carol.password });
    const wrong = await agent.post('/login/challenge').type('form').send({ code: '000000' });
    assert.equal(wrong.headers.location, '/login');
    const replay = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
    assert.equal(replay.headers.location, '/login', 'the challenge was spent by the wrong code');
    assert.equal((await agent.get('/me')).status, 401);
  });

  it('in API mode answers the challenge with 401 and challenge: true, then the code signs in', async () => {
    const agent = request.agent(app.base);
    const first = await agent.post('/api/login').send({ username: USERS.carol.name, password: USERS.carol.password });
    assert.equal(first.status, 401);
    assert.deepEqual(first.body, { message: USERS.carol.challengeMessage, challenge: true });
    const second = await agent.post('/api/login').send({ code: USERS.carol.code });
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(second.body, { user: { username: 'carol', server: 'corp' } });
    assert.deepEqual((await agent.get('/me')).body, { user: { username: 'carol', server: 'corp' } });
  });
});
