/**
 * The example console on two instances sharing a real redis-server (REDIS_URL): a change saved on one
 * instance is picked up by the other (its strategy's servers and its organizations' providers), and the
 * sign-in throttling counts are shared, so an attacker cannot spread guesses over instances.
 */
import { strict as assert } from 'node:assert';
import request from 'supertest';
import { createClient } from 'redis';
import { createApp, type ExampleApp } from '../example/app';
import { DEMO_USERS, startDemo, type Demo } from '../example/demo';
import { RedisSettingsStore } from '../example/settings-store';
import { describeRedis, startRedis, type RedisServer } from './support/redis';
import { until } from './support/time';

describeRedis('the example console on two instances sharing Redis (settings and throttling)', function () {
  this.timeout(30000);
  let redis: RedisServer;
  let demo: Demo;
  const stores: RedisSettingsStore[] = [];
  const apps: ExampleApp[] = [];
  const clients: Array<{ close(): Promise<unknown> }> = [];

  before(async () => {
    [redis, demo] = await Promise.all([startRedis(), startDemo()]);
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(clients.map((c) => c.close()));
    await demo?.close();
    await redis?.stop();
  });

  async function instance(throttle?: { perUser: { points: number; durationSeconds: number } }): Promise<ExampleApp> {
    const store = await new RedisSettingsStore(redis.url, 'console-test:settings').connect();
    stores.push(store);
    const saved = await store.load();
    if (!saved) await store.save(demo.settings);
    const client = createClient({ url: redis.url });
    await client.connect();
    clients.push(client);
    const app = createApp({ settings: saved ?? demo.settings, settingsStore: store, ...(throttle ? { throttle: { ...throttle, redis: client } } : {}) });
    apps.push(app);
    return app;
  }

  it('applies a change saved on instance A on instance B, whose sign-ins follow it at once', async () => {
    const a = await instance();
    const b = await instance();
    const admin = request.agent(a.app);
    await admin.post('/login').type('form').send({ username: DEMO_USERS.alice.username, password: DEMO_USERS.alice.password }).expect(303);
    const server = demo.servers[0]!;
    await admin
      .post('/settings/radius')
      .type('form')
      .send({ name: 'shared-extra', address: server.address, secret: String(server.secret), attributes: 'NAS-Identifier = console', timeout: '2', protocol: 'pap' })
      .expect(303);
    await admin
      .post('/organizations/globex')
      .type('form')
      .send({ name: 'Globex', domain: 'globex.example', parent: 'system', method: 'radius', providers: 'shared-extra' })
      .expect(303);
    await until(() => b.radius.settings.organizations.find((o) => o.id === 'globex')?.providers[0] === 'shared-extra', 'instance B has the new settings', 5000);
    assert.deepEqual(b.radius.strategy.client.serverNames, ['system', 'acme-2fa', 'shared-extra']);
    assert.ok(b.alerts.list().some((e) => e.text === 'settings changed on another instance: applied'));
    // bob (Globex) signs in on B through the server Globex chose on A.
    const bob = request.agent(b.app);
    await bob.post('/login').type('form').send({ username: DEMO_USERS.bob.username, password: DEMO_USERS.bob.password }).expect(303);
    assert.match((await bob.get('/account')).text, /<strong id="server">shared-extra<\/strong>/);
  });

  it('refuses settings in Redis holding a name with a bidi override: not applied on a running instance (an alert names the entry), an error at start', async () => {
    const a = await instance();
    const before = JSON.stringify(a.radius.settings);
    const writer = createClient({ url: redis.url });
    await writer.connect();
    clients.push(writer);
    const bad = a.radius.settings;
    bad.organizations.find((o) => o.id === 'globex')!.name = 'Globex\u202Exebolg';
    await writer.set('console-test:settings', JSON.stringify(bad));
    await writer.publish('console-test:settings', 'another-instance');
    await until(() => a.alerts.list().some((e) => e.text.startsWith('settings saved elsewhere could not be applied')), 'instance A reports the bad settings');
    const line = a.alerts.list().find((e) => e.text.startsWith('settings saved elsewhere could not be applied'))!;
    assert.match(line.text, /Organization \d \("Globex<U\+202E>xebolg"\): its name must not contain control characters, line breaks or bidirectional-text controls \(found U\+202E\)/);
    assert.doesNotMatch(line.text, /\u202E/);
    assert.equal(JSON.stringify(a.radius.settings), before, 'the bad settings were applied');
    // A new instance starting from them: a clear error naming the entry.
    const store = await new RedisSettingsStore(redis.url, 'console-test:settings').connect();
    stores.push(store);
    const loaded = (await store.load())!;
    assert.throws(() => createApp({ settings: loaded, settingsStore: store }), /Organization \d \("Globex<U\+202E>xebolg"\): its name must not/);
    await writer.set('console-test:settings', before);
  });

  it('shares the throttling counts: failures on A count on B', async () => {
    const limit = { perUser: { points: 2, durationSeconds: 60 } };
    const a = await instance(limit);
    const b = await instance(limit);
    for (const app of [a, b]) {
      const res = await request(app.app).post('/login').type('form').send({ username: 'throttled-user', password: 'wrong-password-7' });
      assert.equal(res.status, 303);
    }
    const blockedOnA = await request(a.app).post('/login').type('form').send({ username: 'throttled-user', password: 'wrong-password-7' });
    assert.equal(blockedOnA.status, 429);
  });
});
