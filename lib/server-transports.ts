/**
 * The client's transports to its servers: one per server address (per resolved address for a server
 * configured by host name), created on first use through the one factory (lib/transports.ts), counted
 * drops, the sockets of an address a host name no longer resolves to let go once idle, the sockets of
 * servers retired by `setServers` closed once idle (lib/retire.ts), and every closing awaited by `close()`.
 *
 * @internal
 */
import createDebug from 'debug';
import { AttemptFailure, RadiusClosedError, type DropReason } from './errors';
import type { HealthMonitor } from './health';
import type { ServerRuntime } from './pool';
import { resolveHost } from './resolve';
import { RetiredServers } from './retire';
import { createTransport, type Transport } from './transports';

const debug = createDebug('passport-radius:client');

/** The transports of one client's servers (see the module notes). */
export class ServerTransports {
  private closed = false;
  /** Transports being closed (idle ones of an old address, retired ones), until their sockets have closed. */
  private readonly closing = new Set<Promise<void>>();
  /** Servers taken out by `setServers`: their transports close once idle. */
  private readonly retired = new RetiredServers((closing) => this.track(closing));

  /**
   * @param onDrop - told of every datagram dropped on a server's transport (the client emits `'dropped'`).
   * @param health - told what a TLS connection's own watchdog found: an answer is life; an unanswered one
   *   makes it confirm from a fresh connection, and hold the server down if that goes unanswered too.
   */
  constructor(
    private readonly onDrop: (server: string, reason: DropReason) => void,
    private readonly health: Pick<HealthMonitor, 'heard' | 'confirm'>,
  ) {}

  /**
   * The transport for `ip` (the server's address, resolved), created on first use.
   *
   * @throws RadiusClosedError after {@link ServerTransports.close}.
   */
  get(runtime: ServerRuntime, ip: string): Transport {
    if (this.closed) throw new RadiusClosedError();
    const key = runtime.literal ? '' : ip;
    let t = runtime.transports.get(key);
    if (!t) {
      // The name now resolves elsewhere: let go of idle sockets to the old address(es).
      for (const [oldKey, old] of runtime.transports) {
        if (old.inFlight === 0) {
          this.track(old.close());
          runtime.transports.delete(oldKey);
        }
      }
      t = createTransport(
        runtime.config,
        ip,
        (reason) => {
          runtime.status.counters.dropped[reason] = (runtime.status.counters.dropped[reason] ?? 0) + 1;
          debug('%s: dropped a datagram (%s)', runtime.config.name, reason);
          this.onDrop(runtime.config.name, reason);
        },
        runtime.config.port,
        (count) => {
          runtime.status.counters.kernelDropped += count;
          debug('%s: the kernel dropped %d datagram(s) from this server: receive buffer full (RcvbufErrors; a flood?)', runtime.config.name, count);
        },
        (answered) => {
          debug('%s: TLS connection watchdog %s', runtime.config.name, answered ? 'answered' : 'unanswered: confirming');
          if (answered) this.health.heard(runtime);
          else void this.health.confirm(runtime);
        },
      );
      runtime.transports.set(key, t);
      this.retired.opened(runtime);
    }
    return t;
  }

  /**
   * The transport of a server configured by host name, after resolving the name (at use, with the
   * server's `timeout`).
   *
   * @throws AttemptFailure with reason `'dns'` when the name does not resolve.
   */
  async resolve(runtime: ServerRuntime): Promise<Transport> {
    let ip: string;
    try {
      ip = await resolveHost(runtime.config.host, runtime.config.timeout);
    } catch (err) {
      const detail = (err as NodeJS.ErrnoException).code ?? 'lookup failed';
      throw new AttemptFailure({ server: runtime.config.name, reason: 'dns', dropped: {}, detail, transport: runtime.config.transport });
    }
    return this.get(runtime, ip);
  }

  /** Takes `runtimes` (replaced by `setServers`) out of service: their transports close once idle. */
  retire(runtimes: readonly ServerRuntime[]): void {
    this.retired.retire(runtimes);
  }

  /** Closes the transports of `runtimes` and of retired servers; resolves once every socket has closed. */
  async close(runtimes: readonly ServerRuntime[]): Promise<void> {
    this.closed = true;
    const closing: Array<Promise<void>> = [];
    for (const r of [...runtimes, ...this.retired.remaining()]) {
      for (const t of r.transports.values()) closing.push(t.close());
      r.transports.clear();
    }
    await Promise.all([...closing, ...this.closing]);
  }

  /** Keeps a transport's closing until its socket has closed (close() waits for it). */
  private track(closing: Promise<void>): void {
    this.closing.add(closing);
    void closing.then(() => this.closing.delete(closing));
  }
}
