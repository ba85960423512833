/**
 * RadiusClient: sends Access-Requests to the configured servers in order, with failover and hold-down
 * (RFC 2865 §2.4, §2.6; RFC 5080 §2.2.1). It never sees an HTTP request; the strategy calls it.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import createDebug from 'debug';
import {
  RadiusClosedError,
  RadiusConfigError,
  RadiusTimeoutError,
  type DropReason,
  type ServerAttempt,
} from './errors';
import { normalizeClientOptions, type NormalizedServer, type RadiusClientOptions } from './options';
import { decodeAttributes, encodeAttributeList, type AttributeInput, type DecodedAttributes, type EncodedAttribute } from './protocol/dictionary';
import { Attr, Code, MAX_ATTRIBUTE_VALUE_LENGTH, MAX_PACKET_LENGTH, MAX_PASSWORD_LENGTH, type RawAttribute } from './protocol/packet';
import { probeServer, type ProbeOptions, type ProbeResult } from './probe';
import { accessRequestLength, buildAccessRequest, type AccessRequestParts } from './request';
import { resolveHost } from './resolve';
import { Destination, ExchangeError, type ExchangeRequest, type ExchangeResult } from './transport';

const debug = createDebug('passport-radius:client');

/** Replies to an Access-Request (RFC 2865 §4.2–4.4). */
const ACCESS_REPLY_CODES: readonly number[] = [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge];

/** Fields common to every {@link AuthResult}. */
interface ResultBase {
  /** Name of the server that sent the reply. */
  server: string;
  /** Reply attributes decoded by dictionary name (see `decodeAttributes`). */
  attributes: DecodedAttributes;
  /** Reply attributes as received, in order. */
  rawAttributes: RawAttribute[];
  /** All Reply-Message attributes joined in order (RFC 2865 §5.18), or undefined. Untrusted text. */
  replyMessage: string | undefined;
  /** Milliseconds from the first transmission to the verified reply. */
  rttMs: number;
}

/** A verified Access-Accept (RFC 2865 §4.2). */
export interface AcceptResult extends ResultBase {
  /** Discriminant: the server sent an Access-Accept. */
  type: 'accept';
}
/** A verified Access-Reject (RFC 2865 §4.3) from the last server tried. */
export interface RejectResult extends ResultBase {
  /** Discriminant: the server sent an Access-Reject. */
  type: 'reject';
}
/** A verified Access-Challenge (RFC 2865 §4.4). */
export interface ChallengeResult extends ResultBase {
  /** Discriminant: the server sent an Access-Challenge; answer it with {@link RadiusClient.respond}. */
  type: 'challenge';
  /** The State attribute, byte for byte, or undefined when the server sent none. Opaque; never log it. */
  state: Buffer | undefined;
  /** Whether the user's response may be echoed: Prompt (RFC 2869 §5.10) is Echo; No-Echo when absent. */
  echo: boolean;
}
/** What one sign-in exchange ended with. Timeouts and unreachable servers reject instead. */
export type AuthResult = AcceptResult | RejectResult | ChallengeResult;

/** Health of one server, from {@link RadiusClient.servers}. */
export interface ServerStatus {
  /** The server's configured name. */
  name: string;
  /** The server's configured address (`host[:port]`), trimmed. */
  address: string;
  /** `'up'` (answering or untried) or `'held-down'` (did not answer; skipped until `heldDownUntil`). */
  state: 'up' | 'held-down';
  /** Epoch milliseconds when a held-down server is tried again. */
  heldDownUntil: number | undefined;
  /** Why the last exchange with this server failed, if it did. */
  lastError: string | undefined;
  /** Round trip of the last verified reply, in milliseconds. */
  lastRttMs: number | undefined;
  /** Counts since the client was created. */
  counters: {
    /** Access-Requests sent to this server (one per exchange; retransmissions are not counted here). */
    requests: number;
    /** Transmissions after the first of an exchange (the identical bytes sent again). */
    retransmissions: number;
    /** Verified Access-Accepts received. */
    accepts: number;
    /** Verified Access-Rejects received. */
    rejects: number;
    /** Verified Access-Challenges received. */
    challenges: number;
    /** Exchanges that ended without a valid reply for lack of time (or on a socket error other than unreachable). */
    timeouts: number;
    /** Exchanges failed by an ICMP unreachable error (nothing listening at the address and port). */
    unreachable: number;
    /** Datagrams received on this server's sockets and dropped instead of taken as a reply, by reason (RFC 2865 §3 "silently discarded"). */
    dropped: Partial<Record<DropReason, number>>;
  };
}

/** Events of {@link RadiusClient} (and re-emitted by the strategy). No payload holds a password, code, secret or State. */
export interface RadiusClientEvents {
  /** A packet was transmitted; `attempt` counts from 1 (2 and up are retransmissions). */
  request: [{ server: string; username: string; attempt: number }];
  /** A verified Access-Accept arrived; `rttMs` is milliseconds from the first transmission. */
  accept: [{ server: string; username: string; rttMs: number }];
  /** A verified Access-Reject arrived (failover may follow); `rttMs` in milliseconds. */
  reject: [{ server: string; username: string; rttMs: number }];
  /** A verified Access-Challenge arrived; `rttMs` in milliseconds. */
  challenge: [{ server: string; username: string; rttMs: number }];
  /** A server gave no valid reply (`reason` `'timeout'`, `'unreachable'`, `'dns'` or `'socket'`). */
  timeout: [{ server: string; username: string; reason: ServerAttempt['reason'] }];
  /** The exchange moves on from one server to the next. */
  failover: [{ from: string; to: string; reason: 'reject' | ServerAttempt['reason'] }];
  /** A server stopped answering and is held down. */
  'server-down': [{ server: string; reason: string; until: number }];
  /** A held-down server answered again. */
  'server-up': [{ server: string }];
  /** A datagram was dropped (RFC 2865 §3 "silently discarded"). */
  dropped: [{ server: string; reason: DropReason }];
}

/** Arguments of {@link RadiusClient.authenticate}. */
export interface AuthenticateRequest {
  /** User-Name; 1 to 253 bytes of UTF-8. */
  username: string;
  /** The password; at most 128 bytes of UTF-8. Never logged. */
  password: string;
  /**
   * Names of the servers to try, in order. Default: every configured server, in configured order. An
   * unknown name throws {@link RadiusConfigError}; an empty list rejects with {@link RadiusTimeoutError}.
   */
  servers?: readonly string[];
  /**
   * Extra attributes for this request only, by dictionary name (e.g. `[['Calling-Station-Id', '192.0.2.7']]`),
   * validated like configured ones. A server that configures an attribute of the same name (even as `null`)
   * keeps its own. User-Name, User-Password, CHAP-*, State, Proxy-State and Message-Authenticator are refused.
   */
  attributes?: ReadonlyArray<readonly [string, AttributeInput]>;
}

/** Arguments of {@link RadiusClient.respond}: the follow-up to an Access-Challenge (RFC 2865 §4.4). */
export interface ChallengeResponseRequest {
  /** The server that issued the challenge; the follow-up goes only there. */
  server: string;
  /** The User-Name of the Access-Request that was challenged (the strategy uses the one saved with the challenge). */
  username: string;
  /** What the user typed (the code); sent as User-Password with PAP hiding whatever the protocol. */
  response: string;
  /** The State from the challenge, copied byte for byte; omit when the challenge had none. */
  state?: Buffer;
  /** Extra attributes for this request only; see {@link AuthenticateRequest.attributes}. */
  attributes?: ReadonlyArray<readonly [string, AttributeInput]>;
}

interface ServerRuntime {
  config: NormalizedServer;
  destinations: Map<string, Destination>;
  /** The host is an IP address: no lookup, one Destination. */
  literal: boolean;
  heldDownUntil: number | undefined;
  status: ServerStatus;
}

const NO_SERVERS: ReadonlySet<ServerRuntime> = new Set();

/** True when `r` is held down at `now` (epoch ms) and may be moved last (a `final` server never is). */
function isHeldDown(r: ServerRuntime, now: number): boolean {
  return !r.config.final && r.heldDownUntil !== undefined && r.heldDownUntil > now;
}

/** True when one of `runtimes` is held down at `now` (epoch ms). */
function anyHeldDown(runtimes: readonly ServerRuntime[], now: number): boolean {
  for (const r of runtimes) if (isHeldDown(r, now)) return true;
  return false;
}

/** The server after `chosen[i]` that failover moves to; once one `answered`, held-down ones are skipped. */
function nextServer(chosen: readonly ServerRuntime[], i: number, answered: boolean, lastResort: ReadonlySet<ServerRuntime>): ServerRuntime | undefined {
  for (let j = i + 1; j < chosen.length; j++) {
    const r = chosen[j]!;
    if (!(answered && lastResort.has(r))) return r;
  }
  return undefined;
}

function joinReplyMessages(attributes: readonly RawAttribute[]): string | undefined {
  let parts: string[] | undefined;
  for (const a of attributes) if (a.type === Attr.ReplyMessage) (parts ??= []).push(a.value.toString('utf8'));
  return parts ? parts.join('') : undefined;
}

/**
 * A RADIUS client for sign-in, usable without Passport.
 *
 * ```ts
 * const client = new RadiusClient({ servers: [{ name: 'corp', address: 'radius.corp:1812', secret,
 *   attributes: { 'NAS-Identifier': 'console' } }] });
 * const result = await client.authenticate({ username, password });
 * ```
 *
 * Construction throws `TypeError` for bad options. `authenticate` and `respond` resolve with an
 * {@link AuthResult} and reject with {@link RadiusTimeoutError} when no server gave a valid reply, or
 * {@link RadiusClosedError} after {@link RadiusClient.close}. Emits {@link RadiusClientEvents}.
 */
export class RadiusClient extends EventEmitter<RadiusClientEvents> {
  private readonly runtimes: ServerRuntime[];
  private readonly byName = new Map<string, ServerRuntime>();
  private readonly failoverOnReject: boolean;
  private readonly failoverOnTimeout: boolean;
  private readonly holdDown: number;
  private closed = false;
  /** Destinations closed because a host name now resolves elsewhere, until their sockets have closed. */
  private readonly closingDestinations = new Set<Promise<void>>();

  /**
   * @param options - see {@link RadiusClientOptions}.
   * @param prefix - how option errors name the caller. Default `'RadiusClient'`.
   * @throws TypeError when an option is invalid, naming it.
   */
  constructor(options: RadiusClientOptions, prefix = 'RadiusClient') {
    super();
    const normalized = normalizeClientOptions(options, prefix);
    this.failoverOnReject = normalized.failoverOnReject;
    this.failoverOnTimeout = normalized.failoverOnTimeout;
    this.holdDown = normalized.holdDown;
    this.runtimes = normalized.servers.map((config) => ({
      config,
      destinations: new Map(),
      literal: isIP(config.host) !== 0,
      heldDownUntil: undefined,
      status: {
        name: config.name,
        address: config.address,
        state: 'up',
        heldDownUntil: undefined,
        lastError: undefined,
        lastRttMs: undefined,
        counters: { requests: 0, retransmissions: 0, accepts: 0, rejects: 0, challenges: 0, timeouts: 0, unreachable: 0, dropped: {} },
      },
    }));
    for (const r of this.runtimes) this.byName.set(r.config.name, r);
  }

  /** Names of the configured servers, in configured order. */
  get serverNames(): string[] {
    return this.runtimes.map((r) => r.config.name);
  }

  /** A snapshot of every server's state and counters, in configured order. */
  servers(): ServerStatus[] {
    const now = Date.now();
    return this.runtimes.map((r) => {
      const held = r.heldDownUntil !== undefined && r.heldDownUntil > now;
      return structuredClone({ ...r.status, state: held ? 'held-down' : 'up', heldDownUntil: held ? r.heldDownUntil : undefined });
    });
  }

  /**
   * Signs a user in: sends an Access-Request (PAP or CHAP per server) to each server in order until one
   * accepts or challenges; moves on after an Access-Reject (when `failoverOnReject`) or a server that
   * does not answer (when `failoverOnTimeout`). An Access-Challenge ends the loop. Held-down servers are
   * tried last, and only when no server answered; when every chosen server is held down, all are tried.
   *
   * @returns the outcome; a reject is the last server's reject.
   * @throws RadiusTimeoutError when no server gave a valid reply; RadiusConfigError for an unknown server
   *   name or over-long credentials; RadiusClosedError after close().
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
    const now = Date.now();
    // Every configured server, none held down (the usual case): the configured order as it is.
    const chosen = request.servers === undefined && !anyHeldDown(this.runtimes, now) ? this.runtimes : this.order(request.servers ?? this.serverNames);
    // Held-down servers come last (see order()) and are tried only while no server has answered; when
    // every chosen server is held down, all are tried as if up.
    let heldDown: ServerRuntime[] | undefined;
    for (const r of chosen) if (isHeldDown(r, now)) (heldDown ??= []).push(r);
    const lastResort = heldDown && heldDown.length < chosen.length ? new Set(heldDown) : NO_SERVERS;
    const attempts: ServerAttempt[] = [];
    let lastReject: AuthResult | undefined;
    for (let i = 0; i < chosen.length; i++) {
      const runtime = chosen[i]!;
      if (lastReject && lastResort.has(runtime)) break;
      try {
        const result = await this.send(runtime, request.username, { server: runtime.config, username, password, chap: runtime.config.protocol === 'chap', extra });
        if (result.type !== 'reject') return result;
        lastReject = result;
        const next = nextServer(chosen, i, true, lastResort);
        if (!this.failoverOnReject || !next || runtime.config.final) return result;
        this.emit('failover', { from: runtime.config.name, to: next.config.name, reason: 'reject' });
      } catch (err) {
        if (!(err instanceof AttemptFailure)) throw err;
        attempts.push(err.attempt);
        const next = nextServer(chosen, i, lastReject !== undefined, lastResort);
        if (!this.failoverOnTimeout || !next || runtime.config.final) break;
        this.emit('failover', { from: runtime.config.name, to: next.config.name, reason: err.attempt.reason });
      }
    }
    if (lastReject) return lastReject;
    throw new RadiusTimeoutError(attempts);
  }

  /**
   * Answers an Access-Challenge: a new Access-Request to the issuing server only, with a new Identifier
   * and Request Authenticator, User-Password = `response` (PAP hiding even on a CHAP server, RFC 2865
   * §4.4) and the State byte for byte. No failover: the State belongs to that server.
   *
   * @throws RadiusTimeoutError when the server gives no valid reply; RadiusConfigError for an unknown
   *   server or an over-long response or State; RadiusClosedError after close().
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
    const runtime = this.byName.get(request.server);
    if (!runtime) throw new RadiusConfigError(`Unknown RADIUS server "${request.server}"`);
    const response = Buffer.from(request.response, 'utf8');
    if (response.length > MAX_PASSWORD_LENGTH) throw new RadiusConfigError('The challenge response is longer than 128 bytes');
    if (request.state && (request.state.length === 0 || request.state.length > MAX_ATTRIBUTE_VALUE_LENGTH)) {
      throw new RadiusConfigError('The State must be 1 to 253 bytes');
    }
    // RFC 2865 §4.4: the response goes in User-Password (PAP hiding) whatever the server's protocol.
    const parts: AccessRequestParts = { server: runtime.config, username, password: response, chap: false, extra, ...(request.state ? { state: request.state } : {}) };
    try {
      return await this.send(runtime, request.username, parts);
    } catch (err) {
      if (err instanceof AttemptFailure) throw new RadiusTimeoutError([err.attempt]);
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
   * @throws RadiusConfigError for an unknown server name; RadiusClosedError after close(); TypeError for
   *   an invalid `options.timeout`.
   */
  async probe(name: string, options?: ProbeOptions): Promise<ProbeResult> {
    argument(typeof name === 'string', 'RadiusClient.probe: name must be a server name (string)');
    argument(options === undefined || (typeof options === 'object' && options !== null), 'RadiusClient.probe: options must be an object');
    this.assertOpen();
    const runtime = this.byName.get(name);
    if (!runtime) throw new RadiusConfigError(`Unknown RADIUS server "${name}"`);
    return probeServer(runtime.config, options);
  }

  /**
   * Closes every socket and rejects pending requests with {@link RadiusClosedError}. Idempotent.
   * Resolves once every socket has closed.
   */
  async close(): Promise<void> {
    this.closed = true;
    const closing: Array<Promise<void>> = [];
    for (const r of this.runtimes) {
      for (const d of r.destinations.values()) closing.push(d.close());
      r.destinations.clear();
    }
    await Promise.all([...closing, ...this.closingDestinations]);
  }

  private assertOpen(): void {
    if (this.closed) throw new RadiusClosedError();
  }

  /**
   * Resolves names to runtimes, in the given order, with held-down servers moved last (keeping their
   * relative order). All held down → the given order.
   */
  private order(names: readonly string[]): ServerRuntime[] {
    const chosen = names.map((name) => {
      const r = this.byName.get(name);
      if (!r) throw new RadiusConfigError(`Unknown RADIUS server "${name}"`);
      return r;
    });
    const now = Date.now();
    // A `final` server keeps its place even while held down: nothing after it may stand in for it.
    const isUp = (r: ServerRuntime): boolean => r.config.final || r.heldDownUntil === undefined || r.heldDownUntil <= now;
    return [...chosen.filter(isUp), ...chosen.filter((r) => !isUp(r))];
  }

  /** The Destination of a server configured by host name, after resolving the name (at use). */
  private async resolveDestination(runtime: ServerRuntime): Promise<Destination> {
    let ip: string;
    try {
      ip = await resolveHost(runtime.config.host, runtime.config.timeout);
    } catch (err) {
      throw new AttemptFailure({ server: runtime.config.name, reason: 'dns', dropped: {}, detail: (err as NodeJS.ErrnoException).code ?? 'lookup failed' });
    }
    return this.destination(runtime, ip);
  }

  /** The Destination for `ip` (the server's address, resolved), created on first use. */
  private destination(runtime: ServerRuntime, ip: string): Destination {
    this.assertOpen();
    const { port } = runtime.config;
    const key = runtime.literal ? '' : `${ip}|${port}`;
    let d = runtime.destinations.get(key);
    if (!d) {
      // The name now resolves elsewhere: let go of idle sockets to the old address(es).
      for (const [oldKey, old] of runtime.destinations) {
        if (old.inFlight === 0) {
          const closing = old.close();
          this.closingDestinations.add(closing);
          void closing.then(() => this.closingDestinations.delete(closing));
          runtime.destinations.delete(oldKey);
        }
      }
      d = new Destination(ip, port, (reason) => {
        runtime.status.counters.dropped[reason] = (runtime.status.counters.dropped[reason] ?? 0) + 1;
        debug('%s: dropped a datagram (%s)', runtime.config.name, reason);
        this.emit('dropped', { server: runtime.config.name, reason });
      });
      runtime.destinations.set(key, d);
    }
    return d;
  }

  /** One Access-Request exchange with one server; `parts` as the builder takes them (lib/request.ts). */
  private send(runtime: ServerRuntime, username: string, parts: AccessRequestParts): Promise<AuthResult> {
    if (accessRequestLength(parts) > MAX_PACKET_LENGTH) {
      return Promise.reject(new RadiusConfigError(`The Access-Request to "${runtime.config.name}" would exceed 4096 bytes (too many or too long attributes)`));
    }
    const exchange = new AccessExchange(this, runtime, username, parts);
    // An IP address needs no lookup: no extra promise on the way to the socket.
    if (runtime.literal) return this.exchange(this.destination(runtime, runtime.config.host), exchange);
    return this.resolveDestination(runtime).then(
      (destination) => this.exchange(destination, exchange),
      (err: unknown) => {
        if (err instanceof AttemptFailure) this.markDown(runtime, err.attempt, username);
        throw err;
      },
    );
  }

  /** Sends `exchange` to `destination` and turns the verified reply or the failure into the outcome. */
  private exchange(destination: Destination, exchange: AccessExchange): Promise<AuthResult> {
    exchange.runtime.status.counters.requests++;
    return destination.exchange(exchange).then(
      (reply) => this.replied(exchange, reply),
      (err: unknown) => this.failed(exchange, err),
    );
  }

  /** The outcome of a verified reply: counters, events, the {@link AuthResult}. */
  private replied(exchange: AccessExchange, reply: ExchangeResult): AuthResult {
    const { runtime, username } = exchange;
    const { config, status } = runtime;
    const name = config.name;
    const { packet, rttMs } = reply;
    status.lastRttMs = rttMs;
    status.lastError = undefined;
    this.markUp(runtime);
    const base = {
      server: name,
      attributes: decodeAttributes(packet.attributes),
      rawAttributes: packet.attributes,
      replyMessage: joinReplyMessages(packet.attributes),
      rttMs,
    };
    if (packet.code === Code.AccessAccept) {
      status.counters.accepts++;
      if (debug.enabled) debug('%s: Access-Accept for %o in %d ms', name, username, Math.round(rttMs));
      this.emit('accept', { server: name, username, rttMs });
      return { type: 'accept', ...base };
    }
    if (packet.code === Code.AccessReject) {
      status.counters.rejects++;
      if (debug.enabled) debug('%s: Access-Reject for %o in %d ms', name, username, Math.round(rttMs));
      this.emit('reject', { server: name, username, rttMs });
      return { type: 'reject', ...base };
    }
    status.counters.challenges++;
    if (debug.enabled) debug('%s: Access-Challenge for %o in %d ms', name, username, Math.round(rttMs));
    this.emit('challenge', { server: name, username, rttMs });
    const stateAttr = packet.attributes.find((a) => a.type === Attr.State);
    const prompt = packet.attributes.find((a) => a.type === Attr.Prompt && a.value.length === 4);
    return {
      type: 'challenge',
      ...base,
      state: stateAttr ? Buffer.from(stateAttr.value) : undefined,
      echo: prompt ? prompt.value.readUInt32BE(0) === 1 : false,
    };
  }

  /** A failed exchange: counters, hold-down, events; throws {@link AttemptFailure} (or RadiusClosedError). */
  private failed(exchange: AccessExchange, err: unknown): never {
    const { runtime, username } = exchange;
    const { config, status } = runtime;
    const name = config.name;
    if (!(err instanceof ExchangeError)) throw err;
    if (err.reason === 'closed') throw new RadiusClosedError();
    const attempt: ServerAttempt = {
      server: name,
      reason: err.reason,
      dropped: { ...err.dropped },
      ...(err.detail ? { detail: err.detail } : {}),
    };
    if (err.reason === 'unreachable') status.counters.unreachable++;
    else status.counters.timeouts++;
    this.markDown(runtime, attempt, username);
    throw new AttemptFailure(attempt);
  }

  private markDown(runtime: ServerRuntime, attempt: ServerAttempt, username: string): void {
    const { status } = runtime;
    status.lastError = attempt.reason + (attempt.detail ? ` (${attempt.detail})` : '');
    debug('%s: no valid reply (%s)', runtime.config.name, status.lastError);
    this.emit('timeout', { server: runtime.config.name, username, reason: attempt.reason });
    if (this.holdDown > 0) {
      // 'server-down' and 'server-up' alternate: a server is "down" from here until it answers again.
      const wasUp = runtime.heldDownUntil === undefined;
      runtime.heldDownUntil = Date.now() + this.holdDown;
      if (wasUp) this.emit('server-down', { server: runtime.config.name, reason: status.lastError, until: runtime.heldDownUntil });
    }
  }

  private markUp(runtime: ServerRuntime): void {
    if (runtime.heldDownUntil !== undefined) {
      runtime.heldDownUntil = undefined;
      this.emit('server-up', { server: runtime.config.name });
    }
  }
}

/**
 * One Access-Request as the transport needs it (an {@link ExchangeRequest}): builds the packet for the
 * Identifier the transport chose and counts and reports each transmission. One object per exchange
 * instead of a closure per callback.
 */
class AccessExchange implements ExchangeRequest {
  readonly secret: Buffer;
  readonly requireMessageAuthenticator: boolean;
  readonly expectCodes = ACCESS_REPLY_CODES;
  readonly timeout: number;
  readonly retries: number;

  constructor(
    private readonly client: RadiusClient,
    readonly runtime: ServerRuntime,
    readonly username: string,
    private readonly parts: AccessRequestParts,
  ) {
    const { config } = runtime;
    this.secret = config.secret;
    this.requireMessageAuthenticator = config.requireMessageAuthenticator;
    this.timeout = config.timeout;
    this.retries = config.retries;
  }

  build(identifier: number): { packet: Buffer; requestAuthenticator: Buffer } {
    return buildAccessRequest(this.parts, identifier);
  }

  onSend(attempt: number): void {
    const name = this.runtime.config.name;
    if (attempt > 1) this.runtime.status.counters.retransmissions++;
    if (debug.enabled) debug('%s: Access-Request for %o, transmission %d', name, this.username, attempt);
    this.client.emit('request', { server: name, username: this.username, attempt });
  }
}

/** A server gave no usable reply; carries why. Internal to the failover loop. */
class AttemptFailure extends Error {
  constructor(readonly attempt: ServerAttempt) {
    super(attempt.reason);
  }
}

/** Throws `TypeError(message)` for a wrong argument type (a programming error, not a RADIUS outcome). */
function argument(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TypeError(message);
}

/** The User-Name bytes: `TypeError` unless a string; {@link RadiusConfigError} unless 1 to 253 bytes of UTF-8. */
function userNameBytes(value: unknown, where: string): Buffer {
  argument(typeof value === 'string', `${where}: username must be a string`);
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0 || bytes.length > MAX_ATTRIBUTE_VALUE_LENGTH) throw new RadiusConfigError('The user name must be 1 to 253 bytes');
  return bytes;
}

/** Per-request attributes, validated and encoded like configured ones; `TypeError` naming the problem. */
function extraAttributes(value: unknown, where: string): EncodedAttribute[] | undefined {
  if (value === undefined) return undefined;
  argument(Array.isArray(value), `${where}: attributes must be an array of [name, value] pairs`);
  value.forEach((pair, i) => {
    argument(Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string', `${where}: attributes[${i}] must be a [name, value] pair`);
  });
  return encodeAttributeList(value as Array<[string, AttributeInput]>, `${where}: attributes`).attributes;
}
