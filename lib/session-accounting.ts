/**
 * One RADIUS accounting session per signed-in web session (RFC 2866): Start once Passport's `req.logIn`
 * has established the session, Interim-Update from requests when due, Stop from `strategy.endSession()`.
 * The record that ties them together lives in the web session; the exchange is the client's
 * (`RadiusClient.account`). Accounting never delays or fails a sign-in or a sign-out: nothing here waits
 * for a reply, and failures become `accounting-error` events on the strategy's `client`.
 *
 * @internal
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import createDebug from 'debug';
import type { AcceptResult, RadiusClient } from './client';
import { booleanOption, numberOption, type OptionSpec } from './option-schema';
import { ACCT_TERMINATE_CAUSE, AcctAttr, type AcctStatusType, type AcctTerminateCause } from './protocol/accounting';

const debug = createDebug('passport-radius:accounting');

/** Strategy options about accounting (part of the strategy's options). */
export interface AccountingStrategyOptions {
  /**
   * Send RADIUS accounting (RFC 2866) for each signed-in web session: Start after sign-in, Stop from
   * `strategy.endSession(req)`, to each server's `accountingAddress` (default port 1813), with failover.
   * Needs a session (express-session). Default `false`.
   */
  accounting?: boolean;
  /**
   * Milliseconds between Interim-Update records (1000 to 86400000), sent by `strategy.accountingMiddleware()`
   * from a request of a signed-in session once this much time has passed since the Start or the last
   * Interim-Update. Requires `accounting: true`. Default: none (no Interim-Update).
   */
  accountingInterim?: number;
}

/** The schema entries of {@link AccountingStrategyOptions} (part of the strategy's option schema). */
export const ACCOUNTING_STRATEGY_OPTIONS = {
  accounting: booleanOption(false),
  accountingInterim: {
    parse(value: unknown, label: string): number | undefined {
      if (value === undefined) return undefined;
      return numberOption(0, 1000, 86_400_000, true).parse(value, label);
    },
  },
} satisfies { [K in keyof Required<AccountingStrategyOptions>]: OptionSpec<unknown> };

/** Options of `strategy.endSession(req, options)`. */
export interface EndSessionOptions {
  /**
   * Acct-Terminate-Cause of the Stop (RFC 2866 §5.10): `'User-Request'`, `'Idle-Timeout'`,
   * `'Session-Timeout'` or `'Admin-Reset'`. Default `'User-Request'`.
   */
  cause?: AcctTerminateCause;
}

/**
 * The accounting record kept in the web session under `<sessionKey>Accounting` (e.g. `radiusAccounting`):
 * plain JSON, never a password, code, shared secret or State.
 */
export interface AccountingRecord {
  /** Acct-Session-Id of this web session (16 hexadecimal digits, random). */
  sessionId: string;
  /** Name of the server that accepted the sign-in; its accounting address is tried first. */
  server: string;
  /** User-Name as signed in. */
  username: string;
  /** When the session was established, epoch milliseconds (Acct-Session-Time counts from here). */
  startedAt: number;
  /** Class values of the Access-Accept, base64, in order (echoed in every record, RFC 2865 §5.25). */
  classes: string[];
  /** Calling-Station-Id sent in the Start (the browser's IP address), when known. */
  callingStationId?: string;
  /** When the last Interim-Update was sent, epoch milliseconds. */
  interimAt?: number;
}

type Session = Record<string, unknown>;

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TypeError(`RadiusStrategy: ${message}`);
}

/** The browser's address as Calling-Station-Id: `req.ip`, an IPv4-mapped IPv6 address written as IPv4. */
function callingStation(req: Request): string | undefined {
  const ip = req.ip;
  if (typeof ip !== 'string' || ip === '') return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped && isIP(mapped[1]!) === 4 ? mapped[1] : ip;
}

function sessionOf(req: Request): Session | undefined {
  return (req as unknown as { session?: Session }).session;
}

function readRecord(session: Session | undefined, key: string): AccountingRecord | undefined {
  const r = session?.[key] as Partial<AccountingRecord> | undefined;
  if (typeof r !== 'object' || r === null) return undefined;
  if (typeof r.sessionId !== 'string' || typeof r.server !== 'string' || typeof r.username !== 'string') return undefined;
  if (typeof r.startedAt !== 'number' || !Array.isArray(r.classes) || !r.classes.every((c) => typeof c === 'string')) return undefined;
  return r as AccountingRecord;
}

/**
 * The accounting side of one strategy. Built by the strategy when `accounting` is on; sends through the
 * strategy's client, so its events (`accounting`, `accounting-error`) come from `strategy.client`.
 */
export class SessionAccounting {
  private readonly key: string;

  private constructor(
    private readonly client: RadiusClient,
    sessionKey: string,
    private readonly interimMs: number | undefined,
  ) {
    this.key = `${sessionKey}Accounting`;
  }

  /**
   * The accounting of a strategy whose options were validated; undefined when accounting is off.
   *
   * @throws TypeError when `accountingInterim` is set without `accounting: true`.
   */
  static fromOptions(options: { accounting: boolean; accountingInterim: number | undefined }, client: RadiusClient, sessionKey: string): SessionAccounting | undefined {
    check(options.accountingInterim === undefined || options.accounting, 'accountingInterim requires accounting: true');
    return options.accounting ? new SessionAccounting(client, sessionKey, options.accountingInterim) : undefined;
  }

  /**
   * Called on the way to `success()` after a verified Access-Accept; returns what to do once `req.logIn`
   * has established the session: keep a new record in it and send Start. A record already in the session
   * (signing in again without signing out) is ended first with a Stop.
   */
  onSignIn(req: Request, username: string, accept: AcceptResult): (session: Session) => void {
    const previous = readRecord(sessionOf(req), this.key);
    const classes = accept.rawAttributes.filter((a) => a.type === AcctAttr.Class).map((a) => a.value.toString('base64'));
    const callingStationId = callingStation(req);
    return (session) => {
      if (previous) this.stop(previous, 'User-Request');
      const record: AccountingRecord = {
        sessionId: randomBytes(8).toString('hex').toUpperCase(),
        server: accept.server,
        username,
        startedAt: Date.now(),
        classes,
        ...(callingStationId !== undefined ? { callingStationId } : {}),
      };
      session[this.key] = record;
      this.send('Start', record);
    };
  }

  /**
   * Ends the accounting session of `req` (see `RadiusStrategy.endSession`): clears the record and sends
   * Stop without waiting for the reply.
   */
  end(req: Request, options: EndSessionOptions = {}): Promise<void> {
    const cause = options.cause ?? 'User-Request';
    check(Object.hasOwn(ACCT_TERMINATE_CAUSE, cause), `endSession: cause must be one of ${Object.keys(ACCT_TERMINATE_CAUSE).join(', ')}`);
    const session = sessionOf(req);
    const record = readRecord(session, this.key);
    if (session && record) {
      delete session[this.key];
      this.stop(record, cause);
    }
    return Promise.resolve();
  }

  /** The middleware behind `strategy.accountingMiddleware()`: Interim-Update when due, never waiting. */
  middleware(): RequestHandler {
    return (req: Request, _res: Response, next: NextFunction): void => {
      const session = sessionOf(req);
      const record = this.interimMs === undefined ? undefined : readRecord(session, this.key);
      const now = Date.now();
      if (session && record && now - (record.interimAt ?? record.startedAt) >= this.interimMs!) {
        record.interimAt = now;
        session[this.key] = { ...record };
        this.send('Interim-Update', record, Math.floor((now - record.startedAt) / 1000));
      }
      next();
    };
  }

  private stop(record: AccountingRecord, cause: AcctTerminateCause): void {
    this.send('Stop', record, Math.floor((Date.now() - record.startedAt) / 1000), cause);
  }

  /** Sends a record through the client, first to the server that accepted the sign-in; never throws. */
  private send(statusType: AcctStatusType, record: AccountingRecord, sessionTime?: number, cause?: AcctTerminateCause): void {
    const names = this.client.serverNames;
    const servers = names.includes(record.server) ? [record.server, ...names.filter((n) => n !== record.server)] : names;
    this.client
      .account({
        statusType,
        sessionId: record.sessionId,
        username: record.username,
        servers,
        classes: record.classes.map((c) => Buffer.from(c, 'base64')),
        ...(record.callingStationId !== undefined ? { callingStationId: record.callingStationId } : {}),
        ...(sessionTime !== undefined ? { sessionTime } : {}),
        ...(cause !== undefined ? { terminateCause: cause } : {}),
      })
      // Failures are already `accounting-error` events (and debug lines); nothing may reach the request.
      .catch((err: unknown) => debug('%s for session %s not sent: %s', statusType, record.sessionId, err instanceof Error ? err.message : String(err)));
  }
}
