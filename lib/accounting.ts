/**
 * RadiusAccounting: sends Accounting-Requests (RFC 2866) to the servers' accounting addresses, in order,
 * over the same UDP transport as sign-in, and verifies each Accounting-Response. It never sees an HTTP
 * request (lib/session-accounting.ts maps web sessions onto it) and never decides a sign-in.
 *
 * Rules, as built and tested (test/accounting.*.test.ts):
 *
 * - **Packets.** Request Authenticator = MD5 over the packet and the shared secret (RFC 2866 §3); no
 *   Message-Authenticator in the request.
 * - **Replies.** Only an Accounting-Response whose Response Authenticator verifies is taken (RFC 2866 §3);
 *   a Message-Authenticator is checked when present but not required: an Accounting-Response grants
 *   nothing, so the forgery that BlastRADIUS (CVE-2024-3596) makes of an Access-Accept gains nothing here,
 *   and servers (FreeRADIUS among them) do not sign them by default.
 * - **Retransmission** (RFC 5080 §2.2.1, RFC 2866 §5.2). A server gets `retries + 1` packets, one every
 *   `timeout / (retries + 1)` ms. Each carries the Acct-Delay-Time of the moment it is sent, so each is a
 *   new packet with a new Identifier and Request Authenticator, never the same bytes again.
 * - **Failover.** The servers are tried in the given order until one answers; an unreachable server (ICMP)
 *   is left at once. When none answers, the promise rejects with `RadiusUnavailableError` (per server, why)
 *   and an `accounting-error` event says the same.
 *
 * @internal
 */
import createDebug from 'debug';
import { AttemptFailure, RadiusClosedError, RadiusUnavailableError, type DropReason, type RadiusError, type ServerAttempt } from './errors';
import type { NormalizedServer } from './options';
import {
  encodeAccountingAttributes,
  encodeAccountingRequest,
  type AcctStatusType,
  type AcctTerminateCause,
} from './protocol/accounting';
import { Code, MAX_ATTRIBUTE_VALUE_LENGTH } from './protocol/packet';
import { resolveHost } from './resolve';
import { ExchangeError } from './transport';
import { createTransport, type Transport } from './transports';

const debug = createDebug('passport-radius:accounting');

const ACCOUNTING_REPLY_CODES: readonly number[] = [Code.AccountingResponse];

/** Events about accounting, emitted by `RadiusClient` (and so by the strategy's `client`). No payload holds a secret. */
export interface AccountingEvents {
  /** A verified Accounting-Response arrived; `rttMs` is milliseconds from the packet it answers. */
  accounting: [{ server: string; username: string; sessionId: string; statusType: AcctStatusType; rttMs: number }];
  /**
   * An Accounting-Request got no verified Accounting-Response from any server (or could not be sent).
   * `error` is a `RadiusUnavailableError` whose `attempts` say, per server, why (a wrong shared secret shows as
   * no reply at all: servers drop requests they cannot verify). Sign-in and sign-out go on regardless.
   */
  'accounting-error': [{ username: string; sessionId: string; statusType: AcctStatusType; error: RadiusError }];
}

/** Where {@link RadiusAccounting} reports its events. */
export type AccountingEmit = <K extends keyof AccountingEvents>(event: K, ...args: AccountingEvents[K]) => void;

/** One accounting record to send (see {@link RadiusAccounting.send}). */
export interface AccountingRequest {
  /** `'Start'`, `'Stop'` or `'Interim-Update'` (Acct-Status-Type, RFC 2866 §5.1). */
  statusType: AcctStatusType;
  /** Acct-Session-Id: the same in every record of one session (RFC 2866 §5.5). 1 to 253 bytes. */
  sessionId: string;
  /** User-Name, as signed in. 1 to 253 bytes. */
  username: string;
  /** Names of the servers to try, in order. Default: every configured server, in configured order. */
  servers?: readonly string[];
  /** Seconds signed in (Acct-Session-Time, RFC 2866 §5.7); for Stop and Interim-Update. */
  sessionTime?: number;
  /** Why the session ended (Acct-Terminate-Cause, RFC 2866 §5.10); for Stop. */
  terminateCause?: AcctTerminateCause;
  /** Calling-Station-Id (RFC 2865 §5.31), e.g. the browser's IP address. Left out when the server configures one. */
  callingStationId?: string;
  /** Class values of the Access-Accept, echoed unmodified (RFC 2865 §5.25). */
  classes?: readonly Buffer[];
  /** When the event happened, epoch milliseconds; Acct-Delay-Time counts from it. Default: now. */
  eventTime?: number;
}

/** A record the server acknowledged. */
export interface AccountingResult {
  /** Name of the server whose Accounting-Response was verified. */
  server: string;
  /** Milliseconds from the packet that was answered to its verified reply. */
  rttMs: number;
}

function addDrops(into: Partial<Record<DropReason, number>>, from: Partial<Record<DropReason, number>>): void {
  for (const [reason, n] of Object.entries(from) as Array<[DropReason, number]>) into[reason] = (into[reason] ?? 0) + n;
}

/**
 * Sends accounting records for a set of servers (see the module rules above). Used by `RadiusClient`;
 * each server's records go to its `accountingAddress` with its shared secret, `timeout` and `retries`.
 */
export class RadiusAccounting {
  private readonly byName = new Map<string, NormalizedServer>();
  /** `ip|port` → the transport for that accounting address, created on first use. */
  private readonly destinations = new Map<string, Transport>();
  private closed = false;

  /**
   * @param servers - the validated servers, in configured order.
   * @param emit - where `accounting` and `accounting-error` events go.
   * @param onDrop - told of every dropped datagram, by server and reason.
   */
  constructor(
    private readonly servers: readonly NormalizedServer[],
    private readonly emit: AccountingEmit,
    private readonly onDrop: (server: string, reason: DropReason) => void = () => {},
  ) {
    for (const s of servers) this.byName.set(s.name, s);
  }

  /**
   * Sends one record and waits for its Accounting-Response, trying the servers in order.
   *
   * @returns the server that acknowledged it.
   * @throws RadiusUnavailableError when no server acknowledged it (also emitted as `accounting-error`);
   *   RadiusClosedError after close(); RangeError for a session id or user name over 253 bytes, or
   *   Class values that do not fit one packet.
   */
  async send(request: AccountingRequest): Promise<AccountingResult> {
    if (this.closed) throw new RadiusClosedError();
    for (const [what, value] of [['Acct-Session-Id', request.sessionId], ['User-Name', request.username]] as const) {
      const size = Buffer.byteLength(value, 'utf8');
      if (size === 0 || size > MAX_ATTRIBUTE_VALUE_LENGTH) throw new RangeError(`${what} must be 1 to 253 bytes`);
    }
    const names = request.servers ?? this.servers.map((s) => s.name);
    const attempts: ServerAttempt[] = [];
    const eventTime = request.eventTime ?? Date.now();
    try {
      for (const name of names) {
        const server = this.byName.get(name);
        if (!server) continue;
        try {
          const result = await this.sendTo(server, request, eventTime);
          debug('%s: Accounting-Response to %s for %o (session %s) in %d ms', name, request.statusType, request.username, request.sessionId, Math.round(result.rttMs));
          this.emit('accounting', { server: name, username: request.username, sessionId: request.sessionId, statusType: request.statusType, rttMs: result.rttMs });
          return result;
        } catch (err) {
          if (!(err instanceof AttemptFailure)) throw err;
          attempts.push(err.attempt);
          debug('%s: no Accounting-Response to %s for %o (%s)', name, request.statusType, request.username, err.attempt.reason);
        }
      }
      throw new RadiusUnavailableError(attempts);
    } catch (err) {
      const error = err instanceof RadiusUnavailableError || err instanceof RadiusClosedError ? err : undefined;
      if (error) {
        debug('%s for %o (session %s) not acknowledged: %s', request.statusType, request.username, request.sessionId, error.message);
        this.emit('accounting-error', { username: request.username, sessionId: request.sessionId, statusType: request.statusType, error });
      }
      throw err;
    }
  }

  /** Closes the sockets; pending records reject with RadiusClosedError. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const closing = [...this.destinations.values()].map((d) => d.close());
    this.destinations.clear();
    await Promise.all(closing);
  }

  /** The transport to a server's accounting address, resolving a host name at each use. */
  private async destination(server: NormalizedServer): Promise<Transport> {
    let ip: string;
    try {
      ip = await resolveHost(server.accountingHost, server.timeout);
    } catch (err) {
      const detail = (err as NodeJS.ErrnoException).code ?? 'lookup failed';
      throw new AttemptFailure({ server: server.name, reason: 'dns', dropped: {}, detail, transport: server.transport });
    }
    if (this.closed) throw new RadiusClosedError();
    const key = `${ip}|${server.accountingPort}`;
    let d = this.destinations.get(key);
    if (!d) {
      d = createTransport(
        server,
        ip,
        (reason) => {
          debug('%s: dropped a datagram on the accounting port (%s)', server.name, reason);
          this.onDrop(server.name, reason);
        },
        server.accountingPort,
      );
      this.destinations.set(key, d);
    }
    return d;
  }

  /**
   * Up to `retries + 1` packets to one server, each waiting `timeout / (retries + 1)` ms, each with the
   * current Acct-Delay-Time and so a new Identifier (RFC 5080 §2.2.1). Throws AttemptFailure.
   */
  private async sendTo(server: NormalizedServer, request: AccountingRequest, eventTime: number): Promise<AccountingResult> {
    const destination = await this.destination(server);
    const slot = server.timeout / (server.retries + 1);
    const dropped: Partial<Record<DropReason, number>> = {};
    const fields = {
      statusType: request.statusType,
      sessionId: request.sessionId,
      username: request.username,
      eventTimestamp: Math.floor(eventTime / 1000),
      nasAttributes: server.attributes,
      ...(request.sessionTime !== undefined ? { sessionTime: request.sessionTime } : {}),
      ...(request.terminateCause !== undefined ? { terminateCause: request.terminateCause } : {}),
      ...(request.callingStationId ? { callingStationId: request.callingStationId } : {}),
      ...(request.classes ? { classes: request.classes } : {}),
    };
    for (let attempt = 1; attempt <= server.retries + 1; attempt++) {
      const delaySeconds = Math.max(0, Math.floor((Date.now() - eventTime) / 1000));
      const attributes = encodeAccountingAttributes({ ...fields, delaySeconds });
      try {
        const reply = await destination.exchange({
          build: (identifier) => encodeAccountingRequest(identifier, attributes, server.secret),
          secret: server.secret,
          requireMessageAuthenticator: false,
          expectCodes: ACCOUNTING_REPLY_CODES,
          timeout: slot,
          retries: 0,
          onSend: () => debug('%s: Accounting-Request %s for %o, packet %d, Acct-Delay-Time %d', server.name, request.statusType, request.username, attempt, delaySeconds),
        });
        return { server: server.name, rttMs: reply.rttMs };
      } catch (err) {
        if (!(err instanceof ExchangeError)) throw err;
        if (err.reason === 'closed') throw new RadiusClosedError();
        addDrops(dropped, err.dropped);
        if (err.reason !== 'timeout') {
          throw new AttemptFailure({ server: server.name, reason: err.reason, dropped, ...(err.detail ? { detail: err.detail } : {}), transport: server.transport });
        }
      }
    }
    throw new AttemptFailure({ server: server.name, reason: 'timeout', dropped, transport: server.transport });
  }
}
