/**
 * Sign-in throttling with rate-limiter-flexible: failed sign-ins are counted per user name and per client
 * IP; once either count is used up, further attempts are refused with 429 before any RADIUS traffic.
 * In Redis when a client is given (every instance shares the counts), in memory otherwise.
 *
 * Why both: per user name stops guessing one account's password from many addresses; per IP stops one
 * address from trying many accounts. A success clears the user name's count.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** One limit: `points` failures within `durationSeconds`, then blocked for `durationSeconds`. */
export interface Limit {
  points: number;
  durationSeconds: number;
}

/** Options of {@link createThrottle}. */
export interface ThrottleOptions {
  /** Failures per user name. Default 10 per 15 minutes. */
  perUser?: Limit;
  /** Failures per client IP. Default 50 per 15 minutes. */
  perIp?: Limit;
  /** A connected `redis` client: counts shared by every instance. Default: in this process only. */
  redis?: unknown;
}

/** What the sign-in routes ask. */
export interface SignInThrottle {
  /** Seconds to wait before trying again, or 0 when an attempt is allowed now. */
  retryAfter(username: string, ip: string): Promise<number>;
  /** Counts a failed attempt. */
  failed(username: string, ip: string): Promise<void>;
  /** Clears the user name's count after a successful sign-in. */
  succeeded(username: string): Promise<void>;
}

/** User names differ in case and spacing only → one counter. */
function userKey(username: string): string {
  return username.trim().toLowerCase();
}

function limiter(limit: Limit, keyPrefix: string, redis: unknown): RateLimiterAbstract {
  const options = { keyPrefix, points: limit.points, duration: limit.durationSeconds, blockDuration: limit.durationSeconds };
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, useRedisPackage: true }) : new RateLimiterMemory(options);
}

/** Builds the throttle; see {@link ThrottleOptions} for the defaults. */
export function createThrottle(options: ThrottleOptions = {}): SignInThrottle {
  const perUser = options.perUser ?? { points: 10, durationSeconds: 15 * 60 };
  const perIp = options.perIp ?? { points: 50, durationSeconds: 15 * 60 };
  const byUser = limiter(perUser, 'console-signin-user', options.redis);
  const byIp = limiter(perIp, 'console-signin-ip', options.redis);
  const wait = (res: RateLimiterRes | null, points: number): number =>
    res !== null && res.consumedPoints >= points ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
  return {
    async retryAfter(username, ip) {
      const [user, address] = await Promise.all([username ? byUser.get(userKey(username)) : null, byIp.get(ip)]);
      return Math.max(wait(user, perUser.points), wait(address, perIp.points));
    },
    async failed(username, ip) {
      // consume() rejects (with a RateLimiterRes) once the points are used up: the count is what matters here.
      const consume = (l: RateLimiterAbstract, key: string): Promise<unknown> =>
        l.consume(key).catch((err: unknown) => {
          if (!(err instanceof RateLimiterRes)) throw err;
        });
      await Promise.all([username ? consume(byUser, userKey(username)) : undefined, consume(byIp, ip)]);
    },
    async succeeded(username) {
      await byUser.delete(userKey(username));
    },
  };
}
