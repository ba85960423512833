/**
 * Watches every configured RADIUS server with `probe` (Status-Server, RFC 5997, then an Access-Request for
 * a user that cannot exist) at a fixed interval, so that a server that stops answering raises an alert even
 * when nobody signs in, and the servers page shows each server's last test.
 */
import { probe, type ProbeResult } from '../lib';
import type { AlertLog } from './alerts';
import { toServerOptions, type ServerSetting } from './settings';

/** The last test of one server. */
export interface Health {
  /** The probe's outcome (its `message` is the sentence to show). */
  result: ProbeResult;
  /** Epoch milliseconds of the test. */
  at: number;
}

/** Periodic reachability tests of the configured servers. */
export class ServerMonitor {
  private readonly health = new Map<string, Health>();
  /** Server name → its address and secret when last tested: a change starts its history afresh. */
  private readonly tested = new Map<string, string>();
  private servers: ServerSetting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  /** @param intervalMs - time between two rounds of tests; 0 tests only when {@link ServerMonitor.checkNow} is called. */
  constructor(
    private readonly log: AlertLog,
    private readonly intervalMs: number,
  ) {}

  /** Replaces the servers to watch (called whenever the settings change). */
  setServers(servers: readonly ServerSetting[]): void {
    this.servers = [...servers];
    const names = new Set(servers.map((s) => s.name));
    for (const name of [...this.health.keys()]) if (!names.has(name)) this.health.delete(name);
    for (const s of servers) {
      const identity = JSON.stringify([s.address, s.secret, s.protocol, s.attributes]);
      if (this.tested.get(s.name) !== identity) {
        this.tested.set(s.name, identity);
        this.health.delete(s.name);
      }
    }
  }

  /** The last test of `name`, if any. */
  get(name: string): Health | undefined {
    return this.health.get(name);
  }

  /** Starts testing every `intervalMs` (the first round at once). */
  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    void this.checkNow();
    this.timer = setInterval(() => void this.checkNow(), this.intervalMs);
    this.timer.unref();
  }

  /** Tests every server now (a round already running is awaited instead). */
  checkNow(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer; a round in progress finishes. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async round(): Promise<void> {
    await Promise.all(
      this.servers.map(async (server) => {
        let result: ProbeResult;
        try {
          result = await probe(toServerOptions(server));
        } catch {
          return; // invalid settings never reach here: they are refused when saved
        }
        if (!this.servers.includes(server)) return; // removed or changed while testing
        const before = this.health.get(server.name)?.result.status;
        this.health.set(server.name, { result, at: Date.now() });
        if (result.status === 'failed' && before !== 'failed') this.log.add('error', `${server.name} (${server.address}) failed its reachability test: ${result.message}`);
        if (result.status === 'reachable' && before === 'failed') this.log.add('notice', `${server.name} (${server.address}) is reachable again`);
      }),
    );
  }
}

/** A probe result as the console shows it: `'Reachable (3 ms)'` or `'Failed: why'`, with any warnings. */
export function describeProbe(result: ProbeResult): { state: 'reachable' | 'failed'; text: string; warnings: string[] } {
  const warnings = 'warnings' in result && Array.isArray(result.warnings) ? result.warnings.map(String) : [];
  if (result.status === 'reachable') return { state: 'reachable', text: `Reachable (${Math.max(1, Math.round(result.rttMs))} ms)`, warnings };
  return { state: 'failed', text: `Failed: ${result.message}`, warnings };
}
