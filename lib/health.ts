/**
 * Server health: a server is held down only on evidence that it is dead, never because one request waited
 * long (a push sign-in waits for the user's phone, often 10–30 s, while the server answers everyone else).
 *
 * Evidence, as built and tested (test/health.*.test.ts):
 *
 * - **Heard.** Any verified reply from a server (to a sign-in or to a watchdog) proves it alive. A request
 *   that times out after the server answered anything since that request went out holds nothing down.
 * - **Watchdog** (RFC 5997 §4.4 "Status-Server as a watchdog"). While requests are pending at a server and
 *   nothing has been heard from it for `watchAfter` ms (⅟₄ of its `timeout`, at most 1 s), the client asks
 *   it directly, from a fresh transport (a new source port): a Status-Server, and — until the server has
 *   answered one — at the same time an Access-Request for a random user name that cannot exist (servers
 *   that do not answer Status-Server, e.g. FreeRADIUS by default, answer that with an Access-Reject). Each
 *   waits `checkTimeout` ms (⅟₄ of `timeout`, at most 2 s), without retransmission. A verified reply (the
 *   Response Authenticator proves the shared secret; nobody is signed in by it, so an unsigned one counts)
 *   means alive; none means dead, and the server is held down (`holdDown` ms): new sign-ins try it last.
 *   So a server that answers nothing is held down within about 3 s, whatever its `timeout`.
 * - **Pending requests stay pending.** The watchdog never fails a request: a request still inside its
 *   timeout keeps waiting at its server, and failover happens only when it times out (or fails).
 * - **TLS connection watchdog** (lib/transport-tls.ts). An idle RadSec connection asks its server with
 *   Status-Server every 30 s. A verified answer counts as heard; an unanswered one (the connection is then
 *   closed) starts the watchdog here, from a fresh connection, so a server that hangs while nobody signs in
 *   is held down before a sign-in waits for it.
 * - **ICMP.** A port unreachable is easy to forge off-path (Linux matches it to a connected socket by
 *   addresses and ports only). It may end the requests pending on that one socket, as a timeout would,
 *   but holds nothing down by itself: the watchdog, from a fresh source port, confirms first. A port that
 *   is really closed answers the watchdog with ICMP at once, so it is still held down within milliseconds.
 *
 * With `holdDown: 0` nothing is held down, so no watchdog runs.
 *
 * @internal
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import createDebug from 'debug';
import type { ServerAttempt } from './errors';
import type { ServerPool, ServerRuntime } from './pool';
import { Code } from './protocol/packet';
import { buildAccessRequest, buildStatusServer } from './request';
import { resolveHost } from './resolve';
import { ExchangeError, type ExchangeRequest } from './transport';
import { createTransport, type Transport } from './transports';

const debug = createDebug('passport-radius:health');

/** Longest wait, after requests went out unanswered, before the watchdog asks (ms). */
const WATCH_AFTER_MAX_MS = 1000;
/** Longest wait for a watchdog's reply (ms). */
const CHECK_TIMEOUT_MAX_MS = 2000;

/** What the watchdog found: alive, or dead with the reason its requests failed. */
export type Verdict = { alive: true } | { alive: false; reason: ServerAttempt['reason']; detail?: string };

/** What the monitor keeps per server. */
interface HealthState {
  /** `performance.now()` of the last verified reply of any kind; -Infinity before the first. */
  lastHeardAt: number;
  /** Whether the server answers Status-Server: unknown until a watchdog found out. */
  statusServer: boolean | undefined;
  /** Requests in flight at this server. */
  pending: number;
  /** Timer that looks for silence while requests are pending. */
  timer: NodeJS.Timeout | undefined;
  /** `performance.now()` when the timer was armed. */
  armedAt: number;
  /** The watchdog in progress, if any. */
  check: Promise<Verdict> | undefined;
}

/** `watchAfter` and `checkTimeout` of a server (see the module notes), in ms. */
export function watchdogTiming(timeout: number): { watchAfter: number; checkTimeout: number } {
  return {
    watchAfter: Math.max(1, Math.min(WATCH_AFTER_MAX_MS, timeout / 4)),
    checkTimeout: Math.max(1, Math.min(CHECK_TIMEOUT_MAX_MS, timeout / 4)),
  };
}

/** Decides, on evidence, when a server is dead (see the module notes). */
export class HealthMonitor {
  /** Per server; a WeakMap so that servers removed by `setServers` are forgotten. */
  private readonly states = new WeakMap<ServerRuntime, HealthState>();
  /** Servers with a health timer armed, so that close() can clear them. */
  private readonly armed = new Set<HealthState>();
  /** Watchdog transports still open, so that close() can close them. */
  private readonly open = new Set<Transport>();
  private closed = false;

  /** @param pool - the servers; hold-down goes through it. */
  constructor(private readonly pool: ServerPool) {}

  /** The state of `r`, created on first use (servers may be replaced at run time: `setServers`). */
  private state(r: ServerRuntime): HealthState {
    let s = this.states.get(r);
    if (!s) {
      s = { lastHeardAt: Number.NEGATIVE_INFINITY, statusServer: undefined, pending: 0, timer: undefined, armedAt: 0, check: undefined };
      this.states.set(r, s);
    }
    return s;
  }

  /** Hold-down is on: watchdogs are worth running. */
  private get enabled(): boolean {
    return this.pool.holdDown > 0 && !this.closed;
  }

  /** A request goes out to `r`; returns its start time (`performance.now()`), for {@link heardSince}. */
  requestStarted(r: ServerRuntime): number {
    const s = this.state(r);
    s.pending++;
    const now = performance.now();
    if (this.enabled && s.timer === undefined) this.arm(r, s, now);
    return now;
  }

  /** A request at `r` ended (answered or failed). */
  requestEnded(r: ServerRuntime): void {
    this.state(r).pending--;
  }

  private arm(r: ServerRuntime, s: HealthState, now: number): void {
    s.armedAt = now;
    s.timer = setTimeout(() => this.look(r, s), watchdogTiming(r.config.timeout).watchAfter);
    this.armed.add(s);
    // Only pending requests keep the process alive, never the health timer.
    s.timer.unref();
  }

  /** The timer: requests pending and nothing heard since it was armed → ask the server. */
  private look(r: ServerRuntime, s: HealthState): void {
    s.timer = undefined;
    this.armed.delete(s);
    if (s.pending <= 0 || !this.enabled) return;
    // A held-down server is not asked again until it is tried and answers (or its hold-down ends).
    if (s.lastHeardAt < s.armedAt && s.check === undefined && !this.pool.isHeldDown(r)) void this.confirm(r);
    this.arm(r, s, performance.now());
  }

  /** A verified reply from `r`: alive (a held-down server comes back up). */
  heard(r: ServerRuntime): void {
    this.state(r).lastHeardAt = performance.now();
    this.pool.markUp(r);
  }

  /** True when `r` gave any verified reply since `since` (a `performance.now()` time). */
  heardSince(r: ServerRuntime, since: number): boolean {
    return this.state(r).lastHeardAt >= since;
  }

  /**
   * Runs the watchdog at `r` (or joins the one in progress) and holds `r` down when it is dead. Resolves
   * with the verdict; `{ alive: true }` without asking when hold-down is off.
   */
  confirm(r: ServerRuntime): Promise<Verdict> {
    if (!this.enabled) return Promise.resolve({ alive: true });
    const s = this.state(r);
    if (s.check) return s.check;
    const check = this.watchdog(r, s).then((verdict) => {
      s.check = undefined;
      if (this.closed) return verdict;
      if (verdict.alive) {
        this.heard(r);
      } else {
        const lastError = this.pool.failed(r, verdict);
        debug('%s: watchdog unanswered (%s): holding it down', r.config.name, lastError);
        this.pool.markDown(r, lastError);
      }
      return verdict;
    });
    s.check = check;
    return check;
  }

  /** One watchdog round: Status-Server (and, until it is known to be answered, an Access-Request). */
  private async watchdog(r: ServerRuntime, s: HealthState): Promise<Verdict> {
    const { config } = r;
    const { checkTimeout } = watchdogTiming(config.timeout);
    let ip: string;
    try {
      ip = await resolveHost(config.host, checkTimeout);
    } catch (err) {
      return { alive: false, reason: 'dns', detail: (err as NodeJS.ErrnoException).code ?? 'lookup failed' };
    }
    if (this.closed) return { alive: true };
    // A fresh transport: a new source port, which an off-path attacker's forged ICMP has not targeted.
    const transport = createTransport(config, ip, () => {});
    this.open.add(transport);
    const base = { secret: config.secret, requireMessageAuthenticator: false, timeout: checkTimeout, retries: 0 };
    const statusServer: ExchangeRequest = {
      ...base,
      build: (identifier) => buildStatusServer(config, identifier),
      // RFC 5997 §3: Access-Accept; a verified Access-Reject proves life just as well.
      expectCodes: [Code.AccessAccept, Code.AccessReject],
    };
    const username = Buffer.from(`passport-radius-watchdog-${randomBytes(8).toString('hex')}`, 'utf8');
    const password = randomBytes(16);
    const accessRequest: ExchangeRequest = {
      ...base,
      build: (identifier) => buildAccessRequest({ server: config, username, password, chap: config.protocol === 'chap' }, identifier),
      expectCodes: [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge],
    };
    const ss = s.statusServer !== false ? transport.exchange(statusServer) : undefined;
    const ar = s.statusServer !== true ? transport.exchange(accessRequest) : undefined;
    const asks = [ss, ar].filter((a): a is NonNullable<typeof a> => a !== undefined);
    debug('%s: watchdog (%s)', config.name, s.statusServer === undefined ? 'Status-Server and Access-Request' : s.statusServer ? 'Status-Server' : 'Access-Request');
    try {
      await Promise.any(asks);
      return { alive: true };
    } catch (err) {
      const errors = (err as AggregateError).errors as unknown[];
      const failures = errors.filter((e): e is ExchangeError => e instanceof ExchangeError);
      if (failures.some((e) => e.reason === 'closed')) return { alive: true }; // closing: no verdict
      const icmp = failures.find((e) => e.reason === 'unreachable');
      const socket = failures.find((e) => e.reason === 'socket');
      const why = icmp ?? socket;
      return why ? { alive: false, reason: why.reason as 'unreachable' | 'socket', ...(why.detail ? { detail: why.detail } : {}) } : { alive: false, reason: 'timeout' };
    } finally {
      // Let the other ask settle, and learn from both whether Status-Server is answered; then close.
      void Promise.allSettled([ss, ar]).then(([ssResult, arResult]) => {
        if (ss && ssResult.status === 'fulfilled') s.statusServer = true;
        else if (ss && ar && arResult.status === 'fulfilled' && isTimeout(ssResult)) s.statusServer = false;
        this.open.delete(transport);
        return transport.close();
      });
    }
  }

  /** Stops the timers and closes the watchdogs' sockets. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.armed) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
    }
    this.armed.clear();
    await Promise.all([...this.open].map((t) => t.close()));
    this.open.clear();
  }
}

function isTimeout(result: PromiseSettledResult<unknown>): boolean {
  return result.status === 'rejected' && result.reason instanceof ExchangeError && result.reason.reason === 'timeout';
}
