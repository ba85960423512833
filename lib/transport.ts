/**
 * UDP transport for one RADIUS server address: a small pool of connected sockets (source ports), an
 * Identifier table per socket, retransmission of identical bytes, and reply verification (RFC 2865 §2.4,
 * §3; RFC 5080 §2.2.1; RFC 3579 §3.2). It knows nothing of users, servers' names or Passport.
 *
 * Sockets are connected, so the kernel delivers only datagrams from the server's address and port, and
 * an ICMP port unreachable surfaces as ECONNREFUSED at once. Sockets are unref'd: only pending requests'
 * timers keep the process alive.
 *
 * @internal
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { DropReason } from './errors';
import { verifyReply, type ParsedPacket } from './protocol/packet';

/** Drop counts by reason. */
export type DropCounts = Partial<Record<DropReason, number>>;

/** What one exchange needs. */
export interface ExchangeRequest {
  /** Builds the packet for the Identifier the transport chose; called exactly once. */
  build(identifier: number): { packet: Buffer; requestAuthenticator: Buffer };
  secret: Buffer;
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
  packet: ParsedPacket;
  /** Milliseconds from the first transmission to the verified reply. */
  rttMs: number;
  /** Datagrams dropped while this request waited. */
  dropped: DropCounts;
}

/** Why an exchange ended without a verified reply. */
export class ExchangeError extends Error {
  constructor(
    readonly reason: 'timeout' | 'unreachable' | 'socket' | 'closed',
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
  attempts: number;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  dropped: DropCounts;
  resolve(result: ExchangeResult): void;
  reject(error: ExchangeError): void;
}

const IDENTIFIERS = 256;

/** One connected socket and its Identifier table. */
class Channel {
  readonly socket: Socket;
  readonly pending: Array<Pending | undefined> = new Array<Pending | undefined>(IDENTIFIERS);
  /** Identifier → time until which a reply to a finished request counts as a duplicate. */
  readonly finished = new Map<number, number>();
  inFlight = 0;
  private cursor = Math.floor(Math.random() * IDENTIFIERS);
  closed = false;

  constructor(
    private readonly owner: Destination,
    family: 'udp4' | 'udp6',
    host: string,
    port: number,
  ) {
    this.socket = createSocket({ type: family });
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.onError(err));
    this.socket.connect(port, host, () => {
      this.connected = true;
      // The kernel's spelling of the peer (e.g. "::1" for "0:0::1") is what replies come from.
      const remote = this.socket.remoteAddress();
      this.remote = { address: remote.address, port: remote.port };
      for (const p of this.queue.splice(0)) this.send(p);
    });
    this.socket.unref();
  }

  /** True once `connect()` completed; sends wait in `queue` until then. */
  private connected = false;
  private remote: { address: string; port: number } | undefined;
  private readonly queue: Pending[] = [];

  /** Takes a free Identifier, preferring ones not recently used; undefined when all 256 are in flight. */
  allocate(): number | undefined {
    if (this.inFlight >= IDENTIFIERS) return undefined;
    for (let i = 0; i < IDENTIFIERS; i++) {
      const id = (this.cursor + i) % IDENTIFIERS;
      if (this.pending[id] === undefined) {
        this.cursor = (id + 1) % IDENTIFIERS;
        this.finished.delete(id);
        return id;
      }
    }
    return undefined;
  }

  send(p: Pending): void {
    if (this.pending[p.identifier] !== p) return;
    if (!this.connected) {
      if (!this.queue.includes(p)) this.queue.push(p);
      return;
    }
    p.attempts++;
    p.request.onSend?.(p.attempts);
    try {
      this.socket.send(p.packet, (err) => {
        if (err) this.fail(p, new ExchangeError('socket', p.dropped, (err as NodeJS.ErrnoException).code ?? err.message));
      });
    } catch (err) {
      this.fail(p, new ExchangeError('socket', p.dropped, (err as Error).message));
    }
  }

  release(p: Pending): void {
    if (this.pending[p.identifier] !== p) return;
    this.pending[p.identifier] = undefined;
    this.inFlight--;
    if (p.timer) clearTimeout(p.timer);
    this.finished.set(p.identifier, performance.now() + p.request.timeout);
    this.owner.channelIdle(this);
  }

  fail(p: Pending, error: ExchangeError): void {
    if (this.pending[p.identifier] !== p) return;
    this.release(p);
    p.reject(error);
  }

  private drop(reason: DropReason, p?: Pending): void {
    if (p) p.dropped[reason] = (p.dropped[reason] ?? 0) + 1;
    this.owner.onDrop(reason);
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    if (!this.remote || address !== this.remote.address || port !== this.remote.port) return this.drop('wrong-source');
    if (msg.length < 20) return this.drop('malformed');
    const identifier = msg[1]!;
    const p = this.pending[identifier];
    if (!p) {
      const until = this.finished.get(identifier);
      return this.drop(until !== undefined && until > performance.now() ? 'duplicate' : 'unknown-identifier');
    }
    const verdict = verifyReply(msg, p.requestAuthenticator, p.request.secret, p.request.requireMessageAuthenticator);
    if (!verdict.ok) return this.drop(verdict.reason, p);
    if (!p.request.expectCodes.includes(verdict.packet.code)) return this.drop('unexpected-code', p);
    this.release(p);
    p.resolve({ packet: verdict.packet, rttMs: performance.now() - p.startedAt, dropped: p.dropped });
  }

  private onError(err: NodeJS.ErrnoException): void {
    const reason = err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' ? 'unreachable' : 'socket';
    for (const p of this.pending) {
      if (p) this.fail(p, new ExchangeError(reason, p.dropped, err.code ?? err.message));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending) {
      if (p) this.fail(p, new ExchangeError('closed', p.dropped));
    }
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Requests to one server address (an IP address and port). Grows its socket pool when 256 requests are in
 * flight on every socket, and shrinks it back as they finish.
 */
export class Destination {
  private readonly channels: Channel[] = [];
  private closed = false;

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

  /** @internal Closes a surplus socket once it has nothing in flight. */
  channelIdle(channel: Channel): void {
    if (channel.inFlight === 0 && this.channels.length > 1) {
      const i = this.channels.indexOf(channel);
      if (i > 0) {
        this.channels.splice(i, 1);
        channel.close();
      }
    }
  }

  /**
   * Sends a request and waits for a verified reply. Resolves with the reply; rejects with
   * {@link ExchangeError} (`timeout` after `timeout` ms, `unreachable` on ICMP port unreachable, `socket`,
   * `closed`). Never rejects for a bad datagram: those are dropped and counted.
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
      channel = new Channel(this, this.host.includes(':') ? 'udp6' : 'udp4', this.host, this.port);
      this.channels.push(channel);
      identifier = channel.allocate()!;
    }
    const { packet, requestAuthenticator } = request.build(identifier);
    const ch = channel;
    const id = identifier;
    return new Promise<ExchangeResult>((resolve, reject) => {
      const p: Pending = {
        identifier: id,
        packet,
        requestAuthenticator,
        request,
        attempts: 0,
        startedAt: performance.now(),
        timer: undefined,
        dropped: {},
        resolve,
        reject,
      };
      ch.pending[id] = p;
      ch.inFlight++;
      const interval = request.timeout / (request.retries + 1);
      const tick = (): void => {
        if (ch.pending[id] !== p) return;
        if (p.attempts > request.retries) {
          ch.fail(p, new ExchangeError('timeout', p.dropped));
          return;
        }
        ch.send(p);
        p.timer = setTimeout(tick, interval);
      };
      tick();
    });
  }

  /** Rejects everything pending with `closed` and closes the sockets. */
  close(): void {
    this.closed = true;
    for (const c of this.channels.splice(0)) c.close();
  }
}
