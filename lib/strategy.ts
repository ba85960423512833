/**
 * RadiusStrategy: the Passport adapter. It reads the request's fields, keeps the pending
 * Access-Challenge in the session and maps each outcome to exactly one Passport action. It never touches
 * a socket: {@link RadiusClient} does the RADIUS exchange.
 */
import type { Request, RequestHandler } from 'express';
import { Strategy as PassportStrategy } from 'passport-strategy';
import createDebug from 'debug';
import type {
  RadiusAuthenticateOptions,
  RadiusStrategyClient,
  RadiusStrategyOptions,
  RadiusStrategyOptionsBase,
  RadiusStrategyOptionsWithClient,
  RadiusStrategyOptionsWithRequest,
  RadiusStrategyOwnOptions,
  RadiusSuccessInfo,
  VerifyDone,
  VerifyFunction,
  VerifyFunctionWithRequest,
} from './strategy-types';
import { ChallengeStore, MemoryChallengeClaims } from './challenge';
import { RadiusClient, type AuthResult, type RadiusClientEvents } from './client';
import { RadiusConfigError } from './errors';
import { optionsFromEnv } from './env';
import type { RadiusClientOptions, RadiusServerOptions } from './options';
import { normalizeStrategyOptions } from './strategy-options';
import { requestAttributesFor, type RequestAttributesFunction } from './request-attributes';
import { buildProfile } from './profile';
import { hasRefusedCharacter } from './request';
import { MAX_ATTRIBUTE_VALUE_LENGTH, MAX_PASSWORD_LENGTH } from './protocol/packet';
import { afterLogIn, type LoggedInSession } from './login-hooks';
import { SessionAccounting, type EndSessionOptions } from './session-accounting';

const debug = createDebug('passport-radius:strategy');

export type {
  VerifyDone,
  VerifyFunction,
  VerifyFunctionWithRequest,
  RadiusStrategyClient,
  RadiusStrategyOwnOptions,
  RadiusStrategyOptionsBase,
  RadiusStrategyOptions,
  RadiusStrategyOptionsWithRequest,
  RadiusStrategyOptionsWithClient,
  RadiusAuthenticateOptions,
  RadiusSuccessInfo,
} from './strategy-types';

/** An own property of a parsed body or query string (a polluted prototype is not a field). */
function own(source: unknown, name: string): unknown {
  return typeof source === 'object' && source !== null && Object.hasOwn(source, name) ? (source as Record<string, unknown>)[name] : undefined;
}

/** A field from the body, then from `query` (given only when query-string credentials are allowed); non-strings read as absent. */
function field(body: unknown, query: unknown, name: string): string | undefined {
  const value = own(body, name) ?? own(query, name);
  return typeof value === 'string' ? value : undefined;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TypeError(`RadiusStrategy: ${message}`);
}


/**
 * Passport strategy that signs users in against RADIUS servers (RFC 2865), PAP or CHAP per server, with
 * the two-factor Access-Challenge flow (RFC 2865 §4.4).
 *
 * ```ts
 * passport.use(new RadiusStrategy({ servers, challengeURL: '/login/challenge' },
 *   (username, profile, done) => done(null, { username, server: profile.server })));
 * ```
 *
 * Outcomes, exactly one Passport action each (README "Outcomes", test/outcomes.unit.test.ts): missing or
 * over-long credentials, or credentials in the query string without `allowQueryCredentials` → `fail` 400
 * (a code over 128 bytes leaves the pending challenge in place); a verified
 * Access-Accept → verify → `success(user, { server, replyMessage, sessionTimeout })`; Access-Reject → `fail` 401 with the
 * Reply-Message (or "Invalid username or password"); Access-Challenge → State saved in the session, then
 * `redirect(challengeURL, 303)` (or `fail` 401 with `challenge: true`); a code with no pending (or an
 * expired, or an already answered) challenge → `fail` 403; more than `maxChallengeRounds` challenges → `fail` 401; verify gives
 * no user → `fail` 401; no session for the challenge flow → `error(RadiusSessionError)`; no server
 * answered → `error(RadiusUnavailableError)`.
 *
 * @throws TypeError at construction for invalid options, naming the option.
 */
export class RadiusStrategy<Client extends RadiusStrategyClient = RadiusClient> extends PassportStrategy {
  /** Strategy name, `'radius'` unless `options.name` says otherwise. */
  name: string;
  /**
   * The RADIUS client: the {@link RadiusClient} built from the options (subscribe to its events,
   * {@link RadiusClientEvents}, or read `client.serverStatus()`), or the `client` option as given.
   */
  readonly client: Client;
  private readonly verify: VerifyFunction | VerifyFunctionWithRequest | undefined;
  private readonly passReqToCallback: boolean;
  private readonly usernameField: string;
  private readonly passwordField: string;
  private readonly codeField: string;
  private readonly challengeURL: string | undefined;
  private readonly selectServers: RadiusStrategyOwnOptions['selectServers'];
  private readonly requestAttributes: RequestAttributesFunction | undefined;
  /** The pending Access-Challenge's home: issue, take, discard. */
  private readonly challenges: ChallengeStore;
  private readonly applySessionTimeout: boolean;
  /** Accounting of signed-in sessions (RFC 2866), when `accounting` is on. */
  private readonly accounting: SessionAccounting | undefined;
  private readonly allowQueryCredentials: boolean;

  /**
   * Reads the servers from the environment ({@link optionsFromEnv}); the `RadiusProfile` becomes `req.user`.
   * @throws TypeError naming the environment variable that is missing or malformed.
   */
  constructor();
  /**
   * Reads the servers from the environment ({@link optionsFromEnv}).
   * @param verify - turns the profile into your user.
   * @throws TypeError naming the environment variable that is missing or malformed.
   */
  constructor(verify: VerifyFunction);
  /** @param verify - optional; without it the `RadiusProfile` becomes `req.user`. */
  constructor(options: RadiusStrategyOptions, verify?: VerifyFunction);
  /** @param verify - called with `req` first. */
  constructor(options: RadiusStrategyOptionsWithRequest, verify: VerifyFunctionWithRequest);
  /** A ready client (`client` option). @param verify - optional; without it the profile becomes `req.user`. */
  constructor(options: RadiusStrategyOptionsWithClient<Client> & { passReqToCallback?: false }, verify?: VerifyFunction);
  /** A ready client (`client` option). @param verify - called with `req` first. */
  constructor(options: RadiusStrategyOptionsWithClient<Client> & { passReqToCallback: true }, verify: VerifyFunctionWithRequest);
  constructor(
    optionsOrVerify?: RadiusStrategyOptionsBase | RadiusStrategyOptionsWithClient<Client> | VerifyFunction,
    verifyArgument?: VerifyFunction | VerifyFunctionWithRequest,
  ) {
    super();
    // No options (nothing, or only a verify callback): the environment configures the servers. Chosen
    // by the first argument's type, never by counting arguments.
    let options: RadiusStrategyOptionsBase | RadiusStrategyOptionsWithClient<Client>;
    let verify = verifyArgument;
    if (optionsOrVerify === undefined || typeof optionsOrVerify === 'function') {
      check(verifyArgument === undefined, 'without options, the verify callback is the only argument');
      options = optionsFromEnv();
      verify = optionsOrVerify;
    } else {
      options = optionsOrVerify;
    }
    check(typeof options === 'object' && options !== null, 'options must be an object');
    check(verify === undefined || typeof verify === 'function', 'verify must be a function');
    // The one option schema (lib/strategy-options.ts, lib/options.ts): own properties only, unknown names refused.
    const { strategy: o, client: clientOptions } = normalizeStrategyOptions(options);
    check(!(o.passReqToCallback && verify === undefined), 'passReqToCallback requires a verify callback');
    this.name = o.name;
    this.usernameField = o.usernameField;
    this.passwordField = o.passwordField;
    this.codeField = o.codeField;
    this.challengeURL = o.challengeURL;
    this.passReqToCallback = o.passReqToCallback;
    this.selectServers = o.selectServers;
    this.requestAttributes = o.requestAttributes;
    this.applySessionTimeout = o.applySessionTimeout;
    this.allowQueryCredentials = o.allowQueryCredentials;
    this.verify = verify;
    if (o.client !== undefined) {
      const given = Object.keys(clientOptions);
      check(given.length === 0, `client and ${given.join(', ')} cannot be given together: the client has its own servers`);
      this.client = o.client as Client;
    } else {
      // Without a `client`, Client is its default, RadiusClient.
      this.client = new RadiusClient(clientOptions as unknown as RadiusClientOptions, 'RadiusStrategy') as unknown as Client;
    }
    this.challenges = new ChallengeStore({
      sessionKey: o.sessionKey,
      strategy: this.name,
      timeoutMs: o.challengeTimeout,
      maxRounds: o.maxChallengeRounds,
      claims: o.challengeClaims ?? new MemoryChallengeClaims(),
      // serverStatus(), or the deprecated servers() of a client written before the rename.
      serverAddress: (server) => (this.client.serverStatus?.() ?? this.client.servers?.())?.find((s) => s.name === server)?.address,
    });
    // Accounting sends through RadiusClient's own transports: a given client must be one to use it.
    const accountingClient = this.client instanceof RadiusClient ? this.client : undefined;
    check(!o.accounting || accountingClient !== undefined, 'accounting needs a RadiusClient (built from the options, or given as client)');
    this.accounting = accountingClient ? SessionAccounting.fromOptions(o, accountingClient, o.sessionKey) : undefined;
  }

  /**
   * Ends the RADIUS accounting session of a signed-in web session (RFC 2866): sends Stop with
   * Acct-Session-Time and Acct-Terminate-Cause (`options.cause`, default `'User-Request'`) and removes
   * the accounting record from `req.session`. Call it in the sign-out route before `req.logout()`.
   * Resolves at once, without waiting for the Accounting-Response: a failure becomes an
   * `accounting-error` event on {@link RadiusStrategy.client}. Does nothing when `accounting` is off or the
   * session has no record.
   *
   * @throws TypeError for an unknown `cause`.
   */
  endSession(req: Request, options?: EndSessionOptions): Promise<void> {
    return this.accounting ? this.accounting.end(req, options) : Promise.resolve();
  }

  /**
   * Express middleware that sends an Interim-Update (RFC 2866 §5.1) for the signed-in session of the
   * request once `accountingInterim` ms have passed since the Start or the last Interim-Update; it never
   * waits for the reply. Mount it after the session middleware. Passes every request on unchanged when
   * `accountingInterim` is not set.
   */
  accountingMiddleware(): RequestHandler {
    const accounting = this.accounting;
    return accounting ? accounting.middleware() : (_req, _res, next) => next();
  }

  /**
   * Replaces the RADIUS servers at run time (see {@link RadiusClient.setServers}): the whole list is
   * validated first (a `TypeError` naming the server and option changes nothing); new sign-ins and
   * `selectServers` see the new names at once; sign-ins in flight finish on the servers they started
   * with; a pending challenge whose server was removed or now has another address gets 403.
   *
   * @param servers - the new list, as the `servers` option takes it.
   * @throws TypeError for an invalid list (or an injected `client` without `setServers`); RadiusClosedError
   *   after close().
   */
  setServers(servers: RadiusServerOptions[]): void {
    const client: RadiusStrategyClient = this.client;
    if (typeof client.setServers !== 'function') throw new TypeError('RadiusStrategy.setServers: the injected client has no setServers method');
    client.setServers(servers);
  }

  /** Closes the client's sockets (see {@link RadiusClient.close}). */
  close(): Promise<void> {
    return this.client.close();
  }

  /** Passport calls this for each request; it ends in exactly one action. */
  override authenticate(req: Request, options?: RadiusAuthenticateOptions): void {
    this.run(req, options ?? {}).catch((err: unknown) => this.error(err instanceof Error ? err : new Error(String(err))));
  }

  private async run(req: Request, options: RadiusAuthenticateOptions): Promise<void> {
    const query: unknown = req.query; // a getter that parses the query string again on each read (Express 5)
    if (!this.allowQueryCredentials && (own(query, this.usernameField) !== undefined || own(query, this.passwordField) !== undefined || own(query, this.codeField) !== undefined)) {
      // Passwords and codes in URLs end up in access logs, proxy logs and browser history.
      return this.fail({ message: 'Send the user name, password and code in the request body, not in the URL' }, 400);
    }
    const fromQuery = this.allowQueryCredentials ? query : undefined;
    const username = field(req.body, fromQuery, this.usernameField);
    const password = field(req.body, fromQuery, this.passwordField);
    const code = field(req.body, fromQuery, this.codeField);

    if (password !== undefined && password !== '') {
      // A fresh sign-in always discards a pending challenge: a stale State is never sent (RFC 5080 §2.1.1).
      this.challenges.discard(req);
      if (username === undefined || username === '') return this.fail({ message: 'Missing credentials' }, 400);
      if (Buffer.byteLength(username, 'utf8') > MAX_ATTRIBUTE_VALUE_LENGTH) return this.fail({ message: 'User name is too long' }, 400);
      // A NUL would cut the name short at the server but not here (see hasRefusedCharacter).
      if (hasRefusedCharacter(username)) return this.fail({ message: 'Invalid user name' }, 400);
      if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_LENGTH) return this.fail({ message: 'Password is too long' }, 400);
      // No await when the servers are known at once: one promise less on every sign-in.
      const chosen = this.chooseServers(req, username, options);
      const servers = Array.isArray(chosen) ? chosen : await chosen;
      if (servers.length === 0) return this.fail({ message: 'RADIUS sign-in is not enabled for this account' }, 401);
      const perRequest = requestAttributesFor(req, username, this.requestAttributes);
      const attributes = Array.isArray(perRequest) ? perRequest : await perRequest;
      const result = await this.client.authenticate({ username, password, servers, attributes });
      return this.conclude(req, result, username, 0);
    }

    // An empty code is a response only where the issuing server invites one (allowEmptyResponse).
    if (code !== undefined && (code !== '' || this.emptyResponseInvited(req))) {
      // Checked before the challenge is taken: a code that cannot be sent does not spend it.
      if (Buffer.byteLength(code, 'utf8') > MAX_PASSWORD_LENGTH) return this.fail({ message: 'Code is too long' }, 400);
      const taken = await this.challenges.take(req);
      if (!taken.taken) {
        debug('code refused: %s', taken.reason);
        return this.fail({ message: 'No pending RADIUS challenge' }, 403);
      }
      const pending = taken.challenge;
      const perRequest = requestAttributesFor(req, pending.username, this.requestAttributes);
      const attributes = Array.isArray(perRequest) ? perRequest : await perRequest;
      const result = await this.client.respond({
        attributes,
        server: pending.server,
        username: pending.username,
        response: code,
        ...(pending.state !== undefined ? { state: Buffer.from(pending.state, 'base64') } : {}),
      });
      return this.conclude(req, result, pending.username, pending.round);
    }

    return this.fail({ message: 'Missing credentials' }, 400);
  }

  /** True when a challenge is pending from a server configured with `allowEmptyResponse`. */
  private emptyResponseInvited(req: Request): boolean {
    const server = this.challenges.peek(req)?.server;
    return server !== undefined && this.client.allowsEmptyResponse?.(server) === true;
  }

  private chooseServers(req: Request, username: string, options: RadiusAuthenticateOptions): readonly string[] | Promise<readonly string[]> {
    const names = options.servers;
    if (names === undefined && this.selectServers) {
      const selectServers = this.selectServers;
      return Promise.resolve(selectServers(req, username)).then((selected) => this.checkServers(selected));
    }
    return this.checkServers(names);
  }

  /** The route's or `selectServers`' names, checked against the client's; all servers when none given. */
  private checkServers(names: readonly string[] | undefined): readonly string[] {
    if (names === undefined) return this.client.serverNames;
    if (!Array.isArray(names)) throw new RadiusConfigError('selectServers must return an array of server names');
    for (const name of names) {
      if (!this.client.serverNames.includes(name)) throw new RadiusConfigError(`Unknown RADIUS server "${String(name)}"`);
    }
    return names;
  }

  private async conclude(req: Request, result: AuthResult, username: string, round: number): Promise<void> {
    if (result.type === 'reject') {
      return this.fail({ message: result.replyMessage ?? (round > 0 ? 'Invalid code' : 'Invalid username or password') }, 401);
    }
    if (result.type === 'challenge') {
      const outcome = await this.challenges.issue(req, {
        server: result.server,
        username,
        state: result.state,
        prompt: result.replyMessage ?? '',
        echo: result.echo,
        previousRound: round,
      });
      if (!outcome.issued) {
        debug('%s: too many challenge rounds for %o', result.server, username);
        return this.fail({ message: 'Too many challenge rounds' }, 401);
      }
      if (this.challengeURL === undefined) {
        return this.fail({ message: outcome.challenge.prompt || 'Enter your verification code', challenge: true }, 401);
      }
      return this.redirect(this.challengeURL, 303);
    }
    // A verified Access-Accept: drop any challenge key so session regeneration cannot carry it forward.
    this.challenges.discard(req);
    const profile = buildProfile(username, result);
    const info: RadiusSuccessInfo = { server: result.server, replyMessage: result.replyMessage, sessionTimeout: profile.sessionTimeout };
    // Installed only on the way to success(), so that no other strategy's sign-in is affected.
    const succeed = (user: Express.User, successInfo: object): void => {
      const hooks: Array<(session: LoggedInSession) => void> = [];
      const sessionTimeout = profile.sessionTimeout;
      if (this.applySessionTimeout && sessionTimeout !== undefined && sessionTimeout > 0) {
        hooks.push((s) => {
          if (!s.cookie) return;
          s.cookie.maxAge = sessionTimeout * 1000;
          debug('session cookie lifetime set from Session-Timeout: %d ms', sessionTimeout * 1000);
        });
      }
      if (this.accounting) hooks.push(this.accounting.onSignIn(req, username, result));
      if (hooks.length > 0) afterLogIn(req, hooks);
      this.success(user, successInfo);
    };
    if (!this.verify) return succeed(profile as unknown as Express.User, info);
    await new Promise<void>((resolve) => {
      let called = false;
      const done: VerifyDone = (err, user, verifyInfo) => {
        if (called) return;
        called = true;
        resolve();
        if (err) return this.error(err instanceof Error ? err : new Error(String(err)));
        if (!user) return this.fail(verifyInfo ?? { message: 'Not allowed' }, 401);
        succeed(user, verifyInfo ?? info);
      };
      try {
        if (this.passReqToCallback) (this.verify as VerifyFunctionWithRequest)(req, username, profile, done);
        else (this.verify as VerifyFunction)(username, profile, done);
      } catch (err) {
        done(err);
      }
    });
  }
}

export type { RadiusClientEvents };

declare module 'passport' {
  interface AuthenticateOptions {
    /** passport-radius: servers to try for this route, in order (overrides `selectServers`). */
    servers?: readonly string[] | undefined;
  }
}
