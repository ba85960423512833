/**
 * RadiusClient: signs users in against the configured servers — an Access-Request to each in the order
 * the pool gives (lib/pool.ts), failover after a reject or a server that gives no reply (RFC 2865 §2.4,
 * §2.6; RFC 5080 §2.2.1), the challenge follow-up to the issuing server only (§4.4). It builds requests
 * with the one builder (lib/request.ts), reaches servers through the one transport factory
 * (lib/transports.ts), kept per server address by lib/server-transports.ts, and never sees an HTTP
 * request: the strategy calls it.
 */
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { RadiusAccounting, type AccountingRequest, type AccountingResult } from './accounting';
import type { AuthenticateRequest, ChallengeResponseRequest, RadiusClientEvents } from './client-types';
import { AttemptFailure, RadiusClosedError, RadiusConfigError, RadiusUnavailableError, type ServerAttempt } from './errors';
import { configurationWarnings, type RadiusWarning } from './warnings';
import { normalizeClientOptions, normalizeServers, type NormalizedServer, type RadiusClientOptions, type RadiusServerOptions } from './options';
import { HealthMonitor } from './health';
import { ServerPool, type ServerRuntime, type ServerStatus } from './pool';
import { probeServer, type ProbeOptions, type ProbeResult } from './probe';
import { Code, MAX_ATTRIBUTE_VALUE_LENGTH, MAX_PACKET_LENGTH, MAX_PASSWORD_LENGTH } from './protocol/packet';
import { AccessExchange } from './access-exchange';
import { accessRequestLength, argument, refusedCharacterError, extraAttributes, hasRefusedCharacter, passwordBytes, userNameBytes, type AccessRequestParts } from './request';
import { toAuthResult, type AuthResult } from './result';
import { ExchangeError, type ExchangeResult } from './transport';
import { ServerTransports } from './server-transports';
import type { Transport } from './transports';

export type { AuthResult, AcceptResult, RejectResult, ChallengeResult } from './result';
export type { ServerStatus } from './pool';
export type { AuthenticateRequest, ChallengeResponseRequest, RadiusClientEvents } from './client-types';

const debug = createDebug('passport-radius:client');

/**
 * A RADIUS client for sign-in, usable without Passport.
 *
 * ```ts
 * import { RadiusClient } from 'passport-radius';
 * const client = new RadiusClient({ servers: [{ name: 'corp', address: 'radius.corp:1812', secret: 's3cret-shared',
 *   attributes: { 'NAS-Identifier': 'console' } }] });
 * const result = await client.authenticate({ username: 'alice', password: 'pw' });
 * ```
 *
 * Construction throws `TypeError` for bad options. `authenticate` and `respond` resolve with an
 * {@link AuthResult} and reject with {@link RadiusUnavailableError} when no server gave a valid reply, or
 * {@link RadiusClosedError} after {@link RadiusClient.close}. Emits {@link RadiusClientEvents}.
 */
export class RadiusClient extends EventEmitter<RadiusClientEvents> {
  /** @internal The servers, their order, hold-down and status. */
  readonly pool: ServerPool;
  /** Decides, on evidence, when a server is dead (lib/health.ts). */
  private readonly health: HealthMonitor;
  private readonly failoverOnReject: boolean;
  private readonly failoverOnTimeout: boolean;
  private closed = false;
  /** The servers' transports (sockets), created on first use, closed once idle when retired. */
  private readonly transports: ServerTransports;
  /** Accounting-Requests (RFC 2866), on transports of their own to each server's accounting address. */
  private accounting: RadiusAccounting;
  /** Accounting of a server list replaced by setServers, until its records in flight are done. */
  private readonly retiredAccounting = new Set<RadiusAccounting>();
  /** How option errors name the caller (`RadiusClient`, `RadiusStrategy`). */
  private readonly prefix: string;

  /**
   * @param options - see {@link RadiusClientOptions}.
   * @param prefix - how option errors name the caller. Default `'RadiusClient'`.
   * @throws TypeError when an option is invalid, naming it.
   */
  constructor(options: RadiusClientOptions, prefix = 'RadiusClient') {
    super();
    const normalized = normalizeClientOptions(options, prefix);
    this.prefix = prefix;
    this.failoverOnReject = normalized.failoverOnReject;
    this.failoverOnTimeout = normalized.failoverOnTimeout;
    this.pool = new ServerPool(normalized.servers, normalized.holdDown, {
      'server-down': (payload) => this.emit('server-down', payload),
      'server-up': (payload) => this.emit('server-up', payload),
    });
    this.health = new HealthMonitor(this.pool);
    this.transports = new ServerTransports((server, reason) => this.emit('dropped', { server, reason }), this.health);
    this.warnings = this.warn(normalized.servers);
    this.accounting = this.newAccounting(normalized.servers);
  }

  /** Accounting for `servers`, its events re-emitted by this client. */
  private newAccounting(servers: readonly NormalizedServer[]): RadiusAccounting {
    return new RadiusAccounting(
      servers,
      // AccountingEvents is part of RadiusClientEvents; TypeScript cannot relate the two generic signatures.
      (event, ...args) => (this.emit as (name: string, ...payload: unknown[]) => boolean)(event, ...args),
      (server, reason) => this.emit('dropped', { server, reason }),
    );
  }

  /** Weaknesses found in the configuration at construction or the last `setServers` (also emitted as `'warning'` events). */
  warnings: readonly RadiusWarning[];

  /** The configuration warnings of `servers`, logged and emitted on the next tick (so listeners added right after can hear them). */
  private warn(servers: Parameters<typeof configurationWarnings>[0]): readonly RadiusWarning[] {
    const warnings = configurationWarnings(servers);
    for (const w of warnings) debug('warning: %s', w.message);
    if (warnings.length > 0) {
      process.nextTick(() => {
        for (const w of warnings) this.emit('warning', w);
      });
    }
    return warnings;
  }

  /**
   * Replaces the server list at run time (e.g. from an admin console). The whole list is validated first:
   * a `TypeError` naming the server and the option changes nothing. Then new sign-ins use the new list
   * (and `serverNames` / `serverStatus()` show it) at once; sign-ins in flight finish on the configuration they
   * started with; a server whose options are unchanged keeps its sockets, counters and hold-down; the
   * sockets of removed or reconfigured servers close once nothing is in flight on them. A pending
   * Access-Challenge of a removed server cannot be answered (`respond` throws `RadiusConfigError`); the
   * strategy refuses one whose server was removed or moved to another address with 403.
   *
   * @param servers - the new list, as the `servers` option takes it (at least one).
   * @throws TypeError for an invalid list, naming the server (position and name) and the option;
   *   RadiusClosedError after close().
   */
  setServers(servers: RadiusServerOptions[]): void {
    this.assertOpen();
    argument(Array.isArray(servers) && servers.length > 0, `${this.prefix}: setServers needs a non-empty array of servers`);
    const normalized = normalizeServers(servers, this.prefix, true);
    // Records in flight finish on the old list: its accounting closes once every server's timeout has passed.
    const oldAccounting = this.accounting;
    const grace = this.pool.runtimes.reduce((sum, r) => sum + r.config.timeout, 1000);
    this.transports.retire(this.pool.replace(normalized));
    this.accounting = this.newAccounting(normalized);
    this.retiredAccounting.add(oldAccounting);
    setTimeout(() => {
      this.retiredAccounting.delete(oldAccounting);
      void oldAccounting.close();
    }, grace).unref();
    this.warnings = this.warn(normalized);
    debug('servers replaced: %s', this.pool.names.join(', '));
  }

  /** Whether the named server may be sent an empty challenge response (its `allowEmptyResponse`); false for an unknown name. */
  allowsEmptyResponse(server: string): boolean {
    return this.pool.names.includes(server) && this.pool.get(server).config.allowEmptyResponse;
  }

  /** Names of the configured servers, in configured order. */
  get serverNames(): string[] {
    return [...this.pool.names];
  }

  /** A snapshot of every server's state and counters, in configured order. */
  serverStatus(): ServerStatus[] {
    return this.pool.snapshot();
  }

  /** @deprecated Renamed {@link RadiusClient.serverStatus} (it returns status snapshots); removed in 1.0. */
  servers(): ServerStatus[] {
    return this.pool.snapshot();
  }

  /**
   * Signs a user in: sends an Access-Request (PAP or CHAP per server) to each server in order until one
   * accepts or challenges; moves on after an Access-Reject (when `failoverOnReject`) or a server that
   * does not answer (when `failoverOnTimeout`). An Access-Challenge ends the loop. Held-down servers are
   * tried last, and only when no server answered; when every chosen server is held down, all are tried.
   *
   * @returns the outcome; a reject is the last server's reject.
   * @throws TypeError for wrong argument types; RadiusUnavailableError when no server gave a valid reply;
   *   RadiusConfigError for an unknown server name or over-long credentials; RadiusClosedError after close().
   */
  async authenticate(request: AuthenticateRequest): Promise<AuthResult> {
    const where = 'RadiusClient.authenticate';
    argument(typeof request === 'object' && request !== null, `${where}: the argument must be an object { username, password }`);
    const username = userNameBytes(request.username, where);
    argument(typeof request.password === 'string', `${where}: password must be a string`);
    argument(
      request.servers === undefined || (Array.isArray(request.servers) && request.servers.every((n) => typeof n === 'string')),
      `${where}: servers must be an array of server names`,
    );
    const extra = extraAttributes(request.attributes, where);
    this.assertOpen();
    const password = Buffer.from(request.password, 'utf8');
    if (password.length > MAX_PASSWORD_LENGTH) throw new RadiusConfigError('The password is longer than 128 bytes');
    const choice = this.pool.choose(request.servers);
    const { chosen, lastResort } = choice;
    const attempts: ServerAttempt[] = [];
    let lastReject: AuthResult | undefined;
    for (let i = 0; i < chosen.length; i++) {
      const runtime = chosen[i]!;
      if (lastReject && lastResort.has(runtime)) break;
      try {
        const { config } = runtime;
        const bytes = config.passwordEncoding === 'latin1' ? passwordBytes(request.password, 'latin1', 'password') : password;
        const result = await this.send(runtime, request.username, { server: config, username, password: bytes, chap: config.protocol === 'chap', extra });
        if (result.type !== 'reject') return result;
        lastReject = result;
        const next = this.pool.next(choice, i, true);
        if (!this.failoverOnReject || !next || config.final) return result;
        this.emit('failover', { from: config.name, to: next.config.name, reason: 'reject' });
      } catch (err) {
        if (!(err instanceof AttemptFailure)) throw err;
        attempts.push(err.attempt);
        const next = this.pool.next(choice, i, lastReject !== undefined);
        if (!this.failoverOnTimeout || !next || runtime.config.final) break;
        this.emit('failover', { from: runtime.config.name, to: next.config.name, reason: err.attempt.reason });
      }
    }
    if (lastReject) return lastReject;
    throw new RadiusUnavailableError(attempts);
  }

  /**
   * Answers an Access-Challenge: a new Access-Request to the issuing server only, with a new Identifier
   * and Request Authenticator, User-Password = `response` (PAP hiding even on a CHAP server, RFC 2865
   * §4.4) and the State byte for byte. No failover: the State belongs to that server.
   *
   * @throws TypeError for wrong argument types; RadiusUnavailableError when the server gives no valid reply;
   *   RadiusConfigError for an unknown server or an over-long response or State; RadiusClosedError after close().
   */
  async respond(request: ChallengeResponseRequest): Promise<AuthResult> {
    const where = 'RadiusClient.respond';
    argument(typeof request === 'object' && request !== null, `${where}: the argument must be an object { server, username, response, state }`);
    argument(typeof request.server === 'string', `${where}: server must be a server name (string)`);
    const username = userNameBytes(request.username, where);
    argument(typeof request.response === 'string', `${where}: response must be a string`);
    argument(request.state === undefined || Buffer.isBuffer(request.state), `${where}: state must be a Buffer (or absent)`);
    const extra = extraAttributes(request.attributes, where);
    this.assertOpen();
    const runtime = this.pool.get(request.server);
    const response = passwordBytes(request.response, runtime.config.passwordEncoding, 'challenge response');
    if (response.length > MAX_PASSWORD_LENGTH) throw new RadiusConfigError('The challenge response is longer than 128 bytes');
    if (request.state && (request.state.length === 0 || request.state.length > MAX_ATTRIBUTE_VALUE_LENGTH)) {
      throw new RadiusConfigError('The State must be 1 to 253 bytes');
    }
    // RFC 2865 §4.4: the response goes in User-Password (PAP hiding) whatever the server's protocol.
    const parts: AccessRequestParts = { server: runtime.config, username, password: response, chap: false, extra, ...(request.state ? { state: request.state } : {}) };
    try {
      return await this.send(runtime, request.username, parts);
    } catch (err) {
      if (err instanceof AttemptFailure) throw new RadiusUnavailableError([err.attempt]);
      throw err;
    }
  }

  /**
   * Tests whether one configured server is reachable with its configuration: Status-Server (RFC 5997)
   * first, then an Access-Request for a random user name that cannot exist (see `probe`). Uses its own
   * socket; changes no counter or hold-down state and emits no event.
   *
   * @param name - a configured server's name.
   * @param options - see {@link ProbeOptions}; the total time defaults to the server's `timeout`.
   * @returns `{ status: 'reachable', rttMs, method }` or `{ status: 'failed', reason, method }`, with a
   *   message saying what to check.
   * @throws TypeError for wrong argument types or an invalid `options.timeout`; RadiusConfigError for an
   *   unknown server name; RadiusClosedError after close().
   */
  async probe(name: string, options?: ProbeOptions): Promise<ProbeResult> {
    argument(typeof name === 'string', 'RadiusClient.probe: name must be a server name (string)');
    argument(options === undefined || (typeof options === 'object' && options !== null), 'RadiusClient.probe: options must be an object');
    this.assertOpen();
    return probeServer(this.pool.get(name).config, options);
  }

  /**
   * Sends one accounting record (Accounting-Request, RFC 2866) to the servers' accounting addresses in
   * order (failover), each packet with a fresh Acct-Delay-Time and Identifier (RFC 5080 §2.2.1), and waits
   * for a verified Accounting-Response. Changes no sign-in counter or hold-down state.
   *
   * @returns the server that acknowledged the record.
   * @throws RadiusUnavailableError when no server acknowledged it (also emitted as `accounting-error`);
   *   RadiusConfigError for an unknown server name or a user name with a control character (as
   *   `authenticate`); RadiusClosedError after close(); RangeError for a session id or user name outside
   *   1 to 253 bytes.
   */
  async account(request: AccountingRequest): Promise<AccountingResult> {
    const where = 'RadiusClient.account';
    argument(typeof request === 'object' && request !== null, `${where}: request must be an object`);
    argument(typeof request.username === 'string', `${where}: username must be a string`);
    // The same rule as sign-in: a NUL would cut the name short at the server (see hasRefusedCharacter).
    if (hasRefusedCharacter(request.username)) throw refusedCharacterError(where);
    this.assertOpen();
    for (const name of request.servers ?? []) this.pool.get(name);
    return this.accounting.send(request);
  }

  /**
   * Closes every socket and rejects pending requests with {@link RadiusClosedError}. Idempotent.
   * Resolves once every socket has closed.
   */
  async close(): Promise<void> {
    this.closed = true;
    const closing: Array<Promise<void>> = [this.accounting.close(), this.health.close(), ...[...this.retiredAccounting].map((a) => a.close())];
    this.retiredAccounting.clear();
    closing.push(this.transports.close(this.pool.runtimes));
    await Promise.all(closing);
  }

  private assertOpen(): void {
    if (this.closed) throw new RadiusClosedError();
  }

  /** One Access-Request exchange with one server; `parts` as the builder takes them (lib/request.ts). */
  private send(runtime: ServerRuntime, username: string, parts: AccessRequestParts): Promise<AuthResult> {
    if (accessRequestLength(parts) > MAX_PACKET_LENGTH) {
      return Promise.reject(new RadiusConfigError(`The Access-Request to "${runtime.config.name}" would exceed 4096 bytes (too many or too long attributes)`));
    }
    const exchange = new AccessExchange(this, runtime, username, parts);
    // An IP address needs no lookup: no extra promise on the way to the socket.
    if (runtime.literal) return this.exchange(this.transports.get(runtime, runtime.config.host), exchange);
    return this.transports.resolve(runtime).then(
      (transport) => this.exchange(transport, exchange),
      (err: unknown) => {
        if (err instanceof AttemptFailure) this.unresolved(runtime, err.attempt, username);
        throw err;
      },
    );
  }

  /** Sends `exchange` through `transport` and turns the verified reply or the failure into the outcome. */
  private exchange(transport: Transport, exchange: AccessExchange): Promise<AuthResult> {
    const { runtime } = exchange;
    runtime.status.counters.requests++;
    exchange.startedAt = this.health.requestStarted(runtime);
    return transport.exchange(exchange).then(
      (reply) => {
        this.health.requestEnded(runtime);
        return this.replied(exchange, reply);
      },
      (err: unknown) => {
        this.health.requestEnded(runtime);
        return this.failed(exchange, err);
      },
    );
  }

  /** The outcome of a verified reply: counters, events, the {@link AuthResult}. */
  private replied(exchange: AccessExchange, reply: ExchangeResult): AuthResult {
    const { runtime, username } = exchange;
    const { status } = runtime;
    const name = runtime.config.name;
    const rttMs = reply.rttMs;
    status.lastRttMs = rttMs;
    this.health.heard(runtime);
    const code = reply.packet.code;
    const kind = code === Code.AccessAccept ? 'accept' : code === Code.AccessReject ? 'reject' : 'challenge';
    status.counters[kind === 'accept' ? 'accepts' : kind === 'reject' ? 'rejects' : 'challenges']++;
    if (debug.enabled) debug('%s: Access-%s for %o in %d ms', name, kind === 'accept' ? 'Accept' : kind === 'reject' ? 'Reject' : 'Challenge', username, Math.round(rttMs));
    this.emit(kind, { server: name, username, rttMs });
    return toAuthResult(name, reply);
  }

  /**
   * A failed exchange: counters, the `timeout` event, and hold-down only on evidence (lib/health.ts): a
   * timeout at a server heard from since the request went out holds nothing down; otherwise, and after an
   * ICMP error, the watchdog confirms first (from a fresh source port). Rejects with {@link AttemptFailure}
   * (or RadiusClosedError).
   */
  private async failed(exchange: AccessExchange, err: unknown): Promise<never> {
    const { runtime, username } = exchange;
    if (!(err instanceof ExchangeError)) throw err;
    if (err.reason === 'closed') throw new RadiusClosedError();
    const attempt: ServerAttempt = {
      server: runtime.config.name,
      reason: err.reason,
      dropped: { ...err.dropped },
      ...(err.detail ? { detail: err.detail } : {}),
      transport: runtime.config.transport,
    };
    if (err.reason === 'unreachable') runtime.status.counters.unreachable++;
    else runtime.status.counters.timeouts++;
    this.report(runtime, attempt, username);
    if (err.reason === 'socket') {
      this.pool.markDown(runtime, runtime.status.lastError ?? 'socket');
    } else if (!this.health.heardSince(runtime, exchange.startedAt) && !this.pool.isHeldDown(runtime)) {
      await this.health.confirm(runtime);
      if (this.closed) throw new RadiusClosedError();
    }
    throw new AttemptFailure(attempt);
  }

  /** A server gave no valid reply: `lastError` and the `timeout` event. */
  private report(runtime: ServerRuntime, attempt: ServerAttempt, username: string): void {
    const lastError = this.pool.failed(runtime, attempt);
    debug('%s: no valid reply (%s)', runtime.config.name, lastError);
    const payload = { server: runtime.config.name, username, reason: attempt.reason };
    this.emit('no-reply', payload);
    this.emit('timeout', payload); // deprecated name, until 1.0
  }

  /** The host name did not resolve: `lastError`, the `timeout` event, and hold-down. */
  private unresolved(runtime: ServerRuntime, attempt: ServerAttempt, username: string): void {
    this.report(runtime, attempt, username);
    this.pool.markDown(runtime, runtime.status.lastError ?? 'dns');
  }
}
