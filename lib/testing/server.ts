/**
 * RadiusTestServer: an in-process UDP RADIUS server for demos, tests and fault injection.
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import {
  Attr,
  Code,
  HEADER_LENGTH,
  MAX_ATTRIBUTE_VALUE_LENGTH,
  MAX_PASSWORD_LENGTH,
  bytesEqual,
  chapPassword,
  encodeAttribute,
  parsePacket,
  replyMessageAuthenticator,
  unhidePassword,
  type ParsedPacket,
  type RawAttribute,
} from '../protocol/packet';
import { MALFORMED_KINDS, encodeMalformedReply, encodeReply, type EncodeReplyArgs, type MalformedKind } from './reply';

/** One round of a two-factor Access-Challenge exchange (RFC 2865 §4.4), see {@link TestUser.challenge}. */
export interface TestChallengeRound {
  /** The code the user must send back, as User-Password (always PAP hiding, RFC 2865 §5.2). */
  code: string;
  /** Reply-Message text of the Access-Challenge (RFC 2865 §5.18); an array sends one attribute per item. Each item at most 253 bytes of UTF-8. */
  prompt: string | string[];
  /**
   * The State attribute to send (RFC 2865 §5.24), 1 to 253 bytes, compared byte for byte in the follow-up.
   * Default: 16 random bytes, new for every challenge. `null`: send no State (progress is then keyed by
   * user name alone).
   */
  state?: Buffer | null;
  /** When given, a Prompt attribute (RFC 2869 §5.10, type 76) is sent: `true` → 1 (Echo), `false` → 0 (No-Echo). Default: no Prompt. */
  echo?: boolean;
}

/** A user known to {@link RadiusTestServer}. */
export interface TestUser {
  /**
   * The password, compared byte for byte (as UTF-8, at most 128 bytes) with the unhidden User-Password
   * (PAP, RFC 2865 §5.2) or checked against CHAP-Password (RFC 2865 §5.3; the challenge is the
   * CHAP-Challenge attribute when present, otherwise the Request Authenticator).
   */
  password: string;
  /** Reply-Message(s) sent with the Access-Accept (RFC 2865 §5.18); one attribute per array item, each at most 253 bytes. */
  replyMessage?: string | string[];
  /** Extra raw attributes sent with the Access-Accept, as `[type, value]` (type 1 to 255, value at most 253 bytes). */
  attributes?: Array<[number, Buffer]>;
  /**
   * Two-factor rounds. After the right password the server sends an Access-Challenge for round 0; a
   * follow-up Access-Request carrying User-Password = that round's `code` and exactly that round's State
   * moves to the next round, or to an Access-Accept after the last. Anything else gets an Access-Reject
   * and ends the exchange.
   */
  challenge?: TestChallengeRound[];
}

/**
 * Fault injection switches of {@link RadiusTestServer}. All default to off. Set them at construction
 * (`options.faults`) or at run time (`server.faults = {...}` or {@link RadiusTestServer.setFaults}); a
 * new set replaces the old one entirely and restarts the `dropFirst` count.
 */
export interface Faults {
  /** Ignore (send nothing for) the first N well-formed requests received after these faults were set. */
  dropFirst?: number;
  /** Delay every reply by this many milliseconds. */
  delayMs?: number;
  /** Send each reply this many extra times (identical bytes). */
  duplicateReplies?: number;
  /** Flip a bit in the Response Authenticator (RFC 2865 §3) after computing it. */
  badResponseAuthenticator?: boolean;
  /** Reply with the request's Identifier + 1 (mod 256); the authenticators are computed over the bytes sent. */
  wrongIdentifier?: boolean;
  /** Send replies from a second socket (same host, another port) instead of the one the request reached. */
  fromOtherPort?: boolean;
  /** Send replies without a Message-Authenticator, whatever `signReplies` says. */
  noMessageAuthenticator?: boolean;
  /** Send replies with a Message-Authenticator (first) whose value has a flipped bit; the Response Authenticator stays correct. */
  badMessageAuthenticator?: boolean;
  /**
   * Replace each reply with a malformed one (see `encodeMalformedReply`): an attribute of Length 0 or 1, an
   * attribute running past the packet, a Length field under 20, a Vendor-Specific under 7 bytes, or a
   * datagram shorter than its Length field. The authenticators are correct wherever the framing allows.
   */
  malformed?: MalformedKind;
  /** First send a copy of the reply with a bad Response Authenticator, then the real reply. */
  forgedThenReal?: boolean;
  /**
   * Answer every Access-Request with this outcome, whatever the credentials (for failover tests).
   * `'accept'` carries the user's reply attributes when the user is known; `'challenge'` carries a
   * Reply-Message and a random 16-byte State that the server does not remember. Status-Server is not affected.
   */
  replyWith?: 'accept' | 'reject' | 'challenge';
  /**
   * Answer requests whose Message-Authenticator does not verify, as a server configured with another
   * shared secret that does not check it would: the client then sees replies that fail verification.
   */
  ignoreRequestMessageAuthenticator?: boolean;
}

/** Options of {@link RadiusTestServer}. */
export interface RadiusTestServerOptions {
  /** The shared secret: a non-empty string (used as UTF-8) or Buffer. Required. */
  secret: string | Buffer;
  /** Users by User-Name. Default none (every Access-Request is rejected). */
  users?: Record<string, TestUser>;
  /**
   * IP address to bind: IPv4 or IPv6 (e.g. `'::1'`, served over udp6 only). Host names are not accepted.
   * With a wildcard (`'0.0.0.0'`, `'::'`) {@link RadiusTestServer.address} names the wildcard; give clients a
   * concrete address instead. Default `'127.0.0.1'`.
   */
  host?: string;
  /** UDP port to bind, 0 to 65535. Default 0: an ephemeral port, see {@link RadiusTestServer.port} after `listen()`. */
  port?: number;
  /** Put a Message-Authenticator first in every reply (RFC 3579 §3.2). Default `true`. */
  signReplies?: boolean;
  /**
   * Drop Access-Requests that carry no Message-Authenticator. One that is present is always verified and
   * the request dropped when it is wrong. Status-Server always requires one (RFC 5997 §3). Default `true`.
   */
  requireMessageAuthenticator?: boolean;
  /** Answer Status-Server (RFC 5997) with an Access-Accept signed with a Message-Authenticator. Default `true`. */
  statusServer?: boolean;
  /** How long an issued Access-Challenge can be answered, in milliseconds. Default 300000 (5 minutes). */
  challengeExpiryMs?: number;
  /** Fault injection switches; default none. */
  faults?: Faults;
}

/** Where {@link RadiusTestServer.listen} bound. */
export interface ListenInfo {
  /** The bound IP address, e.g. `'127.0.0.1'` or `'::1'`. */
  host: string;
  /** The bound UDP port. */
  port: number;
  /** `'host:port'`, or `'[v6]:port'` for IPv6: usable as a client's server `address`. */
  address: string;
}

/** A request as the server saw it, kept in {@link RadiusTestServer.received} in arrival order. */
export interface ReceivedRequest {
  /** Packet code (1 Access-Request, 12 Status-Server). */
  code: number;
  /** The request's Identifier (0 to 255). */
  identifier: number;
  /** The Request Authenticator (16 bytes). */
  authenticator: Buffer;
  /** Attributes in wire order (copies). */
  attributes: RawAttribute[];
  /** The packet bytes up to its Length field (a copy). */
  raw: Buffer;
  /** User-Name as UTF-8, when present. */
  username?: string;
  /** The State attribute's value, byte for byte, when present. */
  state?: Buffer;
  /** The User-Password unhidden with the shared secret (RFC 2865 §5.2) as UTF-8, when present and well-formed. */
  password?: string;
  /** True when the request carried a CHAP-Password (RFC 2865 §5.3). */
  chap?: boolean;
  /** True when the first attribute is a Message-Authenticator (RFC 3579 §3.2, as BlastRADIUS mitigations require). */
  hasMessageAuthenticatorFirst: boolean;
  /** The sender's address and port. */
  from: { address: string; port: number };
}

/**
 * Why the server sent nothing for a datagram (payload of the `'dropped'` event, keys of
 * {@link RadiusTestServer.drops}):
 *
 * - `'malformed'`: bad framing (RFC 2865 §3, §5), or more than one / a wrong-sized Message-Authenticator.
 * - `'unsupported-code'`: not an Access-Request (1) or Status-Server (12).
 * - `'missing-message-authenticator'` / `'bad-message-authenticator'`: RFC 3579 §3.2, RFC 5997 §3.
 * - `'status-server-disabled'`: a Status-Server while `statusServer` is false.
 * - `'fault-drop-first'`: the `dropFirst` fault.
 * - `'send-failed'`: the reply could not be sent (socket error).
 * - `'internal-error'`: a bug in the server while handling the datagram (it is swallowed, never thrown).
 */
export type TestServerDropReason =
  | 'malformed'
  | 'unsupported-code'
  | 'missing-message-authenticator'
  | 'bad-message-authenticator'
  | 'status-server-disabled'
  | 'fault-drop-first'
  | 'send-failed'
  | 'internal-error';

/** Events of {@link RadiusTestServer}. */
export interface RadiusTestServerEvents {
  /** A well-formed Access-Request or Status-Server arrived (emitted before it is checked or answered). */
  request: [ReceivedRequest];
  /** A reply was handed to the socket (once per reply, however many datagrams the faults turn it into); `identifier` is the one written in the reply. */
  reply: [{ code: number; identifier: number }];
  /** A datagram got no reply. */
  dropped: [{ reason: TestServerDropReason }];
}

interface NormalizedRound {
  code: Buffer;
  prompts: Buffer[];
  state: Buffer | null | undefined;
  echo: boolean | undefined;
}

interface NormalizedUser {
  password: Buffer;
  acceptAttributes: Buffer[];
  rounds: NormalizedRound[];
}

interface PendingChallenge {
  username: string;
  round: number;
  expires: number;
}

interface Decision {
  code: number;
  attributes: Buffer[];
}

const DEFAULT_CHALLENGE_EXPIRY_MS = 300_000;
/** How long a reply is remembered for retransmissions of the same request (RFC 5080 §2.2.2), in ms. */
const REPLY_CACHE_MS = 30_000;
const REPLY_CACHE_MAX = 1024;

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TypeError(message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textAttributes(value: unknown, label: string): Buffer[] {
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  return items.map((item, i) => {
    const where = Array.isArray(value) ? `${label}[${i}]` : label;
    check(typeof item === 'string' && item.length > 0, `${where} must be a non-empty string`);
    const bytes = Buffer.from(item, 'utf8');
    check(bytes.length <= MAX_ATTRIBUTE_VALUE_LENGTH, `${where} must be at most 253 bytes of UTF-8`);
    return encodeAttribute(Attr.ReplyMessage, bytes);
  });
}

function optionalBoolean(value: unknown, fallback: boolean, label: string): boolean {
  if (value === undefined) return fallback;
  check(typeof value === 'boolean', `${label} must be true or false`);
  return value;
}

function normalizeUser(input: unknown, label: string): NormalizedUser {
  check(isRecord(input), `${label} must be an object`);
  check(typeof input.password === 'string', `${label}.password must be a string`);
  const password = Buffer.from(input.password, 'utf8');
  check(password.length <= MAX_PASSWORD_LENGTH, `${label}.password must be at most 128 bytes of UTF-8`);
  const acceptAttributes = input.replyMessage === undefined ? [] : textAttributes(input.replyMessage, `${label}.replyMessage`);
  if (input.attributes !== undefined) {
    check(Array.isArray(input.attributes), `${label}.attributes must be an array of [type, Buffer] pairs`);
    (input.attributes as unknown[]).forEach((pair, i) => {
      const where = `${label}.attributes[${i}]`;
      check(Array.isArray(pair) && pair.length === 2, `${where} must be a [type, Buffer] pair`);
      const [type, value] = pair as [unknown, unknown];
      check(typeof type === 'number' && Number.isInteger(type) && type >= 1 && type <= 255, `${where} type must be a whole number from 1 to 255`);
      check(Buffer.isBuffer(value) && value.length <= MAX_ATTRIBUTE_VALUE_LENGTH, `${where} value must be a Buffer of at most 253 bytes`);
      acceptAttributes.push(encodeAttribute(type, value));
    });
  }
  const rounds: NormalizedRound[] = [];
  if (input.challenge !== undefined) {
    check(Array.isArray(input.challenge), `${label}.challenge must be an array`);
    (input.challenge as unknown[]).forEach((round, i) => {
      const where = `${label}.challenge[${i}]`;
      check(isRecord(round), `${where} must be an object`);
      check(typeof round.code === 'string', `${where}.code must be a string`);
      const code = Buffer.from(round.code, 'utf8');
      check(code.length <= MAX_PASSWORD_LENGTH, `${where}.code must be at most 128 bytes of UTF-8`);
      const prompts = textAttributes(round.prompt, `${where}.prompt`);
      const state = round.state;
      check(
        state === undefined || state === null || (Buffer.isBuffer(state) && state.length >= 1 && state.length <= MAX_ATTRIBUTE_VALUE_LENGTH),
        `${where}.state must be a Buffer of 1 to 253 bytes, or null`,
      );
      const echo = optionalBoolean(round.echo, false, `${where}.echo`);
      rounds.push({
        code,
        prompts,
        state: Buffer.isBuffer(state) ? Buffer.from(state) : state,
        echo: round.echo === undefined ? undefined : echo,
      });
    });
  }
  return { password, acceptAttributes, rounds };
}

function nonNegativeInteger(value: unknown, label: string, max: number): void {
  check(
    value === undefined || (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max),
    `${label} must be a whole number from 0 to ${max}`,
  );
}

function normalizeFaults(input: unknown, label: string): Faults {
  if (input === undefined) return {};
  check(isRecord(input), `${label} must be an object`);
  const known = new Set([
    'dropFirst',
    'delayMs',
    'duplicateReplies',
    'badResponseAuthenticator',
    'wrongIdentifier',
    'fromOtherPort',
    'noMessageAuthenticator',
    'badMessageAuthenticator',
    'malformed',
    'forgedThenReal',
    'replyWith',
    'ignoreRequestMessageAuthenticator',
  ]);
  for (const key of Object.keys(input)) check(known.has(key), `${label}.${key} is not a known fault`);
  nonNegativeInteger(input.dropFirst, `${label}.dropFirst`, Number.MAX_SAFE_INTEGER);
  nonNegativeInteger(input.delayMs, `${label}.delayMs`, 600_000);
  nonNegativeInteger(input.duplicateReplies, `${label}.duplicateReplies`, 100);
  for (const key of ['badResponseAuthenticator', 'wrongIdentifier', 'fromOtherPort', 'noMessageAuthenticator', 'badMessageAuthenticator', 'forgedThenReal', 'ignoreRequestMessageAuthenticator']) {
    optionalBoolean(input[key], false, `${label}.${key}`);
  }
  check(
    input.malformed === undefined || MALFORMED_KINDS.includes(input.malformed as MalformedKind),
    `${label}.malformed must be one of ${MALFORMED_KINDS.map((k) => `'${k}'`).join(', ')}`,
  );
  check(
    input.replyWith === undefined || input.replyWith === 'accept' || input.replyWith === 'reject' || input.replyWith === 'challenge',
    `${label}.replyWith must be 'accept', 'reject' or 'challenge'`,
  );
  return Object.freeze({ ...(input as Faults) });
}

function bind(socket: Socket, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/**
 * An in-process UDP RADIUS server (RFC 2865) for demos, tests and fault injection.
 *
 * **Not a production server**: users live in memory, secrets and passwords are held in plain form,
 * there is no accounting, no proxying, no rate limiting and no per-client secrets, and received packets
 * (with unhidden passwords) are kept in {@link RadiusTestServer.received} without bound.
 *
 * It answers Access-Request (RFC 2865 §4.1) with Access-Accept, -Reject or -Challenge (PAP and CHAP, and
 * multi-round Access-Challenge with State), and Status-Server (RFC 5997) with a signed Access-Accept.
 * Replies carry a correct Response Authenticator (RFC 2865 §3) and, when signing, a Message-Authenticator
 * as the first attribute (RFC 3579 §3.2). A retransmitted request (same source, Identifier and Request
 * Authenticator) gets the same answer (RFC 5080 §2.2.2). Garbage input never throws: it is dropped and
 * counted in {@link RadiusTestServer.drops}.
 *
 * ```ts
 * const server = new RadiusTestServer({ secret: 's3cret', users: { alice: { password: 'pw' } } });
 * const { address } = await server.listen(); // e.g. '127.0.0.1:53124'
 * // ... point a RadiusClient at `address` ...
 * server.faults = { dropFirst: 1 };          // the next request goes unanswered
 * await server.close();
 * ```
 *
 * Sockets keep the process alive while open, like `net.Server`; call {@link RadiusTestServer.unref} to
 * change that. Emits {@link RadiusTestServerEvents}.
 */
export class RadiusTestServer extends EventEmitter<RadiusTestServerEvents> {
  /** Every well-formed Access-Request and Status-Server received, in arrival order (including dropped ones). */
  readonly received: ReceivedRequest[] = [];
  /** Datagrams that got no reply, counted by reason. */
  readonly drops: Partial<Record<TestServerDropReason, number>> = {};

  private readonly secret: Buffer;
  private readonly users = new Map<string, NormalizedUser>();
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly signReplies: boolean;
  private readonly requireMessageAuthenticator: boolean;
  private readonly answerStatusServer: boolean;
  private readonly challengeExpiryMs: number;
  private currentFaults: Faults;
  private requestsSinceFaults = 0;
  private phase: 'new' | 'binding' | 'listening' | 'closed' = 'new';
  private socket: Socket | undefined;
  private sideSocket: Socket | undefined;
  private boundPort: number | undefined;
  private referenced = true;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly challenges = new Map<string, PendingChallenge>();
  private readonly replyCache = new Map<string, { expires: number; decision: Decision }>();

  /**
   * @param options - see {@link RadiusTestServerOptions}.
   * @throws TypeError when an option is invalid, naming it.
   */
  constructor(options: RadiusTestServerOptions) {
    super();
    const label = 'RadiusTestServer';
    check(isRecord(options), `${label}: options must be an object`);
    const { secret } = options;
    check(
      (typeof secret === 'string' && secret.length > 0) || (Buffer.isBuffer(secret) && secret.length > 0),
      `${label}: secret must be a non-empty string or Buffer`,
    );
    this.secret = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    const host = options.host ?? '127.0.0.1';
    check(typeof host === 'string' && isIP(host) !== 0, `${label}: host must be an IPv4 or IPv6 address`);
    this.host = host;
    const port = options.port ?? 0;
    check(typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535, `${label}: port must be a whole number from 0 to 65535`);
    this.requestedPort = port;
    this.signReplies = optionalBoolean(options.signReplies, true, `${label}: signReplies`);
    this.requireMessageAuthenticator = optionalBoolean(options.requireMessageAuthenticator, true, `${label}: requireMessageAuthenticator`);
    this.answerStatusServer = optionalBoolean(options.statusServer, true, `${label}: statusServer`);
    const expiry = options.challengeExpiryMs ?? DEFAULT_CHALLENGE_EXPIRY_MS;
    check(typeof expiry === 'number' && Number.isFinite(expiry) && expiry > 0, `${label}: challengeExpiryMs must be a positive number`);
    this.challengeExpiryMs = expiry;
    if (options.users !== undefined) {
      check(isRecord(options.users), `${label}: users must be an object keyed by user name`);
      for (const [name, user] of Object.entries(options.users)) {
        const bytes = Buffer.byteLength(name, 'utf8');
        check(bytes >= 1 && bytes <= MAX_ATTRIBUTE_VALUE_LENGTH, `${label}: users: user name "${name}" must be 1 to 253 bytes`);
        this.users.set(name, normalizeUser(user, `${label}: users["${name}"]`));
      }
    }
    this.currentFaults = normalizeFaults(options.faults, `${label}: faults`);
  }

  /** The active fault switches (a frozen object; assign a new one to change them). */
  get faults(): Readonly<Faults> {
    return this.currentFaults;
  }

  /**
   * Replaces the fault switches and restarts the `dropFirst` count.
   * @throws TypeError when a switch is invalid.
   */
  set faults(faults: Faults) {
    this.currentFaults = normalizeFaults(faults, 'RadiusTestServer: faults');
    this.requestsSinceFaults = 0;
  }

  /**
   * Replaces the fault switches (same as assigning {@link RadiusTestServer.faults}); no argument clears them.
   * @returns this server.
   * @throws TypeError when a switch is invalid.
   */
  setFaults(faults: Faults = {}): this {
    this.faults = faults;
    return this;
  }

  /** True between a successful {@link RadiusTestServer.listen} and {@link RadiusTestServer.close}. */
  get listening(): boolean {
    return this.phase === 'listening';
  }

  /**
   * The bound UDP port.
   * @throws Error before `listen()` has resolved.
   */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('RadiusTestServer: not listening yet; await listen() first');
    return this.boundPort;
  }

  /**
   * `'host:port'` (or `'[v6]:port'`), ready for a client's server `address`.
   * @throws Error before `listen()` has resolved.
   */
  get address(): string {
    const port = this.port;
    return isIP(this.host) === 6 ? `[${this.host}]:${port}` : `${this.host}:${port}`;
  }

  /**
   * Binds the UDP socket (and a second one on another port, used by the `fromOtherPort` fault).
   *
   * @returns where it is listening.
   * @throws (rejects) Error when called twice or after close(), or the bind error (e.g. `EADDRINUSE`).
   */
  async listen(): Promise<ListenInfo> {
    if (this.phase !== 'new') throw new Error(`RadiusTestServer: listen() called ${this.phase === 'closed' ? 'after close()' : 'twice'}`);
    this.phase = 'binding';
    const type = isIP(this.host) === 6 ? 'udp6' : 'udp4';
    const socket = createSocket({ type, ipv6Only: type === 'udp6' });
    const side = createSocket({ type, ipv6Only: type === 'udp6' });
    this.socket = socket;
    this.sideSocket = side;
    try {
      await bind(socket, this.requestedPort, this.host);
      await bind(side, 0, this.host);
    } catch (err) {
      this.phase = 'closed';
      this.socket = undefined;
      this.sideSocket = undefined;
      await Promise.all([closeSocket(socket), closeSocket(side)]);
      throw err;
    }
    // close() may have run while binding.
    if (this.phase !== 'binding') throw new Error('RadiusTestServer: closed while listening');
    this.phase = 'listening';
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    socket.on('error', () => this.drop('send-failed'));
    side.on('error', () => this.drop('send-failed'));
    if (!this.referenced) {
      socket.unref();
      side.unref();
    }
    this.boundPort = socket.address().port;
    return { host: this.host, port: this.boundPort, address: this.address };
  }

  /** Lets the process exit while the server is open (like `net.Server.unref`). @returns this server. */
  unref(): this {
    this.referenced = false;
    this.socket?.unref();
    this.sideSocket?.unref();
    return this;
  }

  /** Undoes {@link RadiusTestServer.unref}. @returns this server. */
  ref(): this {
    this.referenced = true;
    this.socket?.ref();
    this.sideSocket?.ref();
    return this;
  }

  /**
   * Closes every socket, cancels delayed replies and forgets pending challenges. Idempotent; never rejects.
   * `received` and `drops` are kept for inspection.
   */
  async close(): Promise<void> {
    this.phase = 'closed';
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.challenges.clear();
    this.replyCache.clear();
    const sockets = [this.socket, this.sideSocket].filter((s): s is Socket => s !== undefined);
    this.socket = undefined;
    this.sideSocket = undefined;
    await Promise.all(sockets.map(closeSocket));
  }

  private drop(reason: TestServerDropReason): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    this.emit('dropped', { reason });
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    try {
      this.handle(msg, rinfo);
    } catch {
      this.drop('internal-error');
    }
  }

  private handle(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.phase !== 'listening') return;
    const packet = parsePacket(msg);
    if (!packet) return this.drop('malformed');
    if (packet.code !== Code.AccessRequest && packet.code !== Code.StatusServer) return this.drop('unsupported-code');
    const entry = this.describe(packet, rinfo);
    this.received.push(entry);
    this.emit('request', entry);

    this.requestsSinceFaults++;
    if (this.requestsSinceFaults <= (this.currentFaults.dropFirst ?? 0)) return this.drop('fault-drop-first');

    const ma = this.checkMessageAuthenticator(packet);
    if (ma === 'malformed' || (ma === 'bad' && !this.currentFaults.ignoreRequestMessageAuthenticator)) {
      return this.drop(ma === 'bad' ? 'bad-message-authenticator' : 'malformed');
    }
    if (ma === 'absent' && (packet.code === Code.StatusServer || this.requireMessageAuthenticator)) {
      return this.drop('missing-message-authenticator');
    }

    if (packet.code === Code.StatusServer) {
      if (!this.answerStatusServer) return this.drop('status-server-disabled');
      return this.send(packet, rinfo, { code: Code.AccessAccept, attributes: [] }, true);
    }

    const cacheKey = `${rinfo.address}|${rinfo.port}|${packet.identifier}|${packet.authenticator.toString('hex')}`;
    const now = Date.now();
    const cached = this.replyCache.get(cacheKey);
    if (cached && cached.expires > now) return this.send(packet, rinfo, cached.decision, this.signReplies);
    const decision = this.decide(packet, entry);
    this.remember(cacheKey, decision, now);
    this.send(packet, rinfo, decision, this.signReplies);
  }

  private describe(packet: ParsedPacket, rinfo: RemoteInfo): ReceivedRequest {
    const attributes = packet.attributes.map((a) => ({ type: a.type, value: Buffer.from(a.value) }));
    const entry: ReceivedRequest = {
      code: packet.code,
      identifier: packet.identifier,
      authenticator: Buffer.from(packet.authenticator),
      attributes,
      raw: Buffer.from(packet.bytes),
      hasMessageAuthenticatorFirst: attributes[0]?.type === Attr.MessageAuthenticator,
      from: { address: rinfo.address, port: rinfo.port },
    };
    const user = attributes.find((a) => a.type === Attr.UserName);
    if (user) entry.username = user.value.toString('utf8');
    const state = attributes.find((a) => a.type === Attr.State);
    if (state) entry.state = Buffer.from(state.value);
    const password = this.papPassword(packet);
    if (password) entry.password = password.toString('utf8');
    if (attributes.some((a) => a.type === Attr.ChapPassword)) entry.chap = true;
    return entry;
  }

  /** The unhidden User-Password, or undefined when absent or not 16 to 128 bytes in 16-byte blocks. */
  private papPassword(packet: ParsedPacket): Buffer | undefined {
    const hidden = packet.attributes.find((a) => a.type === Attr.UserPassword)?.value;
    if (!hidden || hidden.length < 16 || hidden.length > MAX_PASSWORD_LENGTH || hidden.length % 16 !== 0) return undefined;
    return unhidePassword(hidden, this.secret, packet.authenticator);
  }

  /** Verifies a request's Message-Authenticator (RFC 3579 §3.2): HMAC-MD5 over the request with its value zeroed. */
  private checkMessageAuthenticator(packet: ParsedPacket): 'absent' | 'ok' | 'bad' | 'malformed' {
    let valueOffset = -1;
    let offset = HEADER_LENGTH;
    for (const attribute of packet.attributes) {
      if (attribute.type === Attr.MessageAuthenticator) {
        if (valueOffset !== -1 || attribute.value.length !== 16) return 'malformed';
        valueOffset = offset + 2;
      }
      offset += 2 + attribute.value.length;
    }
    if (valueOffset === -1) return 'absent';
    // For a request the "Request Authenticator" in the HMAC input is the packet's own authenticator field.
    const expected = replyMessageAuthenticator(packet.bytes, valueOffset, packet.authenticator, this.secret);
    return bytesEqual(expected, packet.bytes.subarray(valueOffset, valueOffset + 16)) ? 'ok' : 'bad';
  }

  private remember(key: string, decision: Decision, now: number): void {
    for (const [k, v] of this.replyCache) {
      if (v.expires > now && this.replyCache.size < REPLY_CACHE_MAX) break;
      this.replyCache.delete(k);
    }
    this.replyCache.set(key, { expires: now + REPLY_CACHE_MS, decision });
  }

  private decide(packet: ParsedPacket, entry: ReceivedRequest): Decision {
    const username = entry.username;
    const user = username === undefined ? undefined : this.users.get(username);
    const override = this.currentFaults.replyWith;
    if (override === 'reject') return reject();
    if (override === 'accept') return { code: Code.AccessAccept, attributes: user ? [...user.acceptAttributes] : [] };
    if (override === 'challenge') {
      return {
        code: Code.AccessChallenge,
        attributes: [encodeAttribute(Attr.ReplyMessage, Buffer.from('Test challenge', 'utf8')), encodeAttribute(Attr.State, randomBytes(16))],
      };
    }
    if (username === undefined) return reject();

    const hasPap = packet.attributes.some((a) => a.type === Attr.UserPassword);
    const chap = packet.attributes.find((a) => a.type === Attr.ChapPassword);
    if (hasPap && chap) return reject(); // RFC 2865 §5.2: never both

    const now = Date.now();
    const key = challengeKey(username, entry.state);
    const pending = this.challenges.get(key);
    if (pending) this.challenges.delete(key);
    if (pending && pending.expires > now && user) {
      const round = user.rounds[pending.round];
      const response = this.papPassword(packet);
      if (!round || !response || !bytesEqual(response, round.code)) return reject();
      return this.nextRound(username, user, pending.round + 1, now);
    }
    if (entry.state !== undefined) return reject(); // a State this server did not issue, or expired

    if (!user) return reject();
    let ok = false;
    if (chap) {
      if (chap.value.length === 17) {
        const challenge = packet.attributes.find((a) => a.type === Attr.ChapChallenge)?.value ?? packet.authenticator;
        ok = bytesEqual(chapPassword(chap.value[0]!, user.password, challenge), chap.value);
      }
    } else {
      const password = this.papPassword(packet);
      ok = password !== undefined && bytesEqual(password, user.password);
    }
    if (!ok) return reject();
    return this.nextRound(username, user, 0, now);
  }

  /** Access-Challenge for round `index`, or Access-Accept when every round is done. */
  private nextRound(username: string, user: NormalizedUser, index: number, now: number): Decision {
    const round = user.rounds[index];
    if (!round) return { code: Code.AccessAccept, attributes: [...user.acceptAttributes] };
    const state = round.state === null ? undefined : (round.state ?? randomBytes(16));
    const attributes = [...round.prompts];
    if (state) attributes.push(encodeAttribute(Attr.State, state));
    if (round.echo !== undefined) {
      const prompt = Buffer.alloc(4);
      prompt.writeUInt32BE(round.echo ? 1 : 0);
      attributes.push(encodeAttribute(Attr.Prompt, prompt));
    }
    for (const [k, v] of this.challenges) if (v.expires <= now) this.challenges.delete(k);
    this.challenges.set(challengeKey(username, state), { username, round: index, expires: now + this.challengeExpiryMs });
    return { code: Code.AccessChallenge, attributes };
  }

  /** Encodes the reply, applies the faults and sends it. */
  private send(request: ParsedPacket, rinfo: RemoteInfo, decision: Decision, sign: boolean): void {
    const faults = this.currentFaults;
    const args: EncodeReplyArgs = {
      code: decision.code,
      identifier: faults.wrongIdentifier ? (request.identifier + 1) & 0xff : request.identifier,
      requestAuthenticator: request.authenticator,
      attributes: decision.attributes,
      secret: this.secret,
      messageAuthenticator: faults.noMessageAuthenticator ? 'none' : faults.badMessageAuthenticator ? 'bad' : sign ? 'valid' : 'none',
      badResponseAuthenticator: faults.badResponseAuthenticator === true,
    };
    const real = faults.malformed ? encodeMalformedReply(args, faults.malformed) : encodeReply(args);
    const datagrams: Buffer[] = [];
    if (faults.forgedThenReal) datagrams.push(encodeReply({ ...args, badResponseAuthenticator: true }));
    datagrams.push(real);
    for (let i = 0; i < (faults.duplicateReplies ?? 0); i++) datagrams.push(real);
    const socket = faults.fromOtherPort ? this.sideSocket : this.socket;
    const reply = { code: decision.code, identifier: args.identifier };
    const transmit = (): void => {
      if (this.phase !== 'listening' || !socket) return;
      for (const datagram of datagrams) {
        socket.send(datagram, rinfo.port, rinfo.address, (err) => {
          if (err) this.drop('send-failed');
        });
      }
      this.emit('reply', reply);
    };
    const delay = faults.delayMs ?? 0;
    if (delay <= 0) return transmit();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        transmit();
      } catch {
        this.drop('internal-error');
      }
    }, delay);
    this.timers.add(timer);
  }
}

function reject(): Decision {
  return { code: Code.AccessReject, attributes: [] };
}

function challengeKey(username: string, state: Buffer | undefined): string {
  return state === undefined ? `${username}\0-` : `${username}\0${state.toString('hex')}`;
}
