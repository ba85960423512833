/**
 * One connected UDP socket of the transport (lib/transport.ts, whose header states the rules): its
 * Identifier table, the retransmission schedule of its requests (one timer), and the reception path —
 * cheap checks, then verification over the raw bytes, then the split of a verified reply. The
 * `Destination` (lib/transport.ts) owns the sockets to one server address and decides what spans them.
 *
 * @internal
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { DropReason } from './errors';
import { ExchangeError, type DropCounts, type ExchangeRequest, type ExchangeResult } from './exchange';
import { checkReply, HEADER_LENGTH, packetLength, parsePacket } from './protocol/packet';

/** One request waiting on a socket. */
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
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);

function errorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  return e?.code ?? (e instanceof Error ? e.message : String(err));
}

/** What a {@link Channel} tells the `Destination` (lib/transport.ts) that owns it. */
export interface ChannelOwner {
  /** Told of every dropped datagram, by reason. */
  onDrop(reason: DropReason): void;
  /** The channel has nothing in flight (a surplus socket may close). */
  channelIdle(channel: Channel): void;
  /** The channel's socket broke: take it out of the pool and close it. */
  retire(channel: Channel): void;
  /** A request was retransmitted or timed out. */
  noteLoss(): void;
  /** Whether a second MD5 (the late-reply check) is within the budget. */
  mayCheckLateReply(): boolean;
}

/** One connected socket and its Identifier table. */
export class Channel {
  readonly socket: Socket;
  readonly pending: Array<Pending | undefined> = new Array<Pending | undefined>(IDENTIFIERS);
  /**
   * Identifier → the last request that held it and stopped waiting, for recognising late and duplicate
   * replies: only what verification needs, never the packet or the request (parallel arrays, so that
   * finishing a request allocates nothing), and whether it was answered (a second reply is a duplicate;
   * a reply after it timed out or failed is late).
   */
  private readonly finishedAuthenticator: Array<Buffer | undefined> = new Array<Buffer | undefined>(IDENTIFIERS);
  private readonly finishedSecret: Array<Buffer | undefined> = new Array<Buffer | undefined>(IDENTIFIERS);
  private readonly finishedRequireMa: boolean[] = new Array<boolean>(IDENTIFIERS).fill(false);
  private readonly finishedAnswered: boolean[] = new Array<boolean>(IDENTIFIERS).fill(false);
  inFlight = 0;
  closed = false;
  /** The socket's own port once connected (for the kernel's per-socket drop count). */
  localPort: number | undefined;
  /** A request on this socket was retransmitted or timed out: a reply may have been lost in the kernel. */
  sawLoss = false;
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

  /**
   * Opens the socket and connects it to `host`:`port`; requests wait in a queue until it is connected.
   *
   * @param owner - the Destination told of drops, idleness, breakage and losses.
   * @param family - `'udp4'` or `'udp6'`, matching `host`.
   * @param host - the server's IP address.
   * @param port - the server's UDP port.
   */
  constructor(
    private readonly owner: ChannelOwner,
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
      this.localPort = this.socket.address().port;
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
      this.lost();
      this.fail(p, new ExchangeError('timeout', p.dropped ?? {}));
      return;
    }
    if (p.scheduled > 0) this.lost();
    p.scheduled++;
    p.due = p.startedAt + (p.scheduled * timeout) / (retries + 1);
    this.transmit(p);
  }

  /** A retransmission or a timeout: maybe a reply the kernel dropped; the owner may look. */
  private lost(): void {
    this.sawLoss = true;
    this.owner.noteLoss();
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

  private release(p: Pending, answered: boolean): void {
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
    this.finishedAnswered[id] = answered;
    if (this.inFlight === 0) this.owner.channelIdle(this);
  }

  /** Ends `p` with `error`, if it is still pending here. */
  fail(p: Pending, error: ExchangeError): void {
    if (this.pending[p.identifier] !== p) return;
    this.release(p, false);
    p.reject(error);
  }

  private drop(reason: DropReason, p?: Pending): void {
    if (p) {
      const dropped = (p.dropped ??= {});
      dropped[reason] = (dropped[reason] ?? 0) + 1;
    }
    this.owner.onDrop(reason);
  }

  /**
   * When `msg` is an authentic reply to the request that last held `identifier` and stopped waiting:
   * `'duplicate'` if that request was answered, `'late'` if it had timed out or failed; else undefined.
   */
  private lateReply(msg: Buffer, identifier: number): 'late' | 'duplicate' | undefined {
    const requestAuthenticator = this.finishedAuthenticator[identifier];
    const secret = this.finishedSecret[identifier];
    if (requestAuthenticator === undefined || secret === undefined) return undefined;
    if (checkReply(msg, requestAuthenticator, secret, this.finishedRequireMa[identifier]!) !== undefined) return undefined;
    return this.finishedAnswered[identifier] ? 'duplicate' : 'late';
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
    if (!p) return this.drop(this.lateReply(msg, identifier) ?? 'unknown-identifier');
    if (!p.request.expectCodes.includes(msg[0]!)) return this.drop('unexpected-code', p);
    const failure = checkReply(msg, p.requestAuthenticator, p.request.secret, p.request.requireMessageAuthenticator);
    if (failure !== undefined) {
      // A late (or duplicate) reply to the Identifier's previous holder is not an attack on the new request.
      // Telling them apart costs a second MD5, so it is rationed (see Destination.mayCheckLateReply).
      const late = failure === 'bad-response-authenticator' && this.owner.mayCheckLateReply() ? this.lateReply(msg, identifier) : undefined;
      if (late) return this.drop(late);
      return this.drop(failure, p);
    }
    const packet = parsePacket(msg);
    if (!packet) return this.drop('malformed', p); // unreachable: checkReply checked the same framing
    this.release(p, true);
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
