/**
 * FortiAuthenticator (FortiToken Mobile) RADIUS, as a RADIUS client sees it.
 *
 * @packageDocumentation
 */
import { bytesEqual } from '../../protocol/packet';
import { accept, challenge, reject, type HandlerReply, type HandlerRequest } from '../handler';
import { check, isRecord, knownKeys, passwordBytes } from '../validate';
import { PROFILE_OPTION_NAMES, TwoFactorProfile, approves, normalizeUsers, type ProfileOptions } from './base';

/** A user of {@link FortiAuthenticatorProfile}. */
export interface FortiUser {
  /** The password (first factor). */
  password: string;
  /** The FortiToken code that answers the challenge. */
  tokencode: string;
  /** Whether the simulated user approves pushes. Default true. */
  approves?: boolean;
}

/** Options of {@link FortiAuthenticatorProfile}. */
export interface FortiAuthenticatorProfileOptions extends ProfileOptions {
  /** Users by User-Name. */
  users: Record<string, FortiUser>;
}

interface User {
  password: Buffer;
  tokencode: Buffer;
  approves: boolean;
}

/**
 * Simulates FortiAuthenticator with FortiToken Mobile: after the password, an Access-Challenge asks for
 * the token code; an **empty** response sends a push and holds that request until the user answers
 * (Access-Accept when approved, Access-Reject when denied); a code is checked at once. A client must allow
 * empty responses (`allowEmptyResponse`) to reach the push.
 */
export class FortiAuthenticatorProfile extends TwoFactorProfile<true> {
  private readonly users: Map<string, User>;

  /** @throws TypeError for invalid options, naming them. */
  constructor(options: FortiAuthenticatorProfileOptions) {
    const label = 'FortiAuthenticatorProfile';
    check(isRecord(options), `${label}: options must be an object`);
    knownKeys(options as unknown as Record<string, unknown>, PROFILE_OPTION_NAMES, label);
    super(options, label);
    this.users = normalizeUsers(options.users, label, ['password', 'tokencode', 'approves'], (u, where) => ({
      password: passwordBytes(u.password, `${where}.password`),
      tokencode: passwordBytes(u.tokencode, `${where}.tokencode`),
      approves: approves(u, where),
    }));
  }

  /** Decides one Access-Request (see the class description). */
  async handle(request: HandlerRequest): Promise<HandlerReply> {
    const username = request.username;
    const user = username === undefined ? undefined : this.users.get(username);
    if (username === undefined || !user) return reject();
    if (request.state === undefined) {
      if (!request.proves(user.password)) return reject();
      return challenge({ message: 'Enter your token code, or leave it empty to approve a push on your phone', state: this.issue(username, true) });
    }
    const response = request.password;
    if (this.take(request) === undefined || response === undefined || request.chap) return reject();
    if (response.length > 0) return bytesEqual(response, user.tokencode) ? accept() : reject();
    const { answered } = this.sendPush(request, username, 'push', user.approves);
    return (await answered) ? accept() : reject();
  }
}
