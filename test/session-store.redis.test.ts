/**
 * The example app as run in production: two instances on different ports sharing sessions through a
 * real Redis, against a real FreeRADIUS. A challenge started on one instance is finished on the other.
 */
import { strict as assert } from 'node:assert';
import type { Server } from 'node:http';
import type { SessionData } from 'express-session';
import type { RadiusServerOptions, RadiusStrategy } from '../lib';
import { createApp } from '../example/app';
import { createSessionStore, SessionStoreUnavailableError, type RedisSessionStore } from '../example/session-store';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { describeRedis, startRedis, type RedisServer } from './support/redis';
import { sleep, until } from './support/time';
import { closeHttp, listenHttp } from './support/http';

const SESSION_SECRET = 'one secret shared by every instance';
const STATE_HEX = '00ff80fe0d0a2200c3';

/** One running instance of the example app. */
interface Instance {
  url: string;
  store: RedisSessionStore;
  strategy: RadiusStrategy;
  http: Server;
  log: string[];
}

async function startInstance(redisUrl: string, servers: RadiusServerOptions[]): Promise<Instance> {
  const log: string[] = [];
  const store = createSessionStore(redisUrl, { log: (line) => log.push(line), operationTimeoutMs: 2000 });
  assert.ok(store, 'createSessionStore returned no store for a Redis URL');
  await store.ready();
  const { app, strategy } = createApp({ servers, store, sessionSecret: SESSION_SECRET });
  const { server: http, url } = await listenHttp(app);
  return { url, store, strategy, http, log };
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance) return;
  await closeHttp(instance.http);
  await instance.strategy.close();
  await instance.store.close();
}

/** A user agent with one cookie jar, talking to any instance (cookies are not port-scoped). */
class UserAgent {
  private cookies = new Map<string, string>();

  async request(base: string, method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<{ status: number; location: string | null; text: string }> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(base + path, {
      method,
      headers,
      redirect: 'manual',
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return { status: res.status, location: res.headers.get('location'), text: await res.text() };
  }

  get(base: string, path: string): ReturnType<UserAgent['request']> {
    return this.request(base, 'GET', path);
  }

  post(base: string, path: string, form: Record<string, string>): ReturnType<UserAgent['request']> {
    return this.request(base, 'POST', path, form);
  }
}

describe('example session store (createSessionStore)', function () {
  it('returns undefined (the memory store) when REDIS_URL is unset or empty', function () {
    assert.equal(createSessionStore(undefined), undefined);
    assert.equal(createSessionStore(''), undefined);
  });

  it('throws TypeError for a URL that is not redis:// or rediss://', function () {
    assert.throws(() => createSessionStore('http://127.0.0.1:6379'), { name: 'TypeError', message: /redis:\/\/ or rediss:\/\// });
    assert.throws(() => createSessionStore('not a url'), { name: 'TypeError', message: /not a URL/ });
  });
});

describeFreeRadius('the example app on two instances sharing a Redis session store', function () {
  describeRedis('with a real redis-server', function () {
    let fr: FreeRadiusServer;
    let redis: RedisServer;
    let a: Instance | undefined;
    let b: Instance | undefined;

    before(async function () {
      this.timeout(30000);
      [fr, redis] = await Promise.all([startFreeRadius(), startRedis()]);
    });
    beforeEach(async function () {
      const servers: RadiusServerOptions[] = [
        { name: 'fr', address: fr.address, secret: fr.secret, attributes: { 'NAS-Identifier': 'passport-test' }, timeout: 3000 },
      ];
      [a, b] = await Promise.all([startInstance(redis.url, servers), startInstance(redis.url, servers)]);
    });
    afterEach(async function () {
      await Promise.all([stopInstance(a), stopInstance(b)]);
      a = b = undefined;
    });
    after(async function () {
      await Promise.all([fr?.stop(), redis?.stop()]);
    });

    /** Every Redis key and value, as one string, for leak checks. */
    async function redisText(): Promise<string> {
      return [...(await redis.dump())].map(([k, v]) => `${k}\n${v}`).join('\n');
    }

    it('finishes on instance B a challenge started on instance A, the State intact through Redis', async function () {
      const ua = new UserAgent();
      const login = await ua.post(a!.url, '/login', { username: 'carol', password: USERS.carol.password });
      assert.equal(login.status, 303);
      assert.equal(login.location, '/login/challenge');

      // The challenge page renders on the other instance, from the shared session.
      const page = await ua.get(b!.url, '/login/challenge');
      assert.equal(page.status, 200);
      assert.match(page.text, /Enter the code sent to your phone/);
      assert.match(page.text, /<input id="code" name="code" type="password"/);

      // What Redis holds: one session whose pending challenge carries the State as base64 JSON.
      const keys = await redis.dump();
      const sessions = [...keys].filter(([k]) => k.startsWith('sess:'));
      assert.equal(sessions.length, 1, `expected one session in Redis, got ${[...keys.keys()].join(', ')}`);
      const stored = JSON.parse(sessions[0]![1]) as { radius?: { state?: string; server?: string; username?: string } };
      assert.equal(Buffer.from(stored.radius!.state!, 'base64').toString('hex'), STATE_HEX);
      assert.equal(stored.radius!.server, 'fr');
      assert.equal(stored.radius!.username, 'carol');
      const text = await redisText();
      assert.ok(!text.includes(USERS.carol.password), 'Redis holds the password');
      assert.ok(!text.includes(Buffer.from(USERS.carol.password).toString('base64')), 'Redis holds the password (base64)');

      const mark = fr.output().length;
      const done = await ua.post(b!.url, '/login/challenge', { code: USERS.carol.code });
      assert.ok(done.status === 302 || done.status === 303, `${done.status} ${done.text}`);
      assert.equal(done.location, '/account');
      await until(() => /Sent Access-Accept/.test(fr.output().slice(mark)));
      assert.match(fr.output().slice(mark), new RegExp(`State = 0x${STATE_HEX}`));

      // Signed in on both instances.
      for (const instance of [a!, b!]) {
        const account = await ua.get(instance.url, '/account');
        assert.equal(account.status, 200, `/account on ${instance.url}`);
        assert.match(account.text, /Signed in as <strong id="username">carol<\/strong>/);
      }

      const after = await redisText();
      assert.ok(!after.includes(USERS.carol.password), 'Redis holds the password');
      assert.ok(!after.includes(USERS.carol.code), 'Redis holds the code');
      assert.ok(!after.includes(Buffer.from(USERS.carol.state).toString('base64')), 'the State outlived the sign-in');

      // Signing out on A signs out everywhere.
      const out = await ua.post(a!.url, '/logout', {});
      assert.equal(out.status, 303);
      const gone = await ua.get(b!.url, '/account');
      assert.equal(gone.status, 303);
      assert.equal(gone.location, '/login');
    });

    it('fails the code step with a 500 page while Redis is down, never signing in, and recovers when it is back', async function () {
      this.timeout(20000);
      const ua = new UserAgent();
      const login = await ua.post(a!.url, '/login', { username: 'carol', password: USERS.carol.password });
      assert.equal(login.status, 303);

      await redis.kill();
      const mark = fr.output().length;
      const code = await ua.post(b!.url, '/login/challenge', { code: USERS.carol.code });
      assert.equal(code.status, 500);
      assert.match(code.text, /<title>Sign-in is unavailable<\/title>/);
      assert.match(code.text, /The session store is unavailable/);
      assert.ok(!code.text.includes(USERS.carol.code));
      await sleep(100); // let FreeRADIUS print anything it got
      assert.doesNotMatch(fr.output().slice(mark), /Received Access-Request/, 'the code went to RADIUS without a session');
      const account = await ua.get(a!.url, '/account');
      assert.equal(account.status, 500, 'an account page was served without the session store');
      assert.ok(b!.log.some((l) => /Session store \(Redis at redis:\/\/127\.0\.0\.1:\d+\) unavailable/.test(l)), b!.log.join('\n'));

      await redis.restart();
      await Promise.all([a!.store.ready(), b!.store.ready()]);
      assert.ok(b!.log.some((l) => /is back/.test(l)), b!.log.join('\n'));

      // Nothing survived the outage (no persistence): the old cookie is just signed out.
      const stale = await ua.get(b!.url, '/account');
      assert.equal(stale.status, 303);
      assert.equal(stale.location, '/login');

      // A fresh sign-in across both instances works again.
      const again = await ua.post(b!.url, '/login', { username: 'carol', password: USERS.carol.password });
      assert.equal(again.status, 303);
      assert.equal(again.location, '/login/challenge');
      const ok = await ua.post(a!.url, '/login/challenge', { code: USERS.carol.code });
      assert.ok(ok.status === 302 || ok.status === 303, `${ok.status} ${ok.text}`);
      assert.equal(ok.location, '/account');
      assert.equal((await ua.get(b!.url, '/account')).status, 200);
    });

    it('reconnects after Redis restarts at once, however the crash and the next request interleave', async function () {
      // redis@5 could end up "ready" on a socket reset during its handshake and then hang forever;
      // a store operation that does not answer within 1 s fails this test.
      this.timeout(20000);
      const store = createSessionStore(redis.url, { operationTimeoutMs: 1000 })!;
      try {
        await store.ready();
        for (let round = 0; round < 15; round++) {
          await store.set(`round-${round}`, { cookie: { originalMaxAge: null }, n: round } as unknown as SessionData);
          await redis.kill();
          await store.get(`round-${round}`).catch(() => undefined); // fails one way or another
          await redis.restart();
          await Promise.race([store.ready(), new Promise((_, reject) => setTimeout(() => reject(new Error(`round ${round}: not reconnected within 3 s`)), 3000).unref())]);
          await store.set(`after-${round}`, { cookie: { originalMaxAge: null }, n: round } as unknown as SessionData);
          assert.equal(((await store.get(`after-${round}`)) as unknown as { n: number } | null)?.n, round, `round ${round}`);
        }
      } finally {
        await store.close();
      }
    });

    it('turns a store failure into SessionStoreUnavailableError for the error handler', async function () {
      await redis.kill();
      try {
        await assert.rejects(a!.store.get('anything'), (err: unknown) => {
          assert.ok(err instanceof SessionStoreUnavailableError);
          assert.equal(err.code, 'SESSION_STORE_UNAVAILABLE');
          assert.ok(err.cause instanceof Error);
          return true;
        });
      } finally {
        await redis.restart();
      }
    });
  });
});
