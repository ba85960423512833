/**
 * `new RadiusStrategy()` / `new RadiusStrategy(verify)` configured by environment variables alone, signing
 * in against the test server; the TypeError naming a missing variable. What each variable becomes:
 * test/env.unit.test.ts.
 */
import { strict as assert } from 'node:assert';
import request from 'supertest';
import express from 'express';
import { RadiusStrategy, type RadiusProfile } from '../lib';
import { RadiusTestServer } from '../lib/testing';
import { passportFor } from './support/app';

describe('new RadiusStrategy() configured by the environment', () => {
  const saved = { ...process.env };
  let radius: RadiusTestServer;

  before(async () => {
    radius = new RadiusTestServer({ secret: 'env-secret', users: { alice: { password: 'alice-password', replyMessage: 'hi' } } });
    await radius.listen();
  });
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('RADIUS_') && !(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });
  after(() => radius.close());

  async function signIn(strategy: RadiusStrategy): Promise<request.Response> {
    const pp = passportFor(strategy);
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.post('/login', pp.authenticate('radius', { session: false }), (req, res) => {
      res.json(req.user);
    });
    try {
      return await request(app).post('/login').type('form').send({ username: 'alice', password: 'alice-password' });
    } finally {
      await strategy.close();
    }
  }

  it('signs in with no arguments at all: the profile becomes req.user', async () => {
    Object.assign(process.env, { RADIUS_ADDRESS: radius.address, RADIUS_SECRET: 'env-secret', RADIUS_NAS_IDENTIFIER: 'env-nas' });
    const res = await signIn(new RadiusStrategy());
    assert.equal(res.status, 200);
    assert.equal((res.body as RadiusProfile).username, 'alice');
    assert.equal(radius.received.at(-1)?.attributes.find((a) => a.type === 32)?.value.toString(), 'env-nas');
  });

  it('signs in with only a verify callback', async () => {
    Object.assign(process.env, { RADIUS_ADDRESS: radius.address, RADIUS_SECRET: 'env-secret', RADIUS_NAS_IDENTIFIER: 'env-nas' });
    const res = await signIn(new RadiusStrategy((username, profile, done) => done(null, { who: username, via: profile.server })));
    assert.deepEqual(res.body, { who: 'alice', via: radius.address });
  });

  it('throws the TypeError naming the variable when the environment lacks one', () => {
    delete process.env.RADIUS_ADDRESS;
    delete process.env.RADIUS_SERVERS;
    assert.throws(() => new RadiusStrategy(), /^TypeError: RadiusStrategy: RADIUS_SERVERS or RADIUS_ADDRESS is not set/);
    Object.assign(process.env, { RADIUS_ADDRESS: radius.address, RADIUS_NAS_IDENTIFIER: 'n' });
    delete process.env.RADIUS_SECRET;
    assert.throws(() => new RadiusStrategy(() => undefined), /RADIUS_SECRET \(or RADIUS_SECRET_FILE\) is not set/);
  });

  it('refuses a verify callback given twice rather than guessing which is meant', () => {
    Object.assign(process.env, { RADIUS_ADDRESS: radius.address, RADIUS_SECRET: 'env-secret', RADIUS_NAS_IDENTIFIER: 'n' });
    const verify = (): void => undefined;
    assert.throws(() => new (RadiusStrategy as unknown as new (a: unknown, b: unknown) => RadiusStrategy)(verify, verify), /verify callback is the only argument/);
  });
});
