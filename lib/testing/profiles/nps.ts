/**
 * Microsoft NPS with the Entra ID (Azure AD) MFA extension, as a RADIUS client sees it.
 *
 * @packageDocumentation
 */
import { bytesEqual } from '../../protocol/packet';
import { accept, challenge, reject, type HandlerReply, type HandlerRequest } from '../handler';
import { check, isRecord, knownKeys, passwordBytes } from '../validate';
import { PROFILE_OPTION_NAMES, TwoFactorProfile, approves, normalizeUsers, type ProfileOptions } from './base';

/** A user of {@link NpsMfaProfile}. */
export interface NpsMfaUser {
  /** The directory password (first factor). */
  password: string;
  /** The user's default MFA method: `'push'` (app notification), `'phone'` (call) or `'otp'` (a code). */
  method: 'push' | 'phone' | 'otp';
  /** With `method: 'otp'`, the code that answers the Access-Challenge. */
  code?: string;
  /** Whether the simulated user approves pushes and calls. Default true. */
  approves?: boolean;
}

/** Options of {@link NpsMfaProfile}. */
export interface NpsMfaProfileOptions extends ProfileOptions {
  /** Users by User-Name. */
  users: Record<string, NpsMfaUser>;
  /**
   * How NPS turns the typed password into bytes to compare: `'latin1'` (Windows code page, what NPS
   * compares), or `'utf8'`. Default `'latin1'`: a client must send `passwordEncoding: 'latin1'` for
   * passwords outside ASCII.
   */
  passwordEncoding?: 'utf8' | 'latin1';
}

interface User {
  password: Buffer;
  method: NpsMfaUser['method'];
  code: Buffer | undefined;
  approves: boolean;
}

/**
 * Simulates NPS with the Entra MFA extension: after the password, a user whose default method is a push or
 * a call gets **no reply until they approve** (the Access-Request is held; real users take 10 to 30 s), then
 * Access-Accept, or Access-Reject when denied. A user whose method is a code gets an Access-Challenge with
 * a State and a Reply-Message; the follow-up carries the code as User-Password (PAP only) and the State.
 * Retransmissions of a held request are dropped by the server, so a user gets one push per sign-in.
 *
 * ```ts
 * import { NpsMfaProfile, RadiusTestServer } from 'passport-radius/testing';
 *
 * const nps = new NpsMfaProfile({ pushDelayMs: 25_000, users: { alice: { password: 'pw', method: 'push' } } });
 * const server = new RadiusTestServer({ secret: 'a-long-shared-secret', handler: nps });
 * void server.listen().then(() => console.log(server.address, nps.pushCount('alice')));
 * ```
 */
export class NpsMfaProfile extends TwoFactorProfile<true> {
  private readonly users: Map<string, User>;
  private readonly encoding: 'utf8' | 'latin1';

  /** @throws TypeError for invalid options, naming them. */
  constructor(options: NpsMfaProfileOptions) {
    const label = 'NpsMfaProfile';
    check(isRecord(options), `${label}: options must be an object`);
    knownKeys(options as unknown as Record<string, unknown>, [...PROFILE_OPTION_NAMES, 'passwordEncoding'], label);
    super(options, label);
    const encoding = options.passwordEncoding ?? 'latin1';
    check(encoding === 'utf8' || encoding === 'latin1', `${label}: passwordEncoding must be 'utf8' or 'latin1'`);
    this.encoding = encoding;
    this.users = normalizeUsers(options.users, label, ['password', 'method', 'code', 'approves'], (u, where) => {
      check(u.method === 'push' || u.method === 'phone' || u.method === 'otp', `${where}.method must be 'push', 'phone' or 'otp'`);
      check(u.method !== 'otp' || typeof u.code === 'string', `${where}.code is required with method 'otp'`);
      return {
        password: passwordBytes(u.password, `${where}.password`, encoding),
        method: u.method,
        code: u.code === undefined ? undefined : passwordBytes(u.code, `${where}.code`),
        approves: approves(u, where),
      };
    });
  }

  /** Decides one Access-Request (see the class description). */
  async handle(request: HandlerRequest): Promise<HandlerReply> {
    const username = request.username;
    const user = username === undefined ? undefined : this.users.get(username);
    if (username === undefined || !user) return reject();
    if (request.state !== undefined) {
      // The OTP follow-up: PAP only, the code in User-Password, the State of the challenge.
      if (this.take(request) === undefined || request.chap || !user.code || !request.password) return reject();
      return bytesEqual(request.password, user.code) ? accept() : reject();
    }
    if (!request.proves(user.password)) return reject();
    if (user.method === 'otp') {
      if (request.chap) return reject({ message: 'A verification code needs PAP' });
      return challenge({ message: 'Enter the verification code from your authenticator app', state: this.issue(username, true) });
    }
    const { answered } = this.sendPush(request, username, user.method, user.approves);
    return (await answered) ? accept() : reject();
  }

  /** The encoding passwords are compared in (`passwordEncoding`). */
  get passwordEncoding(): 'utf8' | 'latin1' {
    return this.encoding;
  }
}
