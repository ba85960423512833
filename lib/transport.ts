/**
 * UDP transport for one RADIUS server address: a small pool of connected sockets (source ports), an
 * Identifier table per socket, retransmission of identical bytes, and reply verification (RFC 2865 §2.4,
 * §3; RFC 5080 §2.2.1; RFC 3579 §3.2). It knows nothing of users, servers' names or Passport.
 *
 * Rules, as built and tested (test/transport.test.ts):
 *
 * - **Sockets.** Each socket is `connect()`ed to the server's address and port, so the kernel delivers
 *   only datagrams from there, and an ICMP port unreachable surfaces as `ECONNREFUSED` at once. A socket
 *   carries at most 256 outstanding requests, one per Identifier; the 257th concurrent request opens
 *   another socket (another source port), so no two outstanding requests share a (source port, server,
 *   Identifier). A surplus socket is closed as soon as it has nothing in flight; the first one stays
 *   open until {@link Destination.close}.
 * - **Identifiers** are taken round-robin from a random start, so an Identifier is reused on a socket only
 *   after the other 255 were.
 * - **Retransmission.** The identical bytes go out `retries + 1` times from the same socket, at
 *   `k × timeout / (retries + 1)` ms after the first (k = 0 … retries); the request fails with `timeout`
 *   at `timeout` ms. A verified reply to any copy completes the request once. One timer per socket, set
 *   for the earliest due transmission or timeout among its requests, drives every schedule.
 * - **Drops.** A datagram that is not a verified reply to an outstanding request is dropped and reported
 *   through `onDrop` by reason; it never completes or fails a request. A reply that verifies against the
 *   last request that held its Identifier on that socket (answered, timed out or failed, however long
 *   ago) counts as `'duplicate'`, even when the Identifier was handed to a new request meanwhile; one
 *   that verifies against nothing is `'unknown-identifier'` when no request holds its Identifier.
 * - **Verify before parse, bounded work.** Checks run cheapest first: source, header framing (Length),
 *   Identifier and packet code with no hashing (`'malformed'`, `'unknown-identifier'`,
 *   `'unexpected-code'`), then the Response Authenticator over the raw bytes (one MD5), then attribute
 *   framing and the Message-Authenticator (one HMAC-MD5, only for a packet that passed the MD5); the
 *   attributes are split only for a verified reply. A datagram that fails the MD5 against the request
 *   holding its Identifier is checked against that Identifier's previous holder (to count a late reply
 *   as `'duplicate'`) only while a per-address budget lasts (64 at once, 64 a second), so a flood of
 *   forged replies costs one MD5 each.
 * - **Unreachable.** `ECONNREFUSED`, `EHOSTUNREACH`, `ENETUNREACH` or `EHOSTDOWN` on a socket, as an
 *   'error' event or from a send (an ICMP error, which the kernel does not tie to one datagram), fails the
 *   requests pending on that socket, and only those, with `unreachable`; the socket stays in use. Requests
 *   on the other sockets to the same address go on: an ICMP error is matched to a socket by addresses and
 *   ports alone, so a forged one must do no more harm than a lost reply, and a really closed port reaches
 *   every socket through the ICMP errors its own datagrams draw. {@link Destination.probe} sends one
 *   request from a fresh socket (to confirm an `unreachable`), {@link Destination.markUnreachable} fails
 *   everything pending once the caller has confirmed it. A failed `connect()` or any other socket error
 *   fails the socket's requests with `unreachable` or `socket` and retires the socket; the next request
 *   opens a fresh one.
 * - **Process lifetime.** Sockets are unref'd, and a socket's timer runs only while it has requests
 *   pending: only pending requests keep the process alive, so it can exit without
 *   {@link Destination.close}. `close()` fails whatever is pending with `closed`, closes every socket and
 *   resolves once they have closed.
 *
 * @internal
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { DropReason } from './errors';
import { checkReply, HEADER_LENGTH, packetLength, parsePacket, type ParsedPacket } from './protocol/packet';

/** Drop counts by reason. */
export type DropCounts = Partial<Record<DropReason, number>>;

/** What one exchange needs. */
export interface ExchangeRequest {
  /** Builds the packet for the Identifier the transport chose; called once (over TLS, once per connection tried). */
  build(identifier: number): { packet: Buffer; requestAuthenticator: Buffer };
  /** The shared secret, for verifying replies. */
  secret: Buffer;
  /** Drop replies without a Message-Authenticator (RFC 3579 §3.2). */
  requireMessageAuthenticator: boolean;
  /** Packet codes accepted as a reply (e.g. Access-Accept, -Reject, -Challenge). */
  expectCodes: readonly number[];
  /** Total wait for a valid reply, in milliseconds. */
  timeout: number;
  /** Retransmissions within `timeout`, spaced evenly. */
  retries: number;
  /** Called before each transmission; `attempt` counts from 1. */
  onSend?(attempt: number): void;
}

/** A verified reply. */
export interface ExchangeResult {
  /** The reply, after framing, Response Authenticator and Message-Authenticator checks passed. */
  packet: ParsedPacket;
  /** Milliseconds from the first transmission to the verified reply. */
  rttMs: number;
  /** Datagrams dropped while this request waited. */
  dropped: DropCounts;
}

/**
 * Why an exchange ended without a verified reply: `timeout` (nothing valid within `timeout` ms),
 * `unreachable` (ICMP error such as port unreachable; over TLS, TCP refused), `socket` (another socket
 * error), `closed` ({@link Destination.close} was called); over TLS also `tls` (handshake or certificate,
 * see lib/tls/failure.ts) and `protocol-error` (a Protocol-Error reply, RFC 7930 §4).
 */
export class ExchangeError extends Error {
  /**
   * @param reason - why the exchange ended (see above).
   * @param dropped - datagrams dropped while the request waited, by reason.
   * @param detail - the socket error code, e.g. `'ECONNREFUSED'`, when there is one.
   */
  constructor(
    readonly reason: 'timeout' | 'unreachable' | 'socket' | 'closed' | 'tls' | 'protocol-error',
    readonly dropped: DropCounts,
    readonly detail?: string,
  ) {
    super(`RADIUS exchange failed: ${reason}${detail ? ` (${detail})` : ''}`);
    this.name = 'ExchangeError';
  }
}

interface Pending {
  identifier: number;
  packet: Buffer;
  requestAuthenticator: Buffer;
  request: ExchangeRequest;
  /** Transmissions handed to the socket. */
  attempts: number;
  /** Transmissions scheduled so far (sent, or queued while the socket connects). */
  scheduled: number;
  startedAt: number;
  /** `performance.now()` when the next transmission is due, or the timeout once all are scheduled. */
  due: number;
  /** Datagrams dropped while this request waited; created on the first drop. */
  dropped: DropCounts | undefined;
  resolve(result: ExchangeResult): void;
  reject(error: ExchangeError): void;
}

const IDENTIFIERS = 256;
/** Receive buffer asked for on each socket, in bytes. */
const RECEIVE_BUFFER_BYTES = 1 << 20;
/** Late-reply checks (a second MD5 for a datagram that failed verification) allowed at once, per address. */
const LATE_CHECK_BURST = 64;
/** Late-reply checks allowed per second, per address, once the burst is spent. */
const LATE_CHECK_PER_SECOND = 64;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);

function errorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  return e?.code ?? (e instanceof Error ? e.message : String(err));
}

/** One connected socket and its Identifier table. */
class Channel {
  readonly socket: Socket;
  readonly pending: Array<Pending | undefined> = new Array<Pending | undefined>(IDENTIFIERS);
  /**
   * Identifier → the last request that held it and stopped waiting, for recognising duplicate (late)
   * replies: only what verification needs, never the packet or the request (parallel arrays, so that
   * finishing a request allocates nothing).
   */
  private readonly finishedAuthenticator: Array<Buffer | undefined> = new Array<Buffer | undefined>(IDENTIFIERS);
  private readonly finishedSecret: Array<Buffer | undefined> = new Array<Buffer | undefined>(IDENTIFIERS);
  private readonly finishedRequireMa: boolean[] = new Array<boolean>(IDENTIFIERS).fill(false);
  inFlight = 0;
  closed = false;
  private cursor = Math.floor(Math.random() * IDENTIFIERS);
  /** True once `connect()` completed; sends wait in `queue` until then. */
  private connected = false;
  private remote: { address: string; port: number } | undefined;
  private readonly queue: Pending[] = [];
  /**
   * One timer per socket instead of one per request: it fires at the earliest `due` among the pending
   * requests (or earlier), and {@link Channel.sweep} sends what is due and times out what is over. Cleared
   * when nothing is in flight, so that only pending requests keep the process alive.
   */
  private timer: NodeJS.Timeout | undefined;
  /** `performance.now()` the timer is set to fire at (Infinity when unset). */
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly onTimer = (): void => this.sweep();

  constructor(
    private readonly owner: Destination,
    family: 'udp4' | 'udp6',
    host: string,
    port: number,
  ) {
    this.socket = createSocket({ type: family });
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    this.socket.on('error', (err) => this.onError(err));
    // A connect() failure (e.g. EACCES for a broadcast address, EINVAL for a link-local IPv6 address
    // without a scope, ENETUNREACH without a route) comes to this callback, not to 'error'.
    this.socket.connect(port, host, (err?: Error) => {
      if (this.closed) return;
      if (err) return this.onError(err, true);
      this.connected = true;
      // A burst of 256 replies overflows the default receive buffer (~208 KiB); ask for 1 MiB (the
      // kernel caps it at net.core.rmem_max for unprivileged processes).
      try {
        this.socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
      } catch {
        // keep the default
      }
      // The kernel's spelling of the peer (e.g. "::1" for "0:0::1") is what replies come from.
      const remote = this.socket.remoteAddress();
      this.remote = { address: remote.address, port: remote.port };
      for (const p of this.queue.splice(0)) this.transmit(p);
    });
    this.socket.unref();
  }

  /** Takes a free Identifier, round-robin from a random start; undefined when all 256 are in flight. */
  allocate(): number | undefined {
    if (this.closed || this.inFlight >= IDENTIFIERS) return undefined;
    for (let i = 0; i < IDENTIFIERS; i++) {
      const id = (this.cursor + i) % IDENTIFIERS;
      if (this.pending[id] === undefined) {
        this.cursor = (id + 1) % IDENTIFIERS;
        return id;
      }
    }
    return undefined;
  }

  /** Registers `p` under its Identifier and starts its transmission schedule. */
  start(p: Pending): void {
    this.pending[p.identifier] = p;
    this.inFlight++;
    this.step(p);
    if (this.pending[p.identifier] === p && p.due < this.timerAt) this.arm(p.due);
  }

  /**
   * The next step of `p`'s schedule: its next transmission, or the timeout once `retries + 1` went out.
   * Absolute schedule (no drift under load): transmission k (from 0) at `startedAt + k × timeout /
   * (retries + 1)`, the timeout at `startedAt + timeout`.
   */
  private step(p: Pending): void {
    const { timeout, retries } = p.request;
    if (p.scheduled > retries) {
      this.fail(p, new ExchangeError('timeout', p.dropped ?? {}));
      return;
    }
    p.scheduled++;
    p.due = p.startedAt + (p.scheduled * timeout) / (retries + 1);
    this.transmit(p);
  }

  /** Sets the timer to fire at `at` (a `performance.now()` time), replacing a later one. */
  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(at - performance.now())));
  }

  /** Steps every request whose `due` time has come, then sets the timer for the earliest one left. */
  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.closed) return;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (let id = 0; id < IDENTIFIERS; id++) {
      const p = this.pending[id];
      if (p === undefined) continue;
      // setTimeout fires on the event loop's millisecond clock, which may run up to 1 ms behind.
      if (p.due <= now + 1) this.step(p);
      if (this.closed) return;
      if (this.pending[id] === p && p.due < next) next = p.due;
    }
    if (next !== Number.POSITIVE_INFINITY && next < this.timerAt) this.arm(next);
  }

  private transmit(p: Pending): void {
    if (this.pending[p.identifier] !== p) return;
    if (!this.connected) {
      if (!this.queue.includes(p)) this.queue.push(p);
      return;
    }
    p.attempts++;
    p.request.onSend?.(p.attempts);
    try {
      this.socket.send(p.packet, (err) => {
        if (!err) return;
        // In a burst the ICMP error often surfaces here (sendmsg returns the socket's pending error) and
        // never as an 'error' event: it is about this socket's traffic, not about this datagram.
        const code = errorCode(err);
        if (UNREACHABLE_CODES.has(code)) this.failAll('unreachable', code);
        else this.fail(p, new ExchangeError('socket', p.dropped ?? {}, code));
      });
    } catch (err) {
      this.fail(p, new ExchangeError('socket', p.dropped ?? {}, errorCode(err)));
    }
  }

  private release(p: Pending): void {
    const id = p.identifier;
    this.pending[id] = undefined;
    this.inFlight--;
    if (this.inFlight === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
    }
    this.finishedAuthenticator[id] = p.requestAuthenticator;
    this.finishedSecret[id] = p.request.secret;
    this.finishedRequireMa[id] = p.request.requireMessageAuthenticator;
    if (this.inFlight === 0) this.owner.channelIdle(this);
  }

  fail(p: Pending, error: ExchangeError): void {
    if (this.pending[p.identifier] !== p) return;
    this.release(p);
    p.reject(error);
  }

  private drop(reason: DropReason, p?: Pending): void {
    if (p) {
      const dropped = (p.dropped ??= {});
      dropped[reason] = (dropped[reason] ?? 0) + 1;
    }
    this.owner.onDrop(reason);
  }

  /** True when `msg` is an authentic reply to the request that last held `identifier` and stopped waiting. */
  private isLateReply(msg: Buffer, identifier: number): boolean {
    const requestAuthenticator = this.finishedAuthenticator[identifier];
    const secret = this.finishedSecret[identifier];
    if (requestAuthenticator === undefined || secret === undefined) return false;
    return checkReply(msg, requestAuthenticator, secret, this.finishedRequireMa[identifier]!) === undefined;
  }

  /**
   * Cheapest checks first, so that a datagram costs at most one MD5 over its bytes unless it is authentic
   * (RFC 2865 §3): source, header framing and Identifier (no hashing), packet code, then the
   * authenticators over the raw bytes, and the attributes are split only for a verified reply.
   */
  private onMessage(msg: Buffer, address: string, port: number): void {
    if (this.closed) return;
    if (!this.remote || address !== this.remote.address || port !== this.remote.port) return this.drop('wrong-source');
    if (msg.length < HEADER_LENGTH) return this.drop('malformed');
    const identifier = msg[1]!;
    const p = this.pending[identifier];
    if (packetLength(msg) < 0) return this.drop('malformed', p);
    if (!p) return this.drop(this.isLateReply(msg, identifier) ? 'duplicate' : 'unknown-identifier');
    if (!p.request.expectCodes.includes(msg[0]!)) return this.drop('unexpected-code', p);
    const failure = checkReply(msg, p.requestAuthenticator, p.request.secret, p.request.requireMessageAuthenticator);
    if (failure !== undefined) {
      // A late reply to the Identifier's previous holder is a duplicate, not an attack on the new request.
      // Telling them apart costs a second MD5, so it is rationed (see Destination.mayCheckLateReply).
      if (failure === 'bad-response-authenticator' && this.owner.mayCheckLateReply() && this.isLateReply(msg, identifier)) {
        return this.drop('duplicate');
      }
      return this.drop(failure, p);
    }
    const packet = parsePacket(msg);
    if (!packet) return this.drop('malformed', p); // unreachable: checkReply checked the same framing
    this.release(p);
    p.resolve({ packet, rttMs: performance.now() - p.startedAt, dropped: p.dropped ?? {} });
  }

  /** A socket error; `fatal` (a failed connect) retires the socket even for an unreachable error. */
  private onError(err: Error, fatal = false): void {
    if (this.closed) return;
    const code = errorCode(err);
    const unreachable = UNREACHABLE_CODES.has(code);
    if (unreachable && !fatal) {
      // The kernel keeps one pending ICMP error per socket without saying which datagram caused it, and
      // matches an ICMP to a connected socket by the quoted addresses and ports alone, so anyone who can
      // reach this host can forge one. It moves on what is pending on this socket (as a timeout would,
      // only sooner) and nothing else: the other sockets learn of a really closed port from the ICMP
      // errors their own datagrams draw. The socket stays in use.
      this.failAll('unreachable', code);
      return;
    }
    this.failAll(unreachable ? 'unreachable' : 'socket', code);
    this.owner.retire(this);
  }

  /** Fails every pending request with `reason`. */
  failAll(reason: 'unreachable' | 'socket' | 'closed', detail?: string): void {
    this.queue.length = 0;
    for (const p of this.pending) {
      if (p) this.fail(p, new ExchangeError(reason, p.dropped ?? {}, detail));
    }
  }

  /** Resolves once the socket has closed (its close callback ran). */
  private closing: Promise<void> | undefined;

  /** Fails everything pending with `closed` and closes the socket. Idempotent; resolves once it has closed. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
    this.closed = true;
    this.failAll('closed');
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.finishedAuthenticator.fill(undefined);
    this.finishedSecret.fill(undefined);
    return this.closing;
  }
}

/**
 * Requests to one server address (an IP address and port). Grows its socket pool when 256 requests are in
 * flight on every socket, and shrinks it back as they finish.
 */
export class Destination {
  private readonly channels: Channel[] = [];
  /** Sockets being closed (surplus or broken ones, taken out of the pool), until their close callback. */
  private readonly closingChannels = new Set<Promise<void>>();
  /** Sockets of {@link Destination.probe}, one exchange each. */
  private readonly probes = new Set<Channel>();
  private closed = false;
  /** Late-reply checks left in the current budget (see {@link Destination.mayCheckLateReply}). */
  private lateCheckTokens = LATE_CHECK_BURST;
  private lateCheckRefilledAt = performance.now();

  /**
   * @param host - an IP address (already resolved).
   * @param port - UDP port.
   * @param onDrop - told of every dropped datagram, by reason.
   */
  constructor(
    readonly host: string,
    readonly port: number,
    readonly onDrop: (reason: DropReason) => void = () => {},
  ) {}

  /** Number of sockets currently open. */
  get sockets(): number {
    return this.channels.length;
  }

  /** Requests currently in flight. */
  get inFlight(): number {
    return this.channels.reduce((n, c) => n + c.inFlight, 0);
  }

  /** True after {@link Destination.close}. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal Closes a surplus socket once it has nothing in flight. */
  channelIdle(channel: Channel): void {
    if (channel.inFlight !== 0 || channel.closed) return;
    const i = this.channels.indexOf(channel);
    if (i > 0) {
      this.channels.splice(i, 1);
      this.closeChannel(channel);
    }
  }

  /** Closes a socket taken out of the pool; {@link Destination.close} waits for it. */
  private closeChannel(channel: Channel): void {
    const closing = channel.close();
    this.closingChannels.add(closing);
    void closing.then(() => this.closingChannels.delete(closing));
  }

  /**
   * @internal Whether a datagram that failed verification against the request holding its Identifier may
   * also be checked against the request that held it before (a second MD5). A token bucket per address:
   * `LATE_CHECK_BURST` at once, refilled at `LATE_CHECK_PER_SECOND`, so that a flood of forged replies
   * costs one MD5 each (plus at most that many more per second), while the occasional real late reply is
   * still told apart.
   */
  mayCheckLateReply(): boolean {
    const now = performance.now();
    this.lateCheckTokens = Math.min(LATE_CHECK_BURST, this.lateCheckTokens + ((now - this.lateCheckRefilledAt) * LATE_CHECK_PER_SECOND) / 1000);
    this.lateCheckRefilledAt = now;
    if (this.lateCheckTokens < 1) return false;
    this.lateCheckTokens--;
    return true;
  }

  /** @internal Takes a broken socket out of the pool and closes it. */
  retire(channel: Channel): void {
    const i = this.channels.indexOf(channel);
    if (i >= 0) this.channels.splice(i, 1);
    this.closeChannel(channel);
  }

  /**
   * Sends a request and waits for a verified reply. Resolves with the reply; rejects with
   * {@link ExchangeError} (`timeout` after `timeout` ms, `unreachable` on an ICMP error on its socket,
   * `socket`, `closed`). Never rejects for a bad datagram: those are dropped and counted. Throws whatever
   * `request.build` throws.
   */
  exchange(request: ExchangeRequest): Promise<ExchangeResult> {
    if (this.closed) return Promise.reject(new ExchangeError('closed', {}));
    let channel: Channel | undefined;
    let identifier: number | undefined;
    for (const c of this.channels) {
      identifier = c.allocate();
      if (identifier !== undefined) {
        channel = c;
        break;
      }
    }
    if (!channel || identifier === undefined) {
      channel = this.openChannel();
      this.channels.push(channel);
      identifier = channel.allocate()!;
    }
    return this.startOn(channel, identifier, request);
  }

  /**
   * Sends one request from a fresh socket of its own (a new source port, outside the pool), closed once
   * the exchange ends; resolves and rejects like {@link Destination.exchange}. For confirming an
   * `unreachable`: an ICMP error is matched to a socket by addresses and ports alone, so one that reaches a
   * port opened just now is better evidence than one on a long-lived port an attacker could have swept.
   * Typically a Status-Server (RFC 5997) with `retries: 0`.
   */
  probe(request: ExchangeRequest): Promise<ExchangeResult> {
    if (this.closed) return Promise.reject(new ExchangeError('closed', {}));
    const channel = this.openChannel();
    this.probes.add(channel);
    const done = (): void => {
      this.probes.delete(channel);
      this.closeChannel(channel);
    };
    const result = this.startOn(channel, channel.allocate()!, request);
    result.then(done, done);
    return result;
  }

  /**
   * Fails every request pending to this address, on every socket, with `unreachable` (`detail` as given).
   * The transport never does this on its own (an ICMP error moves on only its own socket's requests); it is
   * for the caller that has confirmed the server unreachable, e.g. with {@link Destination.probe}.
   */
  markUnreachable(detail?: string): void {
    for (const c of [...this.channels]) c.failAll('unreachable', detail);
  }

  private openChannel(): Channel {
    return new Channel(this, this.host.includes(':') ? 'udp6' : 'udp4', this.host, this.port);
  }

  private startOn(channel: Channel, identifier: number, request: ExchangeRequest): Promise<ExchangeResult> {
    let built: { packet: Buffer; requestAuthenticator: Buffer };
    try {
      built = request.build(identifier);
    } catch (err) {
      if (this.probes.delete(channel)) this.closeChannel(channel);
      else this.channelIdle(channel);
      return Promise.reject(err);
    }
    return new Promise<ExchangeResult>((resolve, reject) => {
      channel.start({
        identifier,
        packet: built.packet,
        requestAuthenticator: built.requestAuthenticator,
        request,
        attempts: 0,
        scheduled: 0,
        startedAt: performance.now(),
        due: 0,
        dropped: undefined,
        resolve,
        reject,
      });
    });
  }

  /**
   * Rejects everything pending with `closed` and closes the sockets. Idempotent. Resolves once every
   * socket has closed (their close callbacks ran), including surplus ones closed earlier.
   */
  close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.channels.splice(0), ...this.probes]) this.closingChannels.add(c.close());
    this.probes.clear();
    return Promise.all(this.closingChannels).then(() => undefined);
  }
}
