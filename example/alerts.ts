/**
 * The console's alerts and log: one line per RADIUS event, like the seed's radius.log
 * (`Jul 16 13:44:29 Auth.notice: (Access-Reject corp "joe.doe"): Login incorrect`), built from the
 * client's typed events. Kept in memory (the newest {@link AlertLog.limit} lines, per instance) and
 * copied to the process log. No line holds a password, code, shared secret or State: the events carry none.
 */
import type { DropReason, RadiusClient } from '../lib';
import { visibleName } from './settings';

/** How serious a line is: alerts are `'warn'` and `'error'`. */
export type Level = 'info' | 'notice' | 'warn' | 'error';

/** One log line. */
export interface LogEntry {
  /** Epoch milliseconds. */
  time: number;
  level: Level;
  text: string;
}

/** Dropped replies worth an alert: verification failures and malformed packets (duplicates are routine). */
const ALERT_DROPS: ReadonlySet<DropReason> = new Set([
  'bad-response-authenticator',
  'bad-message-authenticator',
  'missing-message-authenticator',
  'malformed',
  'wrong-source',
  'unexpected-code',
]);

const DROP_TEXT: Partial<Record<DropReason, string>> = {
  'bad-response-authenticator': 'reply failed verification (Response Authenticator): check the shared secret',
  'bad-message-authenticator': 'reply failed verification (Message-Authenticator): check the shared secret',
  'missing-message-authenticator': 'reply without Message-Authenticator dropped: make the server sign its replies',
  malformed: 'malformed reply dropped',
  'wrong-source': 'reply from an unexpected address dropped',
  'unexpected-code': 'reply of an unexpected type dropped',
};

/** `Dec  2 16:21:03`, as syslog and the seed's radius.log write it. */
export function syslogTime(time: number): string {
  const d = new Date(time);
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${month} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Recent log lines, newest first, from one or more RADIUS clients. */
export class AlertLog {
  private readonly entries: LogEntry[] = [];
  private readonly watched = new WeakSet<RadiusClient>();

  /**
   * @param limit - lines kept. Default 500.
   * @param sink - also receives each line (e.g. the process log). Default none.
   */
  constructor(
    readonly limit = 500,
    private readonly sink?: (line: string) => void,
  ) {}

  /**
   * Adds a line. Control characters, line breaks and bidirectional-text controls in `text` (a user name
   * someone typed, a server's message) are written as `<U+XXXX>`: a line cannot forge another or read reversed.
   */
  add(level: Level, raw: string, time = Date.now()): void {
    const text = visibleName(raw);
    this.entries.unshift({ time, level, text });
    if (this.entries.length > this.limit) this.entries.length = this.limit;
    this.sink?.(`Auth.${level}: ${text}`);
  }

  /** Newest first. */
  list(): readonly LogEntry[] {
    return this.entries;
  }

  /** Warnings and errors, newest first. */
  alerts(): LogEntry[] {
    return this.entries.filter((e) => e.level === 'warn' || e.level === 'error');
  }

  /** Writes a line for each event of `client` (once per client). */
  watch(client: RadiusClient): void {
    if (this.watched.has(client)) return;
    this.watched.add(client);
    const q = (text: string): string => JSON.stringify(text);
    client.on('accept', (e) => this.add('info', `(Access-Accept ${e.server} ${q(e.username)}): Login OK, ${Math.round(e.rttMs)} ms`));
    client.on('reject', (e) => this.add('notice', `(Access-Reject ${e.server} ${q(e.username)}): Login incorrect`));
    client.on('challenge', (e) => this.add('info', `(Access-Challenge ${e.server} ${q(e.username)}): code requested`));
    client.on('no-reply', (e) => this.add('warn', `(${e.server} ${q(e.username)}): no valid reply (${e.reason})`));
    client.on('server-down', (e) => this.add('error', `${e.server} is down: ${e.reason}; tried last until ${new Date(e.until).toISOString()}`));
    client.on('server-up', (e) => this.add('notice', `${e.server} answers again`));
    client.on('warning', (e) => this.add('warn', `${e.server}: ${e.message}`));
    client.on('accounting', (e) => this.add('info', `(Accounting-Request ${e.statusType} ${e.server} ${q(e.username)}): recorded, ${Math.round(e.rttMs)} ms`));
    client.on('accounting-error', (e) => this.add('warn', `(Accounting-Request ${e.statusType} ${q(e.username)}): not recorded: ${e.error.message}`));
    client.on('dropped', (e) => {
      if (ALERT_DROPS.has(e.reason)) this.add('warn', `${e.server}: ${DROP_TEXT[e.reason] ?? e.reason}`);
    });
  }
}
