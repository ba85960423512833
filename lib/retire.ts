/**
 * Servers taken out of a client's list by `setServers`: their transports (sockets) close once nothing is
 * in flight on them. Sign-ins in flight may still use them — including failing over to one of them, which
 * opens a transport again — so a retired server is watched until it has no transport left.
 *
 * @internal
 */
import type { ServerRuntime } from './pool';

/** How often transports of retired servers are checked for being idle, in ms. */
const SWEEP_INTERVAL_MS = 50;

/** The retired servers of one client. */
export class RetiredServers {
  /** Every runtime ever retired (a sign-in in flight may open a transport on one later). */
  private readonly retired = new WeakSet<ServerRuntime>();
  /** Retired runtimes that still have transports. */
  private readonly open = new Set<ServerRuntime>();
  private timer: NodeJS.Timeout | undefined;

  /** @param closing - given each transport's `close()` promise (the client awaits them in its own close). */
  constructor(private readonly closing: (done: Promise<void>) => void) {}

  /** Takes `runtimes` out of service: idle transports close now, busy ones once idle. */
  retire(runtimes: readonly ServerRuntime[]): void {
    for (const r of runtimes) {
      this.retired.add(r);
      this.open.add(r);
    }
    this.sweep();
  }

  /** Called when a transport was opened on `runtime`: a retired one is watched again. */
  opened(runtime: ServerRuntime): void {
    if (!this.retired.has(runtime)) return;
    this.open.add(runtime);
    this.schedule();
  }

  /** The retired runtimes that still have transports (the client closes them in its own close). */
  remaining(): ServerRuntime[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    const left = [...this.open];
    this.open.clear();
    return left;
  }

  private sweep(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const r of this.open) {
      for (const [key, transport] of r.transports) {
        if (transport.inFlight > 0) continue;
        r.transports.delete(key);
        this.closing(transport.close());
      }
      if (r.transports.size === 0) this.open.delete(r);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.open.size === 0 || this.timer) return;
    this.timer = setTimeout(() => this.sweep(), SWEEP_INTERVAL_MS);
    // Nothing to wait for: a busy transport keeps the process alive by itself while it is busy.
    this.timer.unref();
  }
}
