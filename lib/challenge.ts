/**
 * The pending Access-Challenge, kept in the user's session (never in the browser): RFC 2865 §4.4,
 * RFC 5080 §2.1.1. Modelled on passport-oauth2's session state store: single use, bound to the issuing
 * server and the username, with an expiry and a round count. Never holds the password or the code.
 */

/** What the session holds while a challenge is pending, under `req.session[sessionKey]`. JSON-safe. */
export interface PendingChallenge {
  /** Random identifier of this challenge (base64url), so a challenge is answered at most once per process. */
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
}

/** Minimal view of `req.session` (express-session or any compatible middleware). */
export interface SessionLike {
  [key: string]: unknown;
  /** Persists the session (express-session's `save`); called before the redirect to `challengeURL`. */
  save?(callback: (err?: unknown) => void): void;
  /** Replaces the session with a new one under a new id (express-session's `regenerate`). */
  regenerate?(callback: (err?: unknown) => void): void;
}

/** Reads and shape-checks the pending challenge; anything malformed reads as none. */
export function readPending(session: SessionLike | undefined, key: string): PendingChallenge | undefined {
  const value = session?.[key];
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
 * @returns `{ prompt, echo, username, expiresAt, round }`; never the State.
 */
export function getChallenge(req: { session?: unknown }, sessionKey = 'radius'): ChallengeInfo | undefined {
  const pending = readPending(req.session as SessionLike | undefined, sessionKey);
  if (!pending || pending.expiresAt <= Date.now()) return undefined;
  return { prompt: pending.prompt, echo: pending.echo, username: pending.username, expiresAt: pending.expiresAt, round: pending.round };
}
