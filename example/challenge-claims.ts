/**
 * Single use of a pending challenge across app instances: a {@link ChallengeClaims} on Redis. Each
 * challenge id is claimed with `SET <prefix><id> 1 NX PX <ttlMs>`: Redis answers OK to the first
 * instance that claims it and nothing to every later one, whichever instance they run on. The key
 * expires with the challenge. Pass it to the strategy as `challengeClaims` whenever several instances
 * share sessions (see README, "Running several instances").
 */
import type { ChallengeClaims } from '../lib';

/** The one command this needs from a node-redis (v5+) client: `SET key value NX PX ttl`. */
export interface RedisSetClient {
  /** node-redis's `set`; resolves to `'OK'` when the key was set, `null` when NX found it already there. */
  set(key: string, value: string, options: { condition: 'NX'; expiration: { type: 'PX'; value: number } }): Promise<string | null>;
}

/**
 * Challenge claims kept in Redis.
 *
 * @param client - a connected node-redis client (the session store's own client will do).
 * @param prefix - key prefix. Default `'passport-radius:challenge:'`.
 * @returns a {@link ChallengeClaims}; a claim rejects while Redis is unreachable, which fails that code
 *   step (500) without sending the code.
 */
export function redisChallengeClaims(client: RedisSetClient, prefix = 'passport-radius:challenge:'): ChallengeClaims {
  return {
    async claim(id, ttlMs) {
      const reply = await client.set(prefix + id, '1', { condition: 'NX', expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) } });
      return reply === 'OK';
    },
  };
}
