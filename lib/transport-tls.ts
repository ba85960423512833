/**
 * RADIUS over TLS (RadSec) transport for one server address: RFC 6614 as updated by
 * draft-ietf-radext-radiusdtls-bis, with the same interface as the UDP transport's `Destination`
 * (`exchange`, `close`, `inFlight`), so the client, probe and accounting use either.
 *
 * Rules, as built and tested (test/transport-tls.tls.test.ts, test/radsec.freeradius.test.ts):
 *
 * - **Connections.** One long-lived TLS connection (TLS 1.2 at least, ALPN `radius/1.0` offered, the
 *   server certificate checked against the CA and the configured name, a client certificate or TLS-PSK)
 *   carries every request; a second one opens only when 256 Identifiers are in flight on the first.
 *   Requests wait for the handshake; they are written once, framed by their Length field.
 * - **No retransmission on a connection** (RFC 6614 §2.5, RFC 5080 §2.2.1 does not apply to TCP): a request
 *   is sent once. When the connection is lost before its reply, it goes again on a new connection, built
 *   anew (new Identifier, new Request Authenticator and Message-Authenticator), at most `retries` more
 *   times and only within `timeout`. `ExchangeRequest.build` is therefore called once per connection tried.
 * - **Failures.** A connection that fails before it carried any reply fails the requests on it at once,
 *   with why (`TlsFailureReason`): `unreachable` for a refused TCP connection, else `tls` with the
 *   reason in `detail` (e.g. `'unknown-ca (SELF_SIGNED_CERT_IN_CHAIN)'`). Then new connections are tried
 *   only after a back-off (1 s doubling to 30 s, with jitter: 50 % to 100 % of it); requests until then
 *   fail at once with the same failure, so failover moves on without waiting.
 * - **Replies** are verified exactly as over UDP (`verifyReply`: Response Authenticator, then
 *   Message-Authenticator), with the shared secret (`radsec` by default). A reply that fails is dropped
 *   and counted, and the request waits on. A bad Length field (under 20 or over 4096) loses the framing:
 *   the drop is counted and the connection closed (its requests go again on a new one).
 *   Protocol-Error (code 52, RFC 7930 §4) ends the request with reason `protocol-error` and its
 *   Error-Cause in `detail`.
 * - **Watchdog.** A connection that received nothing for 30 s, or whose request got no reply in time, is
 *   asked with Status-Server (RFC 5997 §4.1, RFC 3539 §3.4); when neither that nor anything else is
 *   answered within the server's `timeout`, the connection is closed. Either outcome goes to `onWatchdog`:
 *   the client's health monitor takes an answer as life and an unanswered watchdog as the cue to confirm
 *   from a fresh connection (lib/health.ts), so an idle server that died is held down before a sign-in
 *   waits for it. A connection that carried no request
 *   for 5 minutes is closed (the server's own idle timeout may close it first; the next request reconnects).
 * - **Process lifetime.** Sockets and connection timers are unref'd; only pending requests keep the
 *   process alive. `close()` fails what is pending with `closed` and resolves once the sockets closed.
 *
 * @internal
 */
import { performance } from 'node:perf_hooks';
import type { DropReason } from './errors';
import { Code, encodeRequest, randomAuthenticator, type verifyReply } from './protocol/packet';
import { ExchangeError, type ExchangeRequest, type ExchangeResult } from './transport';
import { errorCause, PROTOCOL_ERROR, TlsConnection, type ConnectionTimers, type Job } from './tls/connection';
import type { TlsFailure } from './tls/failure';
import type { NormalizedTls } from './tls/options';

/**
 * Timer defaults, in ms (see the module notes): the watchdog interval (RFC 3539 §3.4.1 suggests 30 s), the
 * idle close, and the reconnect back-off bounds. Read when a destination is created; integration tests
 * lower them (and put them back) to see a watchdog act without waiting 30 s.
 *
 * @internal
 */
export const TLS_TIMER_DEFAULTS = { watchdogInterval: 30_000, idleTimeout: 300_000, backoffMin: 1_000, backoffMax: 30_000 };

/** Settings of one {@link TlsDestination}. */
export interface TlsDestinationOptions {
  /** IP address (already resolved). */
  host: string;
  /** TCP port. */
  port: number;
  /** Certificates, keys, server name. */
  tls: NormalizedTls;
  /** The shared secret (`radsec` unless configured), for the watchdog's Status-Server. */
  secret: Buffer;
  /** Drop replies without a Message-Authenticator (RFC 3579 §3.2). */
  requireMessageAuthenticator: boolean;
  /** Encoded attributes for Status-Server (the server's configured ones, e.g. NAS-Identifier). */
  attributes: Buffer;
  /** How long a Status-Server may go unanswered before the connection is closed, in ms. */
  watchdogTimeout: number;
  /** Told of every dropped packet, by reason. */
  onDrop?: (reason: DropReason) => void;
  /**
   * Told of each connection watchdog's outcome: `true` for a verified reply to its Status-Server, `false`
   * when it went unanswered and the connection was closed (the client's health monitor decides from there).
   */
  onWatchdog?: (answered: boolean) => void;
  /** Test hooks: timers in milliseconds. */
  timers?: Partial<Omit<ConnectionTimers, 'watchdogTimeout'> & { backoffMin: number; backoffMax: number }>;
}

interface PendingJob extends Job {
  resolve(result: ExchangeResult): void;
  reject(error: unknown): void;
}

/**
 * An exchange ended because its TLS connection failed before carrying a reply: reason `unreachable` when
 * the TCP connection was refused, else `tls` with the `TlsFailureReason` starting `detail`.
 */
export class TlsExchangeError extends ExchangeError {
  /**
   * @param failure - why the connection failed.
   * @param dropped - packets dropped while the request waited, by reason.
   */
  constructor(
    readonly failure: TlsFailure,
    dropped: Partial<Record<DropReason, number>> = {},
  ) {
    super(
      failure.reason === 'connection-refused' ? 'unreachable' : 'tls',
      dropped,
      failure.reason === 'connection-refused' ? failure.code : `${failure.reason} (${failure.code})`,
    );
  }
}

/** Requests to one RADIUS/TLS server address; see the module notes. */
export class TlsDestination {
  private readonly connections: TlsConnection[] = [];
  private readonly jobs = new Set<PendingJob>();
  private readonly sockets = new Set<Promise<void>>();
  private readonly timers: ConnectionTimers;
  private readonly backoffMin: number;
  private readonly backoffMax: number;
  /** Consecutive connections that failed before carrying a reply. */
  private failures = 0;
  /** `performance.now()` before which no new connection is tried. */
  private retryAt = 0;
  private lastFailure: TlsFailure | undefined;
  private closed = false;
  private readonly owner = {
    lost: (c: TlsConnection, jobs: Job[], failure: TlsFailure | undefined) => this.lost(c, jobs as PendingJob[], failure),
    drop: (reason: DropReason, job?: Job) => this.drop(reason, job),
    replied: (job: Job, verdict: ReturnType<typeof verifyReply> & { ok: true }) => this.replied(job as PendingJob, verdict),
    working: () => {
      this.failures = 0;
      this.lastFailure = undefined;
    },
    watchdog: (answered: boolean) => {
      if (!this.closed) this.options.onWatchdog?.(answered);
    },
  };

  /** @param options - see {@link TlsDestinationOptions}. */
  constructor(private readonly options: TlsDestinationOptions) {
    this.timers = {
      watchdogInterval: options.timers?.watchdogInterval ?? TLS_TIMER_DEFAULTS.watchdogInterval,
      watchdogTimeout: options.watchdogTimeout,
      idleTimeout: options.timers?.idleTimeout ?? TLS_TIMER_DEFAULTS.idleTimeout,
    };
    this.backoffMin = options.timers?.backoffMin ?? TLS_TIMER_DEFAULTS.backoffMin;
    this.backoffMax = options.timers?.backoffMax ?? TLS_TIMER_DEFAULTS.backoffMax;
  }

  /** Requests currently in flight. */
  get inFlight(): number {
    return this.jobs.size;
  }

  /** TLS connections open or opening. */
  get connectionCount(): number {
    return this.connections.length;
  }

  /** The failure of the last connection that carried no reply, while no connection has worked since. */
  get failure(): TlsFailure | undefined {
    return this.lastFailure;
  }

  /**
   * Sends a request and waits for a verified reply. Rejects with {@link ExchangeError}: `timeout` after
   * `request.timeout` ms, `unreachable` (TCP refused), `tls` (handshake or certificate; the
   * `TlsFailureReason` starts `detail`), `protocol-error` (RFC 7930), `socket` (connection lost and
   * no retry left), `closed`. Rejects with whatever `request.build` throws.
   */
  exchange(request: ExchangeRequest): Promise<ExchangeResult> {
    if (this.closed) return Promise.reject(new ExchangeError('closed', {}));
    return new Promise<ExchangeResult>((resolve, reject) => {
      const job: PendingJob = { request, startedAt: performance.now(), tries: 0, at: undefined, dropped: undefined, timer: undefined, done: false, resolve, reject };
      this.jobs.add(job);
      job.timer = setTimeout(() => this.timeout(job), request.timeout);
      this.dispatch(job);
    });
  }

  /** Fails what is pending with `closed` and closes the connections; resolves once their sockets closed. */
  close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.connections]) c.close();
    for (const job of [...this.jobs]) this.finish(job, new ExchangeError('closed', job.dropped ?? {}));
    return Promise.all(this.sockets).then(() => undefined);
  }

  /** Puts `job` on a connection with a free Identifier, opening one when none has. */
  private dispatch(job: PendingJob): void {
    let connection: TlsConnection | undefined;
    let identifier: number | undefined;
    for (const c of this.connections) {
      identifier = c.allocate();
      if (identifier !== undefined) {
        connection = c;
        break;
      }
    }
    if (!connection || identifier === undefined) {
      if (this.lastFailure && performance.now() < this.retryAt) {
        this.finish(job, new TlsExchangeError(this.lastFailure, { ...job.dropped }));
        return;
      }
      connection = this.connect();
      identifier = connection.allocate()!;
    }
    let built: { packet: Buffer; requestAuthenticator: Buffer };
    try {
      built = job.request.build(identifier);
    } catch (err) {
      this.finish(job, err);
      return;
    }
    job.tries++;
    job.request.onSend?.(job.tries);
    connection.start(job, identifier, built.packet, built.requestAuthenticator);
  }

  private connect(): TlsConnection {
    const { host, port, tls, secret, requireMessageAuthenticator, attributes } = this.options;
    const statusServer = (identifier: number) => {
      const requestAuthenticator = randomAuthenticator();
      // RFC 5997 §3: Status-Server carries a Message-Authenticator.
      const packet = encodeRequest({ code: Code.StatusServer, identifier, requestAuthenticator, attributes, secret, messageAuthenticator: true });
      return { packet, requestAuthenticator };
    };
    const connection = new TlsConnection(this.owner, host, port, tls, secret, requireMessageAuthenticator, statusServer, this.timers);
    this.connections.push(connection);
    const ended = connection.ended;
    this.sockets.add(ended);
    void ended.then(() => this.sockets.delete(ended));
    return connection;
  }

  private lost(connection: TlsConnection, jobs: PendingJob[], failure: TlsFailure | undefined): void {
    const i = this.connections.indexOf(connection);
    if (i >= 0) this.connections.splice(i, 1);
    if (this.closed) {
      for (const job of jobs) this.finish(job, new ExchangeError('closed', job.dropped ?? {}));
      return;
    }
    if (failure) {
      this.failures++;
      this.lastFailure = failure;
      const backoff = Math.min(this.backoffMax, this.backoffMin * 2 ** (this.failures - 1));
      this.retryAt = performance.now() + backoff * (0.5 + Math.random() / 2);
      for (const job of jobs) this.finish(job, new TlsExchangeError(failure, { ...job.dropped }));
      return;
    }
    // The connection worked and went away (server restart, idle close, dead watchdog, lost framing): the
    // requests on it go again on a new connection, rebuilt (RFC 6614 §2.5: never the same bytes again).
    for (const job of jobs) {
      const left = job.startedAt + job.request.timeout - performance.now();
      if (job.tries <= job.request.retries && left > 0) this.dispatch(job);
      else this.finish(job, new ExchangeError('socket', { ...job.dropped }, 'connection lost'));
    }
  }

  private drop(reason: DropReason, job?: Job): void {
    if (job) {
      const dropped = (job.dropped ??= {});
      dropped[reason] = (dropped[reason] ?? 0) + 1;
    }
    this.options.onDrop?.(reason);
  }

  private replied(job: PendingJob, verdict: ReturnType<typeof verifyReply> & { ok: true }): void {
    const { packet } = verdict;
    if (packet.code === PROTOCOL_ERROR) {
      const cause = errorCause(packet.attributes);
      this.finish(job, new ExchangeError('protocol-error', { ...job.dropped }, cause === undefined ? undefined : `Error-Cause ${cause}`));
      return;
    }
    this.finish(job, { packet, rttMs: performance.now() - job.startedAt, dropped: job.dropped ?? {} });
  }

  private timeout(job: PendingJob): void {
    const connection = job.at?.connection;
    this.finish(job, new ExchangeError('timeout', { ...job.dropped }));
    connection?.noReply();
  }

  private finish(job: PendingJob, outcome: ExchangeResult | unknown): void {
    if (job.done) return;
    job.done = true;
    if (job.timer) clearTimeout(job.timer);
    job.at?.connection.forget(job);
    this.jobs.delete(job);
    if (outcome instanceof Error || !isResult(outcome)) job.reject(outcome);
    else job.resolve(outcome);
  }
}

function isResult(value: unknown): value is ExchangeResult {
  return typeof value === 'object' && value !== null && 'packet' in value && 'rttMs' in value;
}
