/**
 * One RADIUS/TLS connection (RFC 6614, draft-ietf-radext-radiusdtls-bis): the TLS socket, stream framing
 * by the Length field, the Identifier table, reply verification, the Status-Server watchdog (RFC 5997 §4.1,
 * RFC 3539 §3.4) and the idle close. Which requests go where, retries on a new connection and reconnect
 * back-off are {@link TlsDestination}'s (lib/transport-tls.ts).
 *
 * @internal
 */
import { performance } from 'node:perf_hooks';
import { connect, type TLSSocket } from 'node:tls';
import type { DropReason } from '../errors';
import { HEADER_LENGTH, MAX_PACKET_LENGTH, verifyReply } from '../protocol/packet';
import type { ExchangeRequest } from '../transport';
import { ALPN_RADIUS_10, type NormalizedTls } from './options';
import { checkIdentity, classifyTlsFailure, type TlsFailure } from './failure';

const IDENTIFIERS = 256;
/** RFC 7930 §4: Protocol-Error, a reply saying the request could not be processed. */
export const PROTOCOL_ERROR = 52;
/** Error-Cause (RFC 5176 §3.6), carried by Protocol-Error. */
const ERROR_CAUSE = 101;

/** What a connection needs from its owner. */
export interface ConnectionOwner {
  /** The connection is gone; `failure` is set when it never carried a reply (it says why). */
  lost(connection: TlsConnection, jobs: Job[], failure: TlsFailure | undefined): void;
  /** A packet was dropped (counted by reason). */
  drop(reason: DropReason, job?: Job): void;
  /** A verified reply (or Protocol-Error, `code` 52) to `job`. */
  replied(job: Job, bytes: ReturnType<typeof verifyReply> & { ok: true }): void;
  /** The first verified packet arrived: the server accepts this connection (reconnect back-off starts over). */
  working(): void;
  /**
   * The watchdog's outcome (RFC 3539 §3.4): `true` when its Status-Server got a verified reply, `false` when
   * neither it nor anything else was answered in time (the connection is then closed).
   */
  watchdog(answered: boolean): void;
}

/** One exchange in progress, over whichever connection carries it now. */
export interface Job {
  /** What to send and how to verify the reply. */
  request: ExchangeRequest;
  /** `performance.now()` of the first transmission. */
  startedAt: number;
  /** Transmissions so far (one per connection tried). */
  tries: number;
  /** Where it waits now: the connection and its Identifier there. */
  at: { connection: TlsConnection; identifier: number; requestAuthenticator: Buffer } | undefined;
  /** Packets dropped while it waited, by reason; created on the first drop. */
  dropped: Partial<Record<DropReason, number>> | undefined;
  /** Fires at `timeout` ms after the first transmission. */
  timer: NodeJS.Timeout | undefined;
  /** Resolved or rejected already. */
  done: boolean;
}

/** Timers of a connection, in milliseconds. */
export interface ConnectionTimers {
  /** Send a Status-Server when nothing was received for this long (RFC 3539 §3.4 Tw). */
  watchdogInterval: number;
  /** Close the connection when no Status-Server reply came in this long. */
  watchdogTimeout: number;
  /** Close a connection that carried no request for this long (minutes, not seconds). */
  idleTimeout: number;
}

/** The Status-Server packet builder of the watchdog. */
export type StatusServerBuilder = (identifier: number) => { packet: Buffer; requestAuthenticator: Buffer };

/** One TLS connection to a RADIUS server; see the module notes. */
export class TlsConnection {
  private readonly socket: TLSSocket;
  private readonly jobs: Array<Job | undefined> = new Array<Job | undefined>(IDENTIFIERS);
  /** Identifier → Request Authenticator of its last holder, to tell a late or duplicate reply. */
  private readonly finished: Array<Buffer | undefined> = new Array<Buffer | undefined>(IDENTIFIERS);
  /** Identifier → whether its last holder was answered here (a second reply is a duplicate; else late). */
  private readonly finishedAnswered: boolean[] = new Array<boolean>(IDENTIFIERS).fill(false);
  private cursor = Math.floor(Math.random() * IDENTIFIERS);
  private readonly queue: Buffer[] = [];
  private buffered: Buffer | undefined;
  /** A write is in progress; the next packet waits in `queue`. */
  private writing = false;
  private watchdog: { identifier: number; requestAuthenticator: Buffer; sentAt: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Requests waiting for a reply here (the watchdog not counted). */
  inFlight = 0;
  /** The handshake completed and the connection has not failed. */
  open = false;
  /** Failed or closed; takes no more requests. */
  closed = false;
  /** The TLS handshake completed on our side. */
  private handshakeDone = false;
  /** Packets received and verified: a connection that carried one was working. */
  received = 0;
  private lastReceived = performance.now();
  private lastUsed = performance.now();

  /**
   * Opens the connection at once; requests started before the handshake completes wait for it.
   *
   * @param owner - told of replies, drops and the connection's end.
   * @param host - IP address of the server.
   * @param port - TCP port.
   * @param tls - certificates, key or PSK, and the name to check.
   * @param secret - shared secret, for verifying the watchdog's replies.
   * @param requireMessageAuthenticator - drop watchdog replies without one (RFC 3579 §3.2).
   * @param statusServer - builds the watchdog's Status-Server.
   * @param timers - watchdog and idle timers.
   */
  constructor(
    private readonly owner: ConnectionOwner,
    host: string,
    port: number,
    private readonly tls: NormalizedTls,
    private readonly secret: Buffer,
    private readonly requireMessageAuthenticator: boolean,
    private readonly statusServer: StatusServerBuilder,
    private readonly timers: ConnectionTimers,
  ) {
    const sni = /^[A-Za-z0-9.-]+$/.test(tls.servername) && !/^[\d.]+$/.test(tls.servername) ? tls.servername : undefined;
    this.socket = connect({
      host,
      port,
      secureContext: tls.context,
      ...(sni ? { servername: sni } : {}),
      minVersion: 'TLSv1.2',
      ALPNProtocols: [ALPN_RADIUS_10],
      // The configured name (or the host of `address`), not the resolved IP address, against the SANs.
      // With TLS-PSK there is no certificate (Node passes an empty one): the PSK authenticates the server.
      checkServerIdentity: (_host, cert) => (tls.psk && !cert.raw ? undefined : checkIdentity(tls.servername, cert)),
      ...(tls.psk ? { pskCallback: () => ({ identity: tls.psk!.identity, psk: tls.psk!.key }) } : {}),
    });
    this.socket.setNoDelay(true);
    this.socket.unref();
    this.socket.on('secureConnect', () => this.onSecure());
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(undefined));
    this.ended = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
  }

  /** Resolves once the socket has closed. */
  readonly ended: Promise<void>;

  /** A free Identifier, round-robin from a random start; undefined when all 256 are taken. */
  allocate(): number | undefined {
    if (this.closed || this.inFlight + (this.watchdog ? 1 : 0) >= IDENTIFIERS) return undefined;
    for (let i = 0; i < IDENTIFIERS; i++) {
      const id = (this.cursor + i) % IDENTIFIERS;
      if (this.jobs[id] === undefined && this.watchdog?.identifier !== id) {
        this.cursor = (id + 1) % IDENTIFIERS;
        return id;
      }
    }
    return undefined;
  }

  /** Sends `packet` for `job` under `identifier` (taken with {@link allocate}). Sent once: TCP is reliable. */
  start(job: Job, identifier: number, packet: Buffer, requestAuthenticator: Buffer): void {
    this.jobs[identifier] = job;
    this.inFlight++;
    job.at = { connection: this, identifier, requestAuthenticator };
    this.lastUsed = performance.now();
    this.write(packet);
  }

  /** `job` stopped waiting here (`answered` here, or timed out, failed, answered elsewhere): frees its Identifier. */
  forget(job: Job, answered = false): void {
    const at = job.at;
    if (!at || at.connection !== this || this.jobs[at.identifier] !== job) return;
    this.jobs[at.identifier] = undefined;
    this.finished[at.identifier] = at.requestAuthenticator;
    this.finishedAnswered[at.identifier] = answered;
    this.inFlight--;
    job.at = undefined;
  }

  /**
   * A request here got no reply in time. The connection may be dead without TCP knowing (RFC 3539 §3.4):
   * ask with Status-Server now rather than at the next watchdog interval.
   */
  noReply(): void {
    if (this.open && !this.watchdog) this.probe();
  }

  /** Ends the connection (TLS close_notify); pending jobs are handed back as lost. */
  close(): void {
    if (this.closed) return;
    // close_notify and FIN, then let go without waiting for the server's side (it may take its time).
    this.socket.end(() => this.socket.destroy());
    this.fail(undefined, true);
  }

  /**
   * Writes one packet per TLS record: FreeRADIUS 3.2 takes a record holding several packets for one bad
   * packet and closes the connection, and Node coalesces writes queued behind a pending one into one
   * record. So the next packet waits for the previous write to complete.
   */
  private write(packet: Buffer): void {
    this.queue.push(packet);
    if (this.open && !this.writing) this.flush();
  }

  private readonly flushNext = (): void => {
    this.writing = false;
    if (!this.closed) this.flush();
  };

  private flush(): void {
    const packet = this.queue.shift();
    if (packet === undefined) return;
    this.writing = true;
    this.socket.write(packet, this.flushNext);
  }

  private onSecure(): void {
    if (this.closed) return;
    this.open = true;
    this.handshakeDone = true;
    this.flush();
    this.schedule();
  }

  /** One timer drives the watchdog and the idle close. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    const wait = this.watchdog ? this.timers.watchdogTimeout : Math.min(this.timers.watchdogInterval, this.timers.idleTimeout);
    this.timer = setTimeout(() => this.tick(), wait);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.closed) return;
    const now = performance.now();
    if (this.watchdog) {
      if (now - this.watchdog.sentAt >= this.timers.watchdogTimeout - 1 && this.lastReceived < this.watchdog.sentAt) {
        // RFC 3539 §3.4: no answer to the watchdog, nothing else either: the connection is dead.
        this.socket.destroy();
        this.fail(undefined, true);
        this.owner.watchdog(false);
        return;
      }
      if (this.lastReceived >= this.watchdog.sentAt) this.watchdog = undefined;
    } else if (this.inFlight === 0 && now - this.lastUsed >= this.timers.idleTimeout - 1) {
      this.close();
      return;
    } else if (now - this.lastReceived >= this.timers.watchdogInterval - 1) {
      this.probe();
    }
    this.schedule();
  }

  /** Sends a Status-Server watchdog (RFC 5997 §4.1). */
  private probe(): void {
    const identifier = this.allocate();
    if (identifier === undefined) return;
    const { packet, requestAuthenticator } = this.statusServer(identifier);
    this.watchdog = { identifier, requestAuthenticator, sentAt: performance.now() };
    this.write(packet);
    this.schedule();
  }

  /** Stream framing by the Length field (RFC 6614 §2.5); a bad Length ends the connection. */
  private onData(chunk: Buffer): void {
    let data = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    this.buffered = undefined;
    while (!this.closed && data.length >= 4) {
      const length = data.readUInt16BE(2);
      if (length < HEADER_LENGTH || length > MAX_PACKET_LENGTH) {
        // Where the next packet starts is lost: nothing more on this connection can be trusted.
        this.owner.drop('malformed');
        this.socket.destroy();
        this.fail(undefined, true);
        return;
      }
      if (data.length < length) break;
      this.onPacket(data.subarray(0, length));
      data = data.subarray(length);
    }
    if (data.length > 0 && !this.closed) this.buffered = Buffer.from(data);
  }

  private onPacket(packet: Buffer): void {
    const identifier = packet[1]!;
    const watchdog = this.watchdog;
    if (watchdog && watchdog.identifier === identifier) {
      const verdict = verifyReply(packet, watchdog.requestAuthenticator, this.secret, this.requireMessageAuthenticator);
      if (!verdict.ok) return this.owner.drop(verdict.reason);
      if (this.received++ === 0) this.owner.working();
      this.lastReceived = performance.now();
      this.watchdog = undefined;
      this.schedule();
      this.owner.watchdog(true);
      return;
    }
    const job = this.jobs[identifier];
    if (!job) {
      const previous = this.finished[identifier];
      const authentic = previous !== undefined && verifyReply(packet, previous, this.secret, this.requireMessageAuthenticator).ok;
      return this.owner.drop(!authentic ? 'unknown-identifier' : this.finishedAnswered[identifier] ? 'duplicate' : 'late');
    }
    const verdict = verifyReply(packet, job.at!.requestAuthenticator, job.request.secret, job.request.requireMessageAuthenticator);
    if (!verdict.ok) return this.owner.drop(verdict.reason, job);
    if (this.received++ === 0) this.owner.working();
    this.lastReceived = performance.now();
    if (verdict.packet.code !== PROTOCOL_ERROR && !job.request.expectCodes.includes(verdict.packet.code)) {
      return this.owner.drop('unexpected-code', job);
    }
    this.forget(job, true);
    this.owner.replied(job, verdict);
  }

  /** The socket failed or closed (`error` set on an error); hands pending jobs back once. */
  private fail(error: Error | undefined, byUs = false): void {
    if (this.closed) return;
    this.closed = true;
    this.open = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    const jobs: Job[] = [];
    for (const job of this.jobs) if (job) jobs.push(job);
    for (const job of jobs) this.forget(job);
    if (!byUs) this.socket.destroy();
    const failure = this.received > 0 || byUs ? undefined : classifyTlsFailure(error, this.handshakeDone);
    this.owner.lost(this, jobs, failure);
  }
}

/** A Protocol-Error's Error-Cause (RFC 7930 §4, RFC 5176 §3.6), e.g. 502 (Proxy-Request-Not-Routable). */
export function errorCause(attributes: ReadonlyArray<{ type: number; value: Buffer }>): number | undefined {
  const cause = attributes.find((a) => a.type === ERROR_CAUSE && a.value.length === 4);
  return cause?.value.readUInt32BE(0);
}
