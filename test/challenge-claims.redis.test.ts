/**
 * Single use of a challenge across app instances: two Express apps, each with its own RadiusStrategy,
 * sharing sessions and challenge claims through one real redis-server, against a real FreeRADIUS. The
 * same code POSTed to both instances at once reaches FreeRADIUS once and signs in once.
 */
import { strict as assert } from 'node:assert';
import type { Server } from 'node:http';
import { RedisStore } from 'connect-redis';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { createClient, type RedisClientType } from 'redis';
import { RadiusStrategy, type ChallengeClaims, type RadiusServerOptions } from '../lib';
import { redisChallengeClaims, type RedisSetClient } from '../example/challenge-claims';
import { passportFor } from './support/app';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { describeRedis, startRedis, type RedisServer } from './support/redis';
import { sleep } from './support/time';
import { closeHttp, listenHttp } from './support/http';

const STATE_HEX = '00ff80fe0d0a2200c3'; // carol's State in test/freeradius/radiusd.conf

interface Instance {
  url: string;
  strategy: RadiusStrategy;
  http: Server;
  redis: { destroy(): void };
}

async function startInstance(redisUrl: string, servers: RadiusServerOptions[], claims: (redis: RedisSetClient) => ChallengeClaims | undefined): Promise<Instance> {
  const redis = createClient({ url: redisUrl });
  redis.on('error', () => undefined);
  await redis.connect();
  const challengeClaims = claims(redis);
  const strategy = new RadiusStrategy({ servers, holdDown: 0, ...(challengeClaims ? { challengeClaims } : {}) });
  const pp = passportFor(strategy);
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(session({ secret: 'shared by both instances', resave: false, saveUninitialized: false, store: new RedisStore({ client: redis as unknown as RedisClientType }) }));
  app.use(pp.session());
  const handler = (req: Request, res: Response, next: NextFunction): void => {
    pp.authenticate('radius', (err: unknown, user: Express.User | false, info: unknown, status: number | undefined) => {
      if (err) return next(err);
      if (!user) return res.status(status ?? 401).json({ info: info ?? null });
      req.logIn(user, (loginErr) => (loginErr ? next(loginErr) : res.json({ user })));
    })(req, res, next);
  };
  app.post('/login', handler);
  app.post('/login/challenge', handler);
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    void _next;
    res.status(500).json({ error: err.message });
  });
  const { server: http, url } = await listenHttp(app);
  return { url, strategy, http, redis };
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance) return;
  await closeHttp(instance.http);
  await instance.strategy.close();
  instance.redis.destroy();
}

async function post(url: string, form: Record<string, string>, cookie?: string): Promise<{ status: number; cookie: string | undefined; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form).toString(),
  });
  const set = res.headers.getSetCookie()[0];
  return { status: res.status, cookie: set?.split(';')[0], body: await res.text() };
}

describeFreeRadius('challenge claims shared by two instances', function () {
  describeRedis('on one real redis-server', function () {
    let fr: FreeRadiusServer;
    let redis: RedisServer;
    let a: Instance | undefined;
    let b: Instance | undefined;
    let servers: RadiusServerOptions[];

    before(async function () {
      this.timeout(30000);
      [fr, redis] = await Promise.all([startFreeRadius(), startRedis()]);
      servers = [{ name: 'fr', address: fr.address, secret: fr.secret, attributes: { 'NAS-Identifier': 'passport-test' }, timeout: 3000 }];
    });
    afterEach(async function () {
      await Promise.all([stopInstance(a), stopInstance(b)]);
      a = b = undefined;
    });
    after(async function () {
      await Promise.all([fr?.stop(), redis?.stop()]);
    });

    /** Password on A, then the same code POSTed `perInstance` times to each instance at once. */
    async function raceOneCode(perInstance: number): Promise<{ statuses: number[]; codeRequests: number; accepts: number }> {
      const login = await post(`${a!.url}/login`, { username: 'carol', password: USERS.carol.password });
      assert.equal(login.status, 401, login.body); // no challengeURL: fail 401 { challenge: true }
      assert.ok(login.cookie, 'no session cookie after the Access-Challenge');
      const mark = fr.output().length;
      const posts = [];
      for (let i = 0; i < perInstance; i++) {
        for (const instance of [a!, b!]) posts.push(post(`${instance.url}/login/challenge`, { code: USERS.carol.code }, login.cookie));
      }
      const statuses = (await Promise.all(posts)).map((r) => r.status);
      await sleep(200); // let FreeRADIUS print anything it got
      const seen = fr.output().slice(mark);
      return {
        statuses,
        codeRequests: seen.split(`State = 0x${STATE_HEX}`).length - 1,
        accepts: seen.split('Sent Access-Accept').length - 1,
      };
    }

    it('sends one code to FreeRADIUS once and signs in once, however many requests on both instances carry it', async function () {
      this.timeout(20000);
      [a, b] = await Promise.all([
        startInstance(redis.url, servers, (r) => redisChallengeClaims(r)),
        startInstance(redis.url, servers, (r) => redisChallengeClaims(r)),
      ]);
      const { statuses, codeRequests, accepts } = await raceOneCode(3);
      assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses ${statuses.join(' ')}`);
      assert.deepEqual(statuses.filter((s) => s !== 200), [403, 403, 403, 403, 403]);
      assert.equal(codeRequests, 1, 'Access-Requests carrying the State that FreeRADIUS received');
      assert.equal(accepts, 1, 'Access-Accepts FreeRADIUS sent');
      const claims = [...(await redis.dump()).keys()].filter((k) => k.startsWith('passport-radius:challenge:'));
      assert.equal(claims.length, 1, 'one claim key in Redis');
    });

    it('fails the code step (500) without sending the code while the claims store is unreachable', async function () {
      this.timeout(20000);
      const failing: ChallengeClaims = { claim: () => Promise.reject(new Error('claims store unreachable')) };
      [a, b] = await Promise.all([startInstance(redis.url, servers, () => failing), startInstance(redis.url, servers, () => failing)]);
      const { statuses, codeRequests } = await raceOneCode(1);
      assert.deepEqual(statuses, [500, 500]);
      assert.equal(codeRequests, 0);
    });
  });
});
