/**
 * NestJS: the app in the README's "NestJS" section, compiled from the README with tsc against the packed
 * package and run as its own process, signs users in against FreeRADIUS — PAP, the challenge page flow
 * (303 to the challenge route, then the code) and API mode (401 with the challenge, then the code).
 */
import { strict as assert } from 'node:assert';
import request from 'supertest';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { runReadmeApp, type ReadmeApp } from './support/readme';

describeFreeRadius('RadiusStrategy in the README NestJS app (FreeRADIUS)', function () {
  this.timeout(60000);
  let fr: FreeRadiusServer;
  let app: ReadmeApp;
  let base: string;

  before(async function () {
    this.timeout(180000);
    fr = await startFreeRadius();
    app = await runReadmeApp('main', { RADIUS_ADDRESS: fr.address, RADIUS_SECRET: fr.secret, SESSION_SECRET: 'nest-test' }, '/me');
    base = app.base;
  });

  after(async () => {
    await app?.stop();
    await fr?.stop();
  });

  it('signs in with PAP and keeps the user in the session', async () => {
    const agent = request.agent(base);
    const res = await agent.post('/login').type('form').send({ username: USERS.alice.name, password: USERS.alice.password });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { user: { username: 'alice', server: 'corp' } });
    const me = await agent.get('/me');
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, { user: { username: 'alice', server: 'corp' } });
  });

  it('answers a wrong password with 401 and the strategy message, and signs nobody in', async () => {
    const agent = request.agent(base);
    const res = await agent.post('/login').type('form').send({ username: USERS.alice.name, password: 'wrong' });
    assert.equal(res.status, 401);
    assert.equal(res.body.message, 'Invalid username or password');
    assert.equal((await agent.get('/me')).status, 401);
  });

  it('keeps the strategy status for missing credentials (400)', async () => {
    const res = await request(base).post('/login').type('form').send({ username: 'alice' });
    assert.equal(res.status, 400);
    assert.equal(res.body.message, 'Missing credentials');
  });

  it('redirects to the challenge route with 303, shows the prompt, and the code signs in', async () => {
    const agent = request.agent(base);
    const first = await agent.post('/login').type('form').send({ username: USERS.carol.name, password: USERS.carol.password });
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/login/challenge');
    assert.equal((await agent.get('/me')).status, 401, 'signed in before the code');
    const page = await agent.get('/login/challenge');
    assert.deepEqual(page.body, { prompt: USERS.carol.challengeMessage, echo: false });
    const second = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(second.body, { user: { username: 'carol', server: 'corp' } });
    assert.deepEqual((await agent.get('/me')).body, { user: { username: 'carol', server: 'corp' } });
  });

  it('in API mode answers the challenge with 401 and challenge: true, then the code signs in', async () => {
    const agent = request.agent(base);
    const first = await agent.post('/api/login').send({ username: USERS.carol.name, password: USERS.carol.password });
    assert.equal(first.status, 401);
    assert.deepEqual(first.body, { message: USERS.carol.challengeMessage, challenge: true });
    const wrong = await request.agent(base).post('/api/login').send({ code: USERS.carol.code });
    assert.equal(wrong.status, 403, 'a code without the session that holds the challenge');
    const second = await agent.post('/api/login').send({ code: USERS.carol.code });
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(second.body, { user: { username: 'carol', server: 'corp' } });
  });
});
