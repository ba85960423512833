/**
 * RadiusTestServer: the I/O side of the in-process test server (layeh/radius's `PacketServer`). It owns
 * the UDP sockets, checks framing and Message-Authenticators, answers Status-Server, de-duplicates
 * retransmissions (RFC 5080 §2.2.2) and applies fault switches (`faults.ts`). What an authentic
 * Access-Request gets is decided by a {@link RadiusHandler} (`handler.ts`): the user table by default, or a
 * vendor profile (`profiles/`).
 *
 * @packageDocumentation
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Attr, Code, encodeAttribute, parsePacket, type ParsedPacket } from '../protocol/packet';
import { normalizeFaults, replyDatagrams, type Faults } from './faults';
import { checkMessageAuthenticator, describeRequest, papPassword } from './inspect';
import { handlerRequest, type HandlerReply, type RadiusHandler } from './handler';
import { UsersHandler } from './users';
import { check, isRecord, optionalBoolean } from './validate';
import type { ListenInfo, RadiusTestServerEvents, RadiusTestServerOptions, ReceivedRequest, TestServerDropReason } from './types';

export type { ListenInfo, RadiusTestServerEvents, RadiusTestServerOptions, ReceivedRequest, TestServerDropReason } from './types';

type Decision = NonNullable<HandlerReply>;

/** How long a reply is remembered for retransmissions of the same request (RFC 5080 §2.2.2), in ms. */
const REPLY_CACHE_MS = 30_000;
const REPLY_CACHE_MAX = 1024;
const OPTION_NAMES = ['secret', 'users', 'handler', 'host', 'port', 'signReplies', 'requireMessageAuthenticator', 'statusServer', 'challengeExpiryMs', 'faults'];

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
 * An in-process UDP RADIUS server (RFC 2865) for demos, tests, fault injection and vendor simulations.
 *
 * **Not a production server**: users live in memory, secrets and passwords are held in plain form,
 * there is no accounting, no proxying, no rate limiting and no per-client secrets, and received packets
 * (with unhidden passwords) are kept in {@link RadiusTestServer.received} without bound.
 *
 * It answers Access-Request (RFC 2865 §4.1) as its {@link RadiusHandler} decides — by default a
 * {@link UsersHandler} (PAP and CHAP, and multi-round Access-Challenge with State), or a vendor profile —
 * and Status-Server (RFC 5997) with a signed Access-Accept. Replies carry a correct Response Authenticator
 * (RFC 2865 §3) and, when signing, a Message-Authenticator as the first attribute (RFC 3579 §3.2). A
 * retransmitted request (same source, Identifier and Request Authenticator) gets the same answer, and is
 * dropped while the handler still holds it (RFC 5080 §2.2.2). Garbage input never throws: it is dropped
 * and counted in {@link RadiusTestServer.drops}.
 *
 * ```ts
 * import { RadiusTestServer } from 'passport-radius/testing';
 *
 * async function main(): Promise<void> {
 *   const server = new RadiusTestServer({ secret: 's3cret-for-tests', users: { alice: { password: 'pw' } } });
 *   const { address } = await server.listen(); // e.g. '127.0.0.1:53124'
 *   console.log(address); // point a RadiusClient at it
 *   server.faults = { dropFirst: 1 }; // the next request goes unanswered
 *   await server.close();
 * }
 * void main();
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
  /** What decides each authentic Access-Request (the `handler` option, or a {@link UsersHandler} over `users`). */
  readonly handler: RadiusHandler;

  private readonly secret: Buffer;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly signReplies: boolean;
  private readonly requireMessageAuthenticator: boolean;
  private readonly answerStatusServer: boolean;
  private currentFaults: Readonly<Faults>;
  private requestsSinceFaults = 0;
  private phase: 'new' | 'binding' | 'listening' | 'closed' = 'new';
  private socket: Socket | undefined;
  private sideSocket: Socket | undefined;
  private boundPort: number | undefined;
  private referenced = true;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly replyCache = new Map<string, { expires: number; decision: Decision }>();
  /** Requests the handler is still deciding, by the same key as the reply cache. */
  private readonly inProgress = new Set<string>();
  private readonly closing = new AbortController();

  /**
   * @param options - see {@link RadiusTestServerOptions}.
   * @throws TypeError when an option is invalid, naming it.
   */
  constructor(options: RadiusTestServerOptions) {
    super();
    const label = 'RadiusTestServer';
    check(isRecord(options), `${label}: options must be an object`);
    for (const key of Object.keys(options)) check(OPTION_NAMES.includes(key), `${label}: unknown option "${key}"`);
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
    if (options.handler !== undefined) {
      check(options.users === undefined && options.challengeExpiryMs === undefined, `${label}: give users (and challengeExpiryMs) or a handler, not both`);
      check(isRecord(options.handler) && typeof options.handler.handle === 'function', `${label}: handler must have a handle(request) method`);
      this.handler = options.handler;
    } else {
      this.handler = new UsersHandler(options.users ?? {}, options.challengeExpiryMs ?? 300_000, label);
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
   * Closes every socket, cancels delayed replies, aborts held requests and closes the handler (it forgets pending challenges). Idempotent; never rejects.
   * `received` and `drops` are kept for inspection.
   */
  async close(): Promise<void> {
    if (this.phase !== 'closed') {
      this.closing.abort();
      this.handler.close?.();
    }
    this.phase = 'closed';
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.replyCache.clear();
    this.inProgress.clear();
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
      this.receive(msg, rinfo);
    } catch {
      this.drop('internal-error');
    }
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.phase !== 'listening') return;
    const packet = parsePacket(msg);
    if (!packet) return this.drop('malformed');
    if (packet.code !== Code.AccessRequest && packet.code !== Code.StatusServer) return this.drop('unsupported-code');
    const entry = describeRequest(packet, rinfo, this.secret);
    this.received.push(entry);
    this.emit('request', entry);

    this.requestsSinceFaults++;
    if (this.requestsSinceFaults <= (this.currentFaults.dropFirst ?? 0)) return this.drop('fault-drop-first');

    const ma = checkMessageAuthenticator(packet, this.secret);
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

    const key = `${rinfo.address}|${rinfo.port}|${packet.identifier}|${packet.authenticator.toString('hex')}`;
    const now = Date.now();
    const cached = this.replyCache.get(key);
    if (cached && cached.expires > now) return this.send(packet, rinfo, cached.decision, this.signReplies);
    if (this.inProgress.has(key)) return this.drop('in-progress');
    const decided = this.decide(packet, entry);
    if (!(decided instanceof Promise)) return this.answer(key, packet, rinfo, decided);
    this.inProgress.add(key);
    decided.then(
      (decision) => {
        if (!this.inProgress.delete(key) || this.phase !== 'listening') return;
        this.answer(key, packet, rinfo, decision);
      },
      () => {
        this.inProgress.delete(key);
        this.drop('internal-error');
      },
    );
  }

  private answer(key: string, packet: ParsedPacket, rinfo: RemoteInfo, decision: HandlerReply): void {
    if (decision === null) return this.drop('no-reply');
    this.remember(key, decision, Date.now());
    this.send(packet, rinfo, decision, this.signReplies);
  }

  /** The `replyWith` fault's forced outcome, or the handler's decision. */
  private decide(packet: ParsedPacket, entry: ReceivedRequest): HandlerReply | Promise<HandlerReply> {
    const override = this.currentFaults.replyWith;
    if (override === 'reject') return { code: Code.AccessReject, attributes: [] };
    if (override === 'accept') {
      const attributes = entry.username === undefined ? [] : (this.handler.acceptAttributes?.(entry.username) ?? []);
      return { code: Code.AccessAccept, attributes };
    }
    if (override === 'challenge') {
      return {
        code: Code.AccessChallenge,
        attributes: [encodeAttribute(Attr.ReplyMessage, Buffer.from('Test challenge', 'utf8')), encodeAttribute(Attr.State, randomBytes(16))],
      };
    }
    return this.handler.handle(
      handlerRequest({
        attributes: entry.attributes,
        authenticator: entry.authenticator,
        password: papPassword(packet, this.secret),
        from: entry.from,
        signal: this.closing.signal,
      }),
    );
  }

  private remember(key: string, decision: Decision, now: number): void {
    for (const [k, v] of this.replyCache) {
      if (v.expires > now && this.replyCache.size < REPLY_CACHE_MAX) break;
      this.replyCache.delete(k);
    }
    this.replyCache.set(key, { expires: now + REPLY_CACHE_MS, decision });
  }

  /** Encodes the reply, applies the faults and sends it. */
  private send(request: ParsedPacket, rinfo: RemoteInfo, decision: Decision, sign: boolean): void {
    const faults = this.currentFaults;
    const { identifier, datagrams } = replyDatagrams(
      {
        code: decision.code,
        identifier: request.identifier,
        requestAuthenticator: request.authenticator,
        attributes: decision.attributes,
        secret: this.secret,
        messageAuthenticator: sign ? 'valid' : 'none',
      },
      faults,
    );
    const socket = faults.fromOtherPort ? this.sideSocket : this.socket;
    const reply = { code: decision.code, identifier };
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
