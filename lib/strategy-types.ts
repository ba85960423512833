/**
 * The public shapes of `RadiusStrategy`: its options (the strategy's own, the client's, or a ready
 * client), the verify callback, per-route options and the success info. Validation lives in
 * lib/strategy-options.ts; behaviour in lib/strategy.ts.
 */
import type { Request } from 'express';
import type { ChallengeClaims } from './challenge';
import type { AuthenticateRequest, AuthResult, ChallengeResponseRequest } from './client';
import type { RadiusClientOptions, RadiusServerOptions } from './options';
import type { RadiusProfile } from './profile';
import type { RequestAttributesFunction } from './request-attributes';
import type { AccountingStrategyOptions } from './session-accounting';

/** Passport's `done` for the verify callback: `done(err)`, `done(null, false, info)` or `done(null, user, info)`. */
export type VerifyDone = (err: unknown, user?: Express.User | false | null, info?: object) => void;
/** `verify(username, profile, done)`: turn a verified Access-Accept into your user, or refuse it. */
export type VerifyFunction = (username: string, profile: RadiusProfile, done: VerifyDone) => void;
/** `verify(req, username, profile, done)`, with `passReqToCallback: true`. */
export type VerifyFunctionWithRequest = (req: Request, username: string, profile: RadiusProfile, done: VerifyDone) => void;

/**
 * What the strategy needs from its RADIUS client: `RadiusClient` has it all. Give your own object
 * as the `client` option to drive the strategy without sockets (tests) or through another transport.
 */
export interface RadiusStrategyClient {
  /** Names of the configured servers, in configured order (the default choice of servers). */
  readonly serverNames: readonly string[];
  /**
   * The configured address of each server (by name): a challenge is answered only at the same address
   * (`RadiusClient.serverStatus()` gives more). A client needs this or the deprecated `servers()`.
   */
  serverStatus?(): ReadonlyArray<{ readonly name: string; readonly address: string }>;
  /** @deprecated Renamed `serverStatus()`; a client with only `servers()` still works until 1.0. */
  servers?(): ReadonlyArray<{ readonly name: string; readonly address: string }>;
  /** Sends the password step (see `RadiusClient.authenticate`); rejects when no server answered. */
  authenticate(request: AuthenticateRequest): Promise<AuthResult>;
  /** Sends a challenge response to the issuing server (see `RadiusClient.respond`). */
  respond(request: ChallengeResponseRequest): Promise<AuthResult>;
  /** Releases the client's resources; the strategy's `close()` calls it. */
  close(): Promise<void>;
  /** Whether an empty challenge response may be sent to this server (its `allowEmptyResponse`). Absent: never. */
  allowsEmptyResponse?(server: string): boolean;
  /** Replaces the servers at run time (see `RadiusClient.setServers`). Absent: `strategy.setServers` throws. */
  setServers?(servers: RadiusServerOptions[]): void;
}

/** The strategy's own options, shared by both forms of {@link RadiusStrategyOptions}. */
export interface RadiusStrategyOwnOptions extends AccountingStrategyOptions {
  /** Body field holding the user name (also read from the query string with `allowQueryCredentials`). Default `'username'`. */
  usernameField?: string;
  /** Body field holding the password (also read from the query string with `allowQueryCredentials`). Default `'password'`. */
  passwordField?: string;
  /** Body field holding the challenge response, the code (also read from the query string with `allowQueryCredentials`). Default `'code'`. */
  codeField?: string;
  /**
   * Also read the user name, password and code from the query string when the body lacks them (as
   * passport-local does). Off by default: credentials in URLs end up in access logs, proxy logs and
   * browser history, so a request carrying any of these fields in its query string fails with 400.
   * Default `false`.
   */
  allowQueryCredentials?: boolean;
  /**
   * Where to redirect (303 See Other) after an Access-Challenge, once the session is saved. Without it
   * the strategy fails with `{ message: prompt, challenge: true }` and 401 (for APIs and single-page apps).
   */
  challengeURL?: string;
  /** `req.session` key of the pending challenge. Default `'radius'`. */
  sessionKey?: string;
  /** Milliseconds a pending challenge stays valid. Default 300000 (5 minutes). */
  challengeTimeout?: number;
  /** Access-Challenge rounds allowed in one sign-in (a whole number, 1 to 20); one more fails with 401. Default 3. */
  maxChallengeRounds?: number;
  /**
   * Where "this challenge has been answered" is recorded, so that one challenge is answered at most
   * once (see {@link ChallengeClaims}). Default: this process's memory (`MemoryChallengeClaims`),
   * which is not enough when several app instances share sessions: give them one shared implementation,
   * e.g. Redis `SET key 1 NX PX ttl` (README, "Running several instances").
   */
  challengeClaims?: ChallengeClaims;
  /** Strategy name for `passport.authenticate(name)`. Default `'radius'`. */
  name?: string;
  /**
   * Chooses the servers for a request, in order (sync or async), e.g. by the user's organization.
   * `username` is the user name the strategy will send (from the body; with `allowQueryCredentials`, from
   * the body, then the query string): choose by it, not by `req.body` alone, or a user name in the query
   * string could pick other servers.
   * Default: every server, in configured order. An unknown name → `error`; an empty list → `fail` 401.
   * `passport.authenticate('radius', { servers })` overrides it per route.
   */
  selectServers?: (req: Request, username: string) => readonly string[] | Promise<readonly string[]>;
  /**
   * Attributes to add to this sign-in's Access-Requests (sync or async), by dictionary name, e.g.
   * `(req) => ({ 'Called-Station-Id': req.hostname })`. Every Access-Request (the password and each
   * challenge response) already carries Calling-Station-Id = `req.ip` (so Express's `trust proxy` setting
   * decides which address counts) and NAS-Port-Type = Virtual; a name returned here replaces that default,
   * and a server that configures a name (or sets it to `null`) keeps its own. Default: the two defaults only.
   */
  requestAttributes?: RequestAttributesFunction;
  /**
   * When the Access-Accept carries a Session-Timeout (RFC 2865 §5.27) above 0, make the signed-in
   * session's cookie live that many seconds: `req.session.cookie.maxAge` is set once `req.logIn` has
   * established the (regenerated) session, which is then saved again. Needs express-session (or a
   * session whose `cookie` has `maxAge`) and a sign-in through `req.logIn` — Passport's default, or your
   * custom callback calling it. Only the cookie changes: express-session still extends the store's own
   * expiry on each request, so enforce a hard limit yourself if you need one. Default `false`.
   */
  applySessionTimeout?: boolean;
}

/**
 * Options shared by both forms of {@link RadiusStrategyOptions}: the strategy's own (with `accounting` /
 * `accountingInterim`, {@link AccountingStrategyOptions}) and every `RadiusClientOptions` field.
 */
export interface RadiusStrategyOptionsBase extends RadiusStrategyOwnOptions, RadiusClientOptions {}

/** `RadiusStrategy` options with `verify(username, profile, done)`. */
export interface RadiusStrategyOptions extends RadiusStrategyOptionsBase {
  /** Pass `req` as the verify callback's first argument. Default `false`. */
  passReqToCallback?: false;
}
/** `RadiusStrategy` options with `verify(req, username, profile, done)`. */
export interface RadiusStrategyOptionsWithRequest extends RadiusStrategyOptionsBase {
  /** Pass `req` as the verify callback's first argument: `verify(req, username, profile, done)`. Required here. */
  passReqToCallback: true;
}

/**
 * `RadiusStrategy` options with a ready client instead of the client options (`servers` and the
 * rest cannot be given with it): e.g. a fake in tests, so that outcomes are tested without sockets.
 */
export interface RadiusStrategyOptionsWithClient<Client extends RadiusStrategyClient> extends RadiusStrategyOwnOptions {
  /** The client the strategy calls; `strategy.client` is this object. */
  client: Client;
  /** Pass `req` as the verify callback's first argument: `verify(req, username, profile, done)`. Default `false`. */
  passReqToCallback?: boolean;
}

/** Per-route options: `passport.authenticate('radius', { servers: ['corp-a'] })`. */
export interface RadiusAuthenticateOptions {
  /** Servers to try for this route, in order; overrides `selectServers`. */
  servers?: readonly string[];
}

/** Info passed to `success(user, info)`. */
export interface RadiusSuccessInfo {
  /** Name of the server that accepted. */
  server: string;
  /** Reply-Message text of the Access-Accept (untrusted). */
  replyMessage: string | undefined;
  /** Session-Timeout of the Access-Accept in seconds (RFC 2865 §5.27), when sent. */
  sessionTimeout: number | undefined;
}
