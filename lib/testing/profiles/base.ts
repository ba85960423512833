/**
 * What every vendor profile shares: a user table, out-of-band approvals ("pushes") that hold a request
 * until the user approves, and single-use States with an expiry. Each profile is a {@link RadiusHandler};
 * give one to `new RadiusTestServer({ secret, handler })`.
 *
 * The profiles are **simulations of documented behaviour** as seen on the wire by a RADIUS client: message
 * texts, State formats and menus are our own and only shaped like the vendors' (no vendor code or text).
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { MAX_ATTRIBUTE_VALUE_LENGTH } from '../../protocol/packet';
import type { HandlerReply, HandlerRequest, RadiusHandler } from '../handler';
import { check, isRecord, knownKeys, optionalBoolean, optionalDelay } from '../validate';

/** Calling-Station-Id (RFC 2865 §5.31): where two-factor servers read the user's IP address. */
export const CALLING_STATION_ID = 31;

/** An out-of-band approval: a push to the user's phone, or a phone call. */
export type PushKind = 'push' | 'phone';

/** One push (or call) the simulated server sent, in {@link TwoFactorProfile.pushLog}. */
export interface PushRecord {
  /** The user it went to. */
  readonly username: string;
  /** `'push'` (an app notification) or `'phone'` (a call). */
  readonly kind: PushKind;
  /** Calling-Station-Id of the Access-Request that triggered it, as the vendors show it to the user; undefined when absent. */
  readonly clientIp: string | undefined;
  /** When it was sent (epoch ms). */
  readonly at: number;
  /** `'pending'` until the user answers (or the server closes: `'aborted'`). */
  outcome: 'pending' | 'approved' | 'denied' | 'aborted';
}

/** Options every profile takes besides its users. */
export interface ProfileOptions {
  /**
   * Milliseconds until a simulated user answers a push or call (approves, or denies when the user's
   * `approves` is false). `null`: nobody answers until {@link TwoFactorProfile.approve} or
   * {@link TwoFactorProfile.deny} is called. Default 1000. Real users take 5 to 30 s, hence the vendors'
   * 60 s RADIUS timeouts.
   */
  pushDelayMs?: number | null;
  /** How long an issued Access-Challenge (its State) can be answered, in milliseconds. Default 300000. */
  challengeExpiryMs?: number;
}

interface PendingPush {
  record: PushRecord;
  settle: (outcome: 'approved' | 'denied' | 'aborted') => void;
}

interface Issued<T> {
  username: string;
  data: T;
  expires: number;
}

/** The option names of {@link ProfileOptions}, for the profiles' unknown-key checks. */
export const PROFILE_OPTION_NAMES: readonly string[] = ['users', 'pushDelayMs', 'challengeExpiryMs'];

/**
 * Validates a profile's `users` table: each user's keys are among `keys`, and `normalize` turns the object
 * into the profile's own shape.
 * @throws TypeError naming the user and option.
 */
export function normalizeUsers<T>(
  input: unknown,
  label: string,
  keys: readonly string[],
  normalize: (user: Record<string, unknown>, where: string) => T,
): Map<string, T> {
  check(isRecord(input), `${label}: users must be an object keyed by user name`);
  const users = new Map<string, T>();
  for (const [name, user] of Object.entries(input)) {
    const where = `${label}: users["${name}"]`;
    const bytes = Buffer.byteLength(name, 'utf8');
    check(bytes >= 1 && bytes <= MAX_ATTRIBUTE_VALUE_LENGTH, `${label}: user name "${name}" must be 1 to 253 bytes`);
    check(isRecord(user), `${where} must be an object`);
    knownKeys(user, keys, where);
    users.set(name, normalize(user, where));
  }
  return users;
}

/** Reads a user's `approves` switch (default true: the simulated user approves pushes). */
export function approves(user: Record<string, unknown>, where: string): boolean {
  return optionalBoolean(user.approves, true, `${where}.approves`);
}

/**
 * Base of the vendor profiles: pushes that hold a request until answered and are counted, so that a test
 * can assert exactly one push per sign-in attempt; single-use States bound to the user name.
 */
export abstract class TwoFactorProfile<T = unknown> implements RadiusHandler {
  private readonly log: PushRecord[] = [];
  private readonly pending = new Set<PendingPush>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly issued = new Map<string, Issued<T>>();
  private readonly pushDelayMs: number | null;
  private readonly challengeExpiryMs: number;

  /** @throws TypeError for an invalid `pushDelayMs` or `challengeExpiryMs`. */
  protected constructor(options: ProfileOptions, label: string) {
    this.pushDelayMs = options.pushDelayMs === null ? null : optionalDelay(options.pushDelayMs, 1000, `${label}: pushDelayMs`);
    const expiry = options.challengeExpiryMs ?? 300_000;
    check(typeof expiry === 'number' && Number.isFinite(expiry) && expiry > 0, `${label}: challengeExpiryMs must be a positive number`);
    this.challengeExpiryMs = expiry;
  }

  /** Decides one Access-Request as the simulated server would. */
  abstract handle(request: HandlerRequest): HandlerReply | Promise<HandlerReply>;

  /** Every push and call sent so far, in order. */
  get pushLog(): readonly PushRecord[] {
    return this.log;
  }

  /** How many pushes (kind `'push'`, not calls) were sent, to `username` or to anyone. */
  pushCount(username?: string): number {
    return this.log.filter((r) => r.kind === 'push' && (username === undefined || r.username === username)).length;
  }

  /** The simulated user approves every push or call pending for `username`. @returns how many. */
  approve(username: string): number {
    return this.answer(username, 'approved');
  }

  /** The simulated user denies every push or call pending for `username`. @returns how many. */
  deny(username: string): number {
    return this.answer(username, 'denied');
  }

  /** Cancels timers, ends pending pushes as `'aborted'` and forgets issued States (the server calls it on close). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const p of [...this.pending]) p.settle('aborted');
    this.issued.clear();
  }

  /**
   * Sends a push (or call) to `username`; the promise resolves true when approved, false when denied or
   * when the server closes. The log records it at once.
   */
  protected sendPush(request: HandlerRequest, username: string, kind: PushKind, approvesPush: boolean): { record: PushRecord; answered: Promise<boolean> } {
    const record: PushRecord = { username, kind, clientIp: request.text(CALLING_STATION_ID), at: Date.now(), outcome: 'pending' };
    this.log.push(record);
    const answered = new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const entry: PendingPush = {
        record,
        settle: (outcome) => {
          if (record.outcome !== 'pending') return;
          record.outcome = outcome;
          this.pending.delete(entry);
          if (timer) {
            clearTimeout(timer);
            this.timers.delete(timer);
          }
          resolve(outcome === 'approved');
        },
      };
      this.pending.add(entry);
      if (request.signal.aborted) return entry.settle('aborted');
      if (this.pushDelayMs !== null) {
        timer = setTimeout(() => entry.settle(approvesPush ? 'approved' : 'denied'), this.pushDelayMs);
        this.timers.add(timer);
      }
    });
    return { record, answered };
  }

  /** Remembers `data` under a new State (random 16 bytes unless `state` is given). @returns the State. */
  protected issue(username: string, data: T, state: Buffer = randomBytes(16)): Buffer {
    const now = Date.now();
    for (const [k, v] of this.issued) if (v.expires <= now) this.issued.delete(k);
    this.issued.set(state.toString('hex'), { username, data, expires: now + this.challengeExpiryMs });
    return state;
  }

  /** The data issued with this State for this user, once (single use); undefined when unknown, expired or another user's. */
  protected take(request: HandlerRequest): T | undefined {
    if (!request.state) return undefined;
    const key = request.state.toString('hex');
    const found = this.issued.get(key);
    if (!found) return undefined;
    this.issued.delete(key);
    if (found.expires <= Date.now() || found.username !== request.username) return undefined;
    return found.data;
  }

  private answer(username: string, outcome: 'approved' | 'denied'): number {
    let n = 0;
    for (const p of [...this.pending]) {
      if (p.record.username !== username) continue;
      p.settle(outcome);
      n++;
    }
    return n;
  }
}
