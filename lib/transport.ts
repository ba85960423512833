/**
 * UDP transport for one RADIUS server address: a small pool of connected sockets (source ports), an
 * Identifier table per socket, retransmission of identical bytes, and reply verification (RFC 2865 §2.4,
 * §3; RFC 5080 §2.2.1; RFC 3579 §3.2). It knows nothing of users, servers' names or Passport. This file
 * holds the sockets to one address (`Destination`); lib/channel.ts one socket and its reception path;
 * lib/exchange.ts the request, result and error types.
 *
 * Rules, as built and tested (test/transport.udp.test.ts):
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
 *   last request that held its Identifier on that socket (however long ago) counts as `'duplicate'` when
 *   that request was answered, `'late'` when it had timed out or failed, even when the Identifier was
 *   handed to a new request meanwhile; one that verifies against nothing is `'unknown-identifier'` when
 *   no request holds its Identifier.
 * - **Verify before parse, bounded work.** Checks run cheapest first: source, header framing (Length),
 *   Identifier and packet code with no hashing (`'malformed'`, `'unknown-identifier'`,
 *   `'unexpected-code'`), then the Response Authenticator over the raw bytes (one MD5), then attribute
 *   framing and the Message-Authenticator (one HMAC-MD5, only for a packet that passed the MD5); the
 *   attributes are split only for a verified reply. A datagram that fails the MD5 against the request
 *   holding its Identifier is checked against that Identifier's previous holder (to count a late reply
 *   as `'late'`) only while a per-address budget lasts (64 at once, 64 a second), so a flood of
 *   forged replies costs one MD5 each.
 * - **Unreachable.** `ECONNREFUSED`, `EHOSTUNREACH`, `ENETUNREACH` or `EHOSTDOWN` on a socket, as an
 *   'error' event or from a send (an ICMP error, which the kernel does not tie to one datagram), fails the
 *   requests pending on that socket, and only those, with `unreachable`; the socket stays in use. Requests
 *   on the other sockets to the same address go on: an ICMP error is matched to a socket by addresses and
 *   ports alone, so a forged one must do no more harm than a lost reply, and a really closed port reaches
 *   every socket through the ICMP errors its own datagrams draw. Whether the server is down is for the
 *   caller to judge (the client confirms from a fresh transport, i.e. a new source port). A failed
 *   `connect()` or any other socket error fails the socket's requests with `unreachable` or `socket` and
 *   retires the socket; the next request opens a fresh one.
 * - **Kernel drops.** Datagrams the kernel dropped because a socket's receive buffer was full never reach
 *   `onDrop`. After a retransmission or a timeout (at most once a second per address, with a trailing read
 *   for the end of a burst) and before closing a socket that saw one, the transport reads each socket's
 *   count (Linux /proc/net/udp `drops`, what `RcvbufErrors` sums host-wide) and tells `onKernelDrops` of
 *   any increase; {@link Destination.readKernelDrops} reads on demand.
 * - **Process lifetime.** Sockets are unref'd, and a socket's timer runs only while it has requests
 *   pending: only pending requests keep the process alive, so it can exit without
 *   {@link Destination.close}. `close()` fails whatever is pending with `closed`, closes every socket and
 *   resolves once they have closed.
 *
 * @internal
 */
import { performance } from 'node:perf_hooks';
import { Channel, type ChannelOwner } from './channel';
import type { DropReason } from './errors';
import { ExchangeError, type ExchangeRequest, type ExchangeResult } from './exchange';
import { readUdpDrops } from './udp-drops';

export { ExchangeError, type DropCounts, type ExchangeRequest, type ExchangeResult } from './exchange';

/** Shortest time between two reads of the kernel's drop counts per address, in ms. */
const KERNEL_READ_INTERVAL_MS = 1000;
/** Late-reply checks (a second MD5 for a datagram that failed verification) allowed at once, per address. */
const LATE_CHECK_BURST = 64;
/** Late-reply checks allowed per second, per address, once the burst is spent. */
const LATE_CHECK_PER_SECOND = 64;

/**
 * Requests to one server address (an IP address and port). Grows its socket pool when 256 requests are in
 * flight on every socket, and shrinks it back as they finish.
 */
export class Destination implements ChannelOwner {
  private readonly channels: Channel[] = [];
  /** Sockets being closed (surplus or broken ones, taken out of the pool), until their close callback. */
  private readonly closingChannels = new Set<Promise<void>>();
  private closed = false;
  /** Late-reply checks left in the current budget (see {@link Destination.mayCheckLateReply}). */
  private lateCheckTokens = LATE_CHECK_BURST;
  private lateCheckRefilledAt = performance.now();

  /** Kernel drops counted so far (see {@link Destination.readKernelDrops}). */
  private kernelDrops = 0;
  /** Per open socket, its kernel drop count when last read. */
  private readonly kernelDropsSeen = new Map<Channel, number>();
  private kernelReadAt = Number.NEGATIVE_INFINITY;
  private kernelReadTimer: NodeJS.Timeout | undefined;

  /**
   * @param host - an IP address (already resolved).
   * @param port - UDP port.
   * @param onDrop - told of every dropped datagram, by reason.
   * @param onKernelDrops - told how many more datagrams the kernel dropped on this address's sockets
   *   (receive buffer full) whenever a read finds some; see {@link Destination.readKernelDrops}.
   */
  constructor(
    readonly host: string,
    readonly port: number,
    readonly onDrop: (reason: DropReason) => void = () => {},
    readonly onKernelDrops?: (count: number) => void,
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
    // Its kernel drop count goes with the socket: read it first if a reply may have been lost.
    if (channel.sawLoss && !channel.closed && this.onKernelDrops) this.readKernelDrops();
    this.kernelDropsSeen.delete(channel);
    const closing = channel.close();
    this.closingChannels.add(closing);
    void closing.then(() => this.closingChannels.delete(closing));
  }

  /**
   * @internal A request was retransmitted or timed out. Reads the kernel's drop counts at most once a
   * second (a trailing read catches the end of a burst), and only when someone listens.
   */
  noteLoss(): void {
    if (!this.onKernelDrops || this.closed) return;
    const wait = this.kernelReadAt + KERNEL_READ_INTERVAL_MS - performance.now();
    if (wait <= 0) {
      this.readKernelDrops();
    } else if (!this.kernelReadTimer) {
      this.kernelReadTimer = setTimeout(() => {
        this.kernelReadTimer = undefined;
        if (!this.closed) this.readKernelDrops();
      }, Math.ceil(wait));
      this.kernelReadTimer.unref();
    }
  }

  /**
   * Datagrams from this address that the kernel dropped on its sockets since they opened, because a
   * receive buffer was full (Linux: the `drops` column of /proc/net/udp, counted in `RcvbufErrors`); they
   * never reach `onDrop`. Reads /proc now and tells `onKernelDrops` of any increase; 0 where there is no
   * /proc. Counts of sockets closed meanwhile are included when a loss was seen on them.
   */
  readKernelDrops(): number {
    this.kernelReadAt = performance.now();
    const open = this.channels.filter((c) => c.localPort !== undefined && !c.closed);
    if (open.length === 0) return this.kernelDrops;
    const table = readUdpDrops(this.host.includes(':') ? 'udp6' : 'udp4', new Set(open.map((c) => c.localPort!)), this.port);
    let more = 0;
    for (const c of open) {
      const now = table.get(c.localPort!);
      const before = this.kernelDropsSeen.get(c) ?? 0;
      if (now === undefined || now <= before) continue;
      more += now - before;
      this.kernelDropsSeen.set(c, now);
    }
    if (more > 0) {
      this.kernelDrops += more;
      this.onKernelDrops?.(more);
    }
    return this.kernelDrops;
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

  private openChannel(): Channel {
    return new Channel(this, this.host.includes(':') ? 'udp6' : 'udp4', this.host, this.port);
  }

  private startOn(channel: Channel, identifier: number, request: ExchangeRequest): Promise<ExchangeResult> {
    let built: { packet: Buffer; requestAuthenticator: Buffer };
    try {
      built = request.build(identifier);
    } catch (err) {
      this.channelIdle(channel);
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
    if (this.kernelReadTimer) clearTimeout(this.kernelReadTimer);
    this.kernelReadTimer = undefined;
    for (const c of this.channels.splice(0)) this.closingChannels.add(c.close());
    return Promise.all(this.closingChannels).then(() => undefined);
  }
}
