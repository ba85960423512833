/**
 * The example's session store: Redis (connect-redis with the `redis` client) when `REDIS_URL` is set,
 * so that several instances of the app share sessions and a challenge started on one instance can be
 * finished on another; express-session's memory store otherwise (one process only).
 *
 * Nothing in `lib/` depends on this: RadiusStrategy works with any express-session store. The pending
 * challenge it keeps in the session is JSON-safe (the State is base64), so it survives the store's JSON
 * serialisation byte for byte.
 */
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { createClient } from 'redis';

/** How long a session-store operation may take before the request fails with 500, in ms. */
const DEFAULT_OPERATION_TIMEOUT_MS = 5_000;
/** Longest wait between two reconnection attempts, in ms. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/** Options of {@link createSessionStore}. */
export interface SessionStoreOptions {
  /** Where outage and recovery lines go (never the URL, which may hold a password). Default: nowhere. */
  log?: (line: string) => void;
  /** Prefix of the Redis keys. Default `'sess:'` (connect-redis's default). */
  prefix?: string;
  /** A store operation (get, set, touch, destroy) that takes longer fails the request with 500, in ms. Default 5000. */
  operationTimeoutMs?: number;
}

/**
 * Raised (to express-session, which passes it to the app's error handler: HTTP 500) when Redis cannot be
 * reached or does not answer in time. The message is safe to show; the Redis error is in `cause`.
 */
export class SessionStoreUnavailableError extends Error {
  /** Stable code: `'SESSION_STORE_UNAVAILABLE'`. */
  readonly code = 'SESSION_STORE_UNAVAILABLE';
  override readonly name = 'SessionStoreUnavailableError';
  constructor(cause: unknown) {
    super('The session store is unavailable, so sign-in cannot continue. Please try again in a moment.', { cause });
  }
}

/** A `redis` client that does not queue commands while disconnected and reconnects by itself. */
function newRedisClient(url: string, connectTimeoutMs: number) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
    },
  });
}

type RedisClient = ReturnType<typeof newRedisClient>;
type Done<T> = ((err?: unknown, data?: T) => void) | undefined;

/**
 * connect-redis's store with outages made explicit: the client does not queue commands while Redis is
 * away (`disableOfflineQueue`), so a request fails at once with {@link SessionStoreUnavailableError}
 * (HTTP 500) instead of hanging; the client reconnects by itself, and requests work again as soon as
 * Redis is back.
 */
export class RedisSessionStore extends RedisStore {
  /** The `redis` client (created and connected by {@link createSessionStore}). */
  readonly redis: RedisClient;
  private readonly operationTimeoutMs: number;

  /** @internal Use {@link createSessionStore}. */
  constructor(redis: RedisClient, options: SessionStoreOptions) {
    super({ client: redis, ...(options.prefix !== undefined ? { prefix: options.prefix } : {}) });
    this.redis = redis;
    this.operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  }

  /** Resolves once the client is connected and ready (at once when it already is). Never rejects. */
  ready(): Promise<void> {
    if (this.redis.isReady) return Promise.resolve();
    return new Promise((resolve) => this.redis.once('ready', () => resolve()));
  }

  /** Disconnects from Redis (pending operations fail); stops reconnecting. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.redis.isOpen) return;
    if (this.redis.isReady) await this.redis.close();
    else this.redis.destroy();
  }

  override get(sid: string, cb?: Done<SessionData | null>): Promise<SessionData | null | undefined> {
    return this.guard(() => super.get(sid) as Promise<SessionData | null>, cb);
  }

  override set(sid: string, sess: SessionData, cb?: Done<unknown>): Promise<unknown> {
    return this.guard(() => super.set(sid, sess) as Promise<unknown>, cb);
  }

  override touch(sid: string, sess: SessionData, cb?: Done<unknown>): Promise<unknown> {
    return this.guard(() => super.touch(sid, sess) as Promise<unknown>, cb);
  }

  override destroy(sid: string, cb?: Done<unknown>): Promise<unknown> {
    return this.guard(() => super.destroy(sid) as Promise<unknown>, cb);
  }

  /**
   * Runs one store operation with a deadline; any failure becomes SessionStoreUnavailableError. With a
   * callback (express-session) the outcome goes there and the promise resolves to undefined; without
   * one the promise resolves to the result or rejects.
   */
  private async guard<T>(op: () => Promise<T>, cb: Done<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis within ${this.operationTimeoutMs} ms`)), this.operationTimeoutMs);
    });
    let result: T;
    try {
      result = await Promise.race([op(), deadline]);
    } catch (err) {
      const wrapped = new SessionStoreUnavailableError(err);
      if (!cb) throw wrapped;
      cb(wrapped);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
    if (!cb) return result;
    cb(null, result);
    return undefined;
  }
}

/**
 * The session store for the example app.
 *
 * @param redisUrl - `redis://[[user]:password@]host[:port][/db]` (or `rediss://` for TLS), usually
 *   `process.env.REDIS_URL`. Empty or undefined: no shared store.
 * @param options - see {@link SessionStoreOptions}.
 * @returns a {@link RedisSessionStore} that is already connecting (and reconnects by itself after an
 *   outage: every 100 ms at first, then at most every second), or `undefined` when `redisUrl` is not
 *   set, which means express-session's memory store: fine for one process, not for several instances.
 *   Call `close()` on the store when the app stops.
 * @throws TypeError when `redisUrl` is not a redis:// or rediss:// URL.
 */
export function createSessionStore(redisUrl: string | undefined, options: SessionStoreOptions = {}): RedisSessionStore | undefined {
  if (redisUrl === undefined || redisUrl === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(redisUrl);
  } catch {
    throw new TypeError('REDIS_URL is not a URL (expected redis://host:port)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError(`REDIS_URL must start with redis:// or rediss://, not ${parsed.protocol}//`);
  }
  const where = `${parsed.protocol}//${parsed.host}`; // never the user name or password
  const log = options.log ?? (() => undefined);
  const redis = newRedisClient(redisUrl, options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS);
  // An 'error' without a listener would crash the process; report each outage once, and the recovery.
  let down = false;
  redis.on('error', (err: unknown) => {
    if (down) return;
    down = true;
    log(`Session store (Redis at ${where}) unavailable: ${err instanceof Error ? err.message : String(err)}; sign-in answers 500 until it is back`);
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log(`Session store (Redis at ${where}) is back`);
  });
  const store = new RedisSessionStore(redis, options);
  redis.connect().catch((err: unknown) => {
    // Only when reconnecting was given up (close() before the first connection): nothing to do.
    void err;
  });
  return store;
}
