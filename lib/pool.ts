/**
 * The server pool: the configured servers in order, which one to try next (failover, RFC 2865 §2.6),
 * hold-down (RFC 5080 §2.2.1 asks clients not to keep sending to a server that is down), and each
 * server's status and counters. No sockets and no timers here: time comes from an injectable clock, so
 * that hold-down can be tested without sleeping. The client (lib/client.ts) does the exchanges and tells
 * the pool what happened; the health watchdog (lib/health.ts) decides when a server is dead.
 *
 * @internal
 */
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { DropReason, ServerAttempt } from './errors';
import { RadiusConfigError } from './errors';
import type { NormalizedServer } from './options';
import type { Transport } from './transports';

/** Health of one server, from `RadiusClient.serverStatus()`. */
export interface ServerStatus {
  /** The server's configured name. */
  name: string;
  /** The server's configured address (`host[:port]`), trimmed. */
  address: string;
  /** `'up'` (answering or untried) or `'held-down'` (shown dead; tried last until `heldDownUntil`). */
  state: 'up' | 'held-down';
  /** Epoch milliseconds when a held-down server is tried in its place again. */
  heldDownUntil: number | undefined;
  /** Why the last exchange with this server failed, if it did. */
  lastError: string | undefined;
  /** Round trip of the last verified reply, in milliseconds. */
  lastRttMs: number | undefined;
  /** Counts since the client was created. */
  counters: {
    /** Access-Requests sent to this server (one per exchange; retransmissions are not counted here). */
    requests: number;
    /** Transmissions after the first of an exchange (the identical bytes sent again). */
    retransmissions: number;
    /** Verified Access-Accepts received. */
    accepts: number;
    /** Verified Access-Rejects received. */
    rejects: number;
    /** Verified Access-Challenges received. */
    challenges: number;
    /** Exchanges that ended without a valid reply for lack of time (or on a socket error other than unreachable). */
    timeouts: number;
    /** Exchanges failed by an ICMP unreachable error (nothing listening at the address and port). */
    unreachable: number;
    /** Datagrams received on this server's sockets and dropped instead of taken as a reply, by reason (RFC 2865 §3 "silently discarded"). */
    dropped: Partial<Record<DropReason, number>>;
    /**
     * Datagrams from this server that the kernel dropped before they could be read, because a socket's
     * receive buffer was full (Linux per-socket `drops`, summed host-wide as `RcvbufErrors`); read after a
     * retransmission or a timeout. Not in `dropped`: they never reached the client.
     */
    kernelDropped: number;
  };
}

/** One configured server and what the client knows about it. */
export interface ServerRuntime {
  /** The validated configuration. */
  config: NormalizedServer;
  /** Transports by resolved address (`''` for an IP-literal server). */
  transports: Map<string, Transport>;
  /** The host is an IP address: no lookup, one transport. */
  literal: boolean;
  /** Epoch ms (pool clock) until which the server is held down; undefined while up. */
  heldDownUntil: number | undefined;
  /** Status and counters, as `serverStatus()` reports them. */
  status: ServerStatus;
}

/** What the pool reports (the client re-emits these as its events). */
export interface PoolEvents {
  /** A server was shown dead and is held down until `until` (epoch ms). */
  'server-down'(payload: { server: string; reason: string; until: number }): void;
  /** A held-down server answered again. */
  'server-up'(payload: { server: string }): void;
}

const NO_SERVERS: ReadonlySet<ServerRuntime> = new Set();

/** A server's runtime before any exchange: up, no transport, counters at 0. */
function newRuntime(config: NormalizedServer): ServerRuntime {
  return {
    config,
    transports: new Map(),
    literal: isIP(config.host) !== 0,
    heldDownUntil: undefined,
    status: {
      name: config.name,
      address: config.address,
      state: 'up',
      heldDownUntil: undefined,
      lastError: undefined,
      lastRttMs: undefined,
      counters: { requests: 0, retransmissions: 0, accepts: 0, rejects: 0, challenges: 0, timeouts: 0, unreachable: 0, dropped: {}, kernelDropped: 0 },
    },
  };
}

/** The servers to try for one sign-in, in order, and which of them are only a last resort. */
export interface Choice {
  /** Servers in the order to try them: up ones first (in the given order), then held-down ones. */
  chosen: readonly ServerRuntime[];
  /** Held-down servers, tried only while no server has given a verified reply (empty when all are held down). */
  lastResort: ReadonlySet<ServerRuntime>;
}

/** The configured servers, their order, hold-down and status. */
export class ServerPool {
  /** Every server, in configured order (a new array after {@link ServerPool.replace}). */
  runtimes: readonly ServerRuntime[];
  /** Names of the servers, in configured order (a new array after {@link ServerPool.replace}). */
  names: readonly string[];
  private byName = new Map<string, ServerRuntime>();

  /**
   * @param servers - validated servers, names unique.
   * @param holdDown - milliseconds a dead server is held down; 0 disables hold-down.
   * @param events - told of servers going down and coming back.
   * @param now - the clock (epoch milliseconds); injectable for tests.
   */
  constructor(
    servers: readonly NormalizedServer[],
    readonly holdDown: number,
    private readonly events: PoolEvents,
    readonly now: () => number = Date.now,
  ) {
    this.runtimes = servers.map(newRuntime);
    this.names = this.runtimes.map((r) => r.config.name);
    for (const r of this.runtimes) this.byName.set(r.config.name, r);
  }

  /**
   * Replaces the server list (`RadiusClient.setServers`). A server whose validated configuration is
   * unchanged keeps its runtime: its sockets, status, counters and hold-down. Sign-ins in flight keep the
   * runtimes they chose, so they finish on the configuration they started with.
   *
   * @param servers - validated servers, names unique.
   * @returns the runtimes no longer in the list (removed or reconfigured): their transports are to be
   *   closed once idle.
   */
  replace(servers: readonly NormalizedServer[]): ServerRuntime[] {
    const kept = new Set<ServerRuntime>();
    const runtimes = servers.map((config) => {
      const old = this.byName.get(config.name);
      if (old && isDeepStrictEqual(old.config, config)) {
        kept.add(old);
        return old;
      }
      return newRuntime(config);
    });
    const retired = this.runtimes.filter((r) => !kept.has(r));
    this.runtimes = runtimes;
    this.names = runtimes.map((r) => r.config.name);
    this.byName = new Map(runtimes.map((r) => [r.config.name, r]));
    return retired;
  }

  /** The server named `name`; throws {@link RadiusConfigError} for a name that is not configured. */
  get(name: string): ServerRuntime {
    const r = this.byName.get(name);
    if (!r) throw new RadiusConfigError(`Unknown RADIUS server "${name}"`);
    return r;
  }

  /** The server named `name`, or undefined. */
  find(name: string): ServerRuntime | undefined {
    return this.byName.get(name);
  }

  /** True while `r` is held down (whatever its `final` option). */
  isHeldDown(r: ServerRuntime, now = this.now()): boolean {
    return r.heldDownUntil !== undefined && r.heldDownUntil > now;
  }

  /** True when `r` is held down and may be moved last (a `final` server never is). */
  private movable(r: ServerRuntime, now: number): boolean {
    return !r.config.final && this.isHeldDown(r, now);
  }

  /**
   * The servers to try, in order: `names` (default every server, in configured order) with held-down
   * servers moved last, keeping their relative order. A `final` server keeps its place even while held
   * down: nothing after it may stand in for it. Held-down servers are a last resort, tried only while no
   * server has answered; when every chosen server is held down, all are tried as if up.
   *
   * @throws RadiusConfigError for a name that is not configured.
   */
  choose(names?: readonly string[]): Choice {
    const now = this.now();
    const all = names === undefined ? this.runtimes : names.map((name) => this.get(name));
    let held: ServerRuntime[] | undefined;
    for (const r of all) if (this.movable(r, now)) (held ??= []).push(r);
    // Nothing held down (the usual case): the order as it is.
    if (!held) return { chosen: all, lastResort: NO_SERVERS };
    const chosen = [...all.filter((r) => !this.movable(r, now)), ...held];
    return { chosen, lastResort: held.length < all.length ? new Set(held) : NO_SERVERS };
  }

  /** The server after `chosen[i]` that failover moves to; once one `answered`, last-resort ones are skipped. */
  next(choice: Choice, i: number, answered: boolean): ServerRuntime | undefined {
    for (let j = i + 1; j < choice.chosen.length; j++) {
      const r = choice.chosen[j]!;
      if (!(answered && choice.lastResort.has(r))) return r;
    }
    return undefined;
  }

  /** A snapshot of every server's state and counters, in configured order. */
  snapshot(): ServerStatus[] {
    const now = this.now();
    return this.runtimes.map((r) => {
      const held = this.isHeldDown(r, now);
      return structuredClone({ ...r.status, state: held ? 'held-down' : 'up', heldDownUntil: held ? r.heldDownUntil : undefined });
    });
  }

  /** Records why the last exchange with `r` failed (`lastError`), without holding it down. */
  failed(r: ServerRuntime, attempt: Pick<ServerAttempt, 'reason' | 'detail'>): string {
    r.status.lastError = attempt.reason + (attempt.detail ? ` (${attempt.detail})` : '');
    return r.status.lastError;
  }

  /**
   * Holds `r` down for `holdDown` ms (nothing with `holdDown: 0`): it was shown dead. Emits `server-down`
   * when it was up; `server-down` and `server-up` alternate.
   */
  markDown(r: ServerRuntime, reason: string): void {
    if (this.holdDown <= 0) return;
    const wasUp = r.heldDownUntil === undefined;
    r.heldDownUntil = this.now() + this.holdDown;
    if (wasUp) this.events['server-down']({ server: r.config.name, reason, until: r.heldDownUntil });
  }

  /** `r` gave a verified reply: it is up (emits `server-up` when it was held down). */
  markUp(r: ServerRuntime): void {
    r.status.lastError = undefined;
    if (r.heldDownUntil !== undefined) {
      r.heldDownUntil = undefined;
      this.events['server-up']({ server: r.config.name });
    }
  }
}

