/**
 * Duo Authentication Proxy (`radius_server_auto` and `radius_server_challenge`), as a RADIUS client sees it.
 *
 * @packageDocumentation
 */
import { bytesEqual } from '../../protocol/packet';
import { accept, challenge, reject, type HandlerReply, type HandlerRequest } from '../handler';
import { check, isRecord, knownKeys, passwordBytes } from '../validate';
import { PROFILE_OPTION_NAMES, TwoFactorProfile, approves, normalizeUsers, type ProfileOptions } from './base';

/** A user of {@link DuoProxyProfile}. */
export interface DuoUser {
  /** The primary (directory) password. */
  password: string;
  /** Passcodes that are valid (hardware token, Duo Mobile or SMS passcodes); each works once. Default none. */
  passcodes?: string[];
  /** Whether the simulated user approves pushes and calls. Default true. */
  approves?: boolean;
}

/** Options of {@link DuoProxyProfile}. */
export interface DuoProxyProfileOptions extends ProfileOptions {
  /**
   * `'auto'` (`radius_server_auto`): the second factor happens inside the same Access-Request — a push by
   * default, held until answered; `password,push`, `password,phone`, `password,sms` or `password,<passcode>`
   * chooses. `'challenge'` (`radius_server_challenge`): after the password, an Access-Challenge lists the
   * factors and the user types `push`, `phone`, `sms` (or 1, 2, 3) or a passcode.
   */
  mode: 'auto' | 'challenge';
  /** Users by User-Name. */
  users: Record<string, DuoUser>;
}

interface User {
  password: Buffer;
  passcodes: Set<string>;
  approves: boolean;
}

const FACTORS: Record<string, 'push' | 'phone' | 'sms'> = { push: 'push', '1': 'push', phone: 'phone', '2': 'phone', sms: 'sms', '3': 'sms' };

/**
 * Simulates the Duo Authentication Proxy. In `'auto'` mode a right password starts a push (or the factor
 * appended after a comma) and the Access-Request is **held until the user answers**. In `'challenge'` mode a
 * right password gets an Access-Challenge whose Reply-Message lists the factors; the answer `push` or
 * `phone` is held until answered; `sms` sends passcodes (recorded in {@link DuoProxyProfile.smsSent}) and
 * challenges again; a passcode is checked (single use). The user's IP for Duo's policies is read from
 * Calling-Station-Id (the proxy's default `client_ip_attr`) and kept in each {@link PushRecord}.
 */
export class DuoProxyProfile extends TwoFactorProfile<'factor'> {
  /** SMS passcode messages sent, by user name, in order. */
  readonly smsSent: string[] = [];
  private readonly users: Map<string, User>;
  private readonly mode: 'auto' | 'challenge';

  /** @throws TypeError for invalid options, naming them. */
  constructor(options: DuoProxyProfileOptions) {
    const label = 'DuoProxyProfile';
    check(isRecord(options), `${label}: options must be an object`);
    knownKeys(options as unknown as Record<string, unknown>, [...PROFILE_OPTION_NAMES, 'mode'], label);
    super(options, label);
    check(options.mode === 'auto' || options.mode === 'challenge', `${label}: mode must be 'auto' or 'challenge'`);
    this.mode = options.mode;
    this.users = normalizeUsers(options.users, label, ['password', 'passcodes', 'approves'], (u, where) => {
      const passcodes = u.passcodes ?? [];
      check(Array.isArray(passcodes) && passcodes.every((p) => typeof p === 'string' && /^\d{6,8}$/.test(p)), `${where}.passcodes must be an array of 6 to 8 digit strings`);
      return { password: passwordBytes(u.password, `${where}.password`), passcodes: new Set(passcodes as string[]), approves: approves(u, where) };
    });
  }

  /** Decides one Access-Request (see the class description). */
  async handle(request: HandlerRequest): Promise<HandlerReply> {
    const username = request.username;
    const user = username === undefined ? undefined : this.users.get(username);
    if (username === undefined || !user) return reject();
    if (request.state !== undefined) {
      if (this.take(request) === undefined || !request.password) return reject();
      return this.factor(request, username, user, request.password.toString('utf8').trim().toLowerCase());
    }
    if (this.mode === 'challenge') {
      if (!request.proves(user.password)) return reject();
      return this.menu(username);
    }
    // radius_server_auto: "password" or "password,factor" (the last comma separates them).
    if (request.proves(user.password)) return this.factor(request, username, user, 'push');
    const typed = request.password?.toString('utf8');
    const comma = typed?.lastIndexOf(',') ?? -1;
    if (typed === undefined || comma < 0) return reject();
    if (request.chap || !bytesEqual(Buffer.from(typed.slice(0, comma), 'utf8'), user.password)) return reject();
    return this.factor(request, username, user, typed.slice(comma + 1).trim().toLowerCase());
  }

  private menu(username: string): HandlerReply {
    return challenge({
      message: 'Second factor: type a passcode, or 1 (push), 2 (phone call) or 3 (SMS passcodes)',
      state: this.issue(username, 'factor'),
    });
  }

  private async factor(request: HandlerRequest, username: string, user: User, choice: string): Promise<HandlerReply> {
    const factor = FACTORS[choice];
    if (factor === 'push' || factor === 'phone') {
      const { answered } = this.sendPush(request, username, factor, user.approves);
      return (await answered) ? accept({ message: 'Approved' }) : reject({ message: 'Denied on the device' });
    }
    if (factor === 'sms') {
      this.smsSent.push(username);
      if (this.mode === 'auto') return reject({ message: 'SMS passcodes sent; sign in again with one' });
      return challenge({ message: 'SMS passcodes sent; type one', state: this.issue(username, 'factor') });
    }
    if (!user.passcodes.delete(choice)) return reject({ message: 'Wrong passcode' });
    return accept({ message: 'Approved' });
  }
}
