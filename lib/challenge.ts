/**
 * The pending Access-Challenge (RFC 2865 §4.4, RFC 5080 §2.1.1) and its whole lifecycle, kept in the
 * user's session (never in the browser). Modelled on passport-oauth2's session state store: the strategy
 * only calls {@link ChallengeStore.issue} and {@link ChallengeStore.take}; this module issues, saves,
 * takes (single use: deleted before it is checked), expires, counts rounds and binds a challenge to the
 * strategy, the issuing server (name and address) and the user name. Never holds the password or the code.
 */
import { randomBytes } from 'node:crypto';
import { RadiusSessionError } from './errors';

/** What the session holds while a challenge is pending, under `req.session[sessionKey]`. JSON-safe. */
export interface PendingChallenge {
  /** Random identifier of this challenge (base64url): {@link ChallengeClaims} let it be answered once. */
  id: string;
  /** The State attribute, base64 (so any bytes survive a JSON session store); absent when none was sent. */
  state?: string;
  /** Name of the server that issued the challenge; the follow-up goes only there. */
  server: string;
  /**
   * That server's configured address, and the name of the strategy that stored the challenge: a
   * strategy answers only challenges it issued itself, to the same server (another strategy sharing the
   * session key, or a server of the same name elsewhere, gets a 403).
   */
  address: string;
  /** The `name` of the strategy that issued the challenge. */
  strategy: string;
  /** The User-Name of the first Access-Request; the follow-up uses it, never the request body. */
  username: string;
  /** All Reply-Message attributes joined in order; may be empty. Untrusted text: escape it. */
  prompt: string;
  /** Whether the response may be shown as typed (Prompt attribute, RFC 2869 §5.10; false when absent). */
  echo: boolean;
  /** 1 for the first challenge, 2 for the next, and so on. */
  round: number;
  /** Epoch milliseconds after which the challenge is no longer accepted. */
  expiresAt: number;
}

/** What {@link getChallenge} returns for rendering a challenge page. Never includes the State. */
export interface ChallengeInfo {
  /** The server's Reply-Message text (untrusted: escape it before putting it in HTML). */
  prompt: string;
  /** `true`: show the input as typed; `false`: mask it (type=password). */
  echo: boolean;
  /** The User-Name being signed in; the code answers the challenge for this user. */
  username: string;
  /** Epoch milliseconds after which the challenge expires. */
  expiresAt: number;
  /** Which Access-Challenge this is in the sign-in: 1 for the first, 2 for the next, and so on. */
  round: number;
  /**
   * Name of the server that issued the challenge (the response goes only there). With
   * `strategy.client.allowsEmptyResponse(server)` a page can tell whether an empty response may be sent
   * (a push, `allowEmptyResponse`).
   */
  server: string;
}

/** Minimal view of `req.session` (express-session or any compatible middleware). */
export interface SessionLike {
  [key: string]: unknown;
  /** Persists the session (express-session's `save`); called before the redirect to `challengeURL`. */
  save?(callback: (err?: unknown) => void): void;
  /** Replaces the session with a new one under a new id (express-session's `regenerate`). */
  regenerate?(callback: (err?: unknown) => void): void;
}

/**
 * Where "this challenge has been answered" is recorded, so that one challenge is answered at most once
 * even when several requests carry it at the same time: on one session (each request reads its own copy
 * of the session, so deleting the challenge from it is not enough) or on several app instances sharing
 * sessions. The default, {@link MemoryChallengeClaims}, covers one process; several instances need a
 * shared implementation, e.g. Redis `SET <prefix><id> 1 NX PX <ttlMs>` (see the README, "Running
 * several instances").
 */
export interface ChallengeClaims {
  /**
   * Records that challenge `id` is being answered.
   *
   * @param id - the challenge's random id (base64url, 22 characters); not secret, but unguessable.
   * @param ttlMs - milliseconds the record must be kept at least (the challenge's remaining lifetime, ≥ 1).
   * @returns `true` for the first claim of `id`, `false` for every later one. A rejection (e.g. the
   *   shared store is down) fails the request with `error`: the code is not sent.
   */
  claim(id: string, ttlMs: number): Promise<boolean>;
}

/** How often {@link MemoryChallengeClaims} sweeps expired ids, in milliseconds. */
const SWEEP_INTERVAL_MS = 1_000;

/** {@link ChallengeClaims} in this process's memory: enough for one app instance, not for several. */
export class MemoryChallengeClaims implements ChallengeClaims {
  /** id → epoch ms until which it is remembered. */
  private readonly claimed = new Map<string, number>();
  private nextSweep = 0;

  /** First claim of `id` → `true`; later claims within `ttlMs` milliseconds → `false`. Never rejects. */
  claim(id: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    if (now >= this.nextSweep) {
      for (const [key, until] of this.claimed) if (until <= now) this.claimed.delete(key);
      this.nextSweep = now + SWEEP_INTERVAL_MS;
    }
    const until = this.claimed.get(id);
    if (until !== undefined && until > now) return Promise.resolve(false);
    this.claimed.set(id, now + ttlMs);
    return Promise.resolve(true);
  }
}

/** Settings of a {@link ChallengeStore}; the strategy builds one from its own options. */
export interface ChallengeStoreOptions {
  /** `req.session` key of the pending challenge. */
  sessionKey: string;
  /** Name of the strategy that owns the store; a challenge issued under another name is not taken. */
  strategy: string;
  /** Milliseconds a challenge stays valid after it is issued. */
  timeoutMs: number;
  /** Access-Challenge rounds allowed in one sign-in (1 for a single code step). */
  maxRounds: number;
  /** Single-use records; see {@link ChallengeClaims}. */
  claims: ChallengeClaims;
  /** The configured address of server `name` now, or `undefined` when no such server is configured. */
  serverAddress: (name: string) => string | undefined;
}

/** An Access-Challenge to keep, as the client reported it. */
export interface ChallengeToIssue {
  /** Name of the server that sent the Access-Challenge. */
  server: string;
  /** User-Name of the challenged Access-Request. */
  username: string;
  /** The State attribute byte for byte, or `undefined` when the server sent none. */
  state: Buffer | undefined;
  /** Reply-Message text joined (untrusted); `''` when none. */
  prompt: string;
  /** Whether the response may echo (Prompt, RFC 2869 §5.10). */
  echo: boolean;
  /** Round of the step that was challenged: 0 after the password, the pending round after a code. */
  previousRound: number;
}

/** Outcome of {@link ChallengeStore.issue}. */
export type IssueOutcome = { issued: true; challenge: PendingChallenge } | { issued: false; reason: 'too-many-rounds' };

/**
 * Why {@link ChallengeStore.take} found no challenge to answer: none pending (or malformed), expired,
 * issued by another strategy, by a server that is no longer configured at that name and address, or
 * already claimed by another request.
 */
export type TakeFailure = 'none' | 'expired' | 'other-strategy' | 'other-server' | 'claimed';

/** Outcome of {@link ChallengeStore.take}. */
export type TakeOutcome = { taken: true; challenge: PendingChallenge } | { taken: false; reason: TakeFailure };

/** `req.session` (from express-session or a compatible middleware), when it is an object. */
function sessionOf(req: object): SessionLike | undefined {
  const session = (req as { session?: unknown }).session;
  return typeof session === 'object' && session !== null ? (session as SessionLike) : undefined;
}

function callbackPromise(run: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    run((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
  });
}

/**
 * The pending challenge of a strategy: issue, take, discard. One per strategy; it keeps nothing per
 * request itself (the session does), only the {@link ChallengeClaims}.
 */
export class ChallengeStore {
  private readonly options: ChallengeStoreOptions;

  /** @param options - see {@link ChallengeStoreOptions}; validated by the strategy. */
  constructor(options: ChallengeStoreOptions) {
    this.options = options;
  }

  /**
   * Keeps a new pending challenge: gives the session a new id (express-session's `regenerate`, data kept:
   * a session id planted in the browser beforehand cannot watch or spend the challenge), stores the
   * challenge and saves the session, so that a redirect may follow at once.
   *
   * @returns `{ issued: false, reason: 'too-many-rounds' }` (nothing stored, any pending challenge
   *   dropped) when this would exceed `maxRounds`.
   * @throws RadiusSessionError when `req.session` is missing; the session's own errors (regenerate, save).
   */
  async issue(req: object, input: ChallengeToIssue): Promise<IssueOutcome> {
    const session = sessionOf(req);
    if (!session) throw new RadiusSessionError();
    const round = input.previousRound + 1;
    if (round > this.options.maxRounds) {
      delete session[this.options.sessionKey];
      return { issued: false, reason: 'too-many-rounds' };
    }
    const challenge: PendingChallenge = {
      id: randomBytes(16).toString('base64url'),
      ...(input.state ? { state: input.state.toString('base64') } : {}),
      server: input.server,
      address: this.options.serverAddress(input.server) ?? '',
      strategy: this.options.strategy,
      username: input.username,
      prompt: input.prompt,
      echo: input.echo,
      round,
      expiresAt: Date.now() + this.options.timeoutMs,
    };
    const fresh = await regenerate(req, session);
    fresh[this.options.sessionKey] = challenge;
    if (typeof fresh.save === 'function') await callbackPromise((done) => fresh.save!(done));
    return { issued: true, challenge };
  }

  /**
   * Takes the pending challenge to answer it: removes it from the session first (single use, whatever
   * follows), then checks its expiry, that this strategy issued it and that its server is still configured
   * at the same address, and finally claims it (see {@link ChallengeClaims}).
   *
   * @throws RadiusSessionError when `req.session` is missing; whatever `claims.claim` rejects with.
   */
  async take(req: object): Promise<TakeOutcome> {
    const session = sessionOf(req);
    if (!session) throw new RadiusSessionError();
    const pending = readPending(session, this.options.sessionKey);
    delete session[this.options.sessionKey];
    if (!pending) return { taken: false, reason: 'none' };
    const ttlMs = pending.expiresAt - Date.now();
    if (ttlMs <= 0) return { taken: false, reason: 'expired' };
    if (pending.strategy !== this.options.strategy) return { taken: false, reason: 'other-strategy' };
    if (this.options.serverAddress(pending.server) !== pending.address) return { taken: false, reason: 'other-server' };
    if (!(await this.options.claims.claim(pending.id, ttlMs))) return { taken: false, reason: 'claimed' };
    return { taken: true, challenge: pending };
  }

  /** The pending challenge as it is, without taking it (e.g. to ask about its server); `undefined` when none. */
  peek(req: object): PendingChallenge | undefined {
    return readPending(sessionOf(req), this.options.sessionKey);
  }

  /** Drops any pending challenge (a fresh sign-in, or a signed-in user); no session: nothing to do. */
  discard(req: object): void {
    const session = sessionOf(req);
    if (session) delete session[this.options.sessionKey];
  }
}

/**
 * Gives the request a new session (new id) holding the same data, when the session middleware can
 * (express-session's `regenerate`); otherwise keeps the session as it is.
 */
async function regenerate(req: object, session: SessionLike): Promise<SessionLike> {
  if (typeof session.regenerate !== 'function') return session;
  const data = Object.entries(session).filter(([key, value]) => key !== 'cookie' && typeof value !== 'function');
  await callbackPromise((done) => session.regenerate!(done));
  const fresh = sessionOf(req);
  if (!fresh) throw new RadiusSessionError();
  for (const [key, value] of data) fresh[key] = value;
  return fresh;
}

/** Reads and shape-checks the pending challenge; anything malformed reads as none. */
export function readPending(session: SessionLike | undefined, key: string): PendingChallenge | undefined {
  const value = Object.hasOwn(session ?? {}, key) ? session?.[key] : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof v.id !== 'string' ||
    typeof v.server !== 'string' ||
    typeof v.address !== 'string' ||
    typeof v.strategy !== 'string' ||
    typeof v.username !== 'string' ||
    typeof v.prompt !== 'string' ||
    typeof v.echo !== 'boolean' ||
    typeof v.round !== 'number' ||
    typeof v.expiresAt !== 'number' ||
    (v.state !== undefined && typeof v.state !== 'string')
  ) {
    return undefined;
  }
  return {
    id: v.id,
    ...(typeof v.state === 'string' ? { state: v.state } : {}),
    server: v.server,
    address: v.address,
    strategy: v.strategy,
    username: v.username,
    prompt: v.prompt,
    echo: v.echo,
    round: v.round,
    expiresAt: v.expiresAt,
  };
}

/**
 * The pending Access-Challenge of this request's session, for rendering the challenge page, or
 * `undefined` when none is pending (or it expired, or there is no session).
 *
 * @param req - the HTTP request (needs `req.session`, e.g. from express-session).
 * @param sessionKey - the strategy's `sessionKey` option. Default `'radius'`.
 * @returns `{ prompt, echo, username, expiresAt, round, server }`; never the State.
 */
export function getChallenge(req: { session?: unknown }, sessionKey = 'radius'): ChallengeInfo | undefined {
  const pending = readPending(sessionOf(req), sessionKey);
  if (!pending || pending.expiresAt <= Date.now()) return undefined;
  return { prompt: pending.prompt, echo: pending.echo, username: pending.username, expiresAt: pending.expiresAt, round: pending.round, server: pending.server };
}
