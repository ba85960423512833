/**
 * privacyIDEA (and LinOTP, which behaves alike here) through its RADIUS front end, as a RADIUS client sees it.
 *
 * @packageDocumentation
 */
import { randomInt } from 'node:crypto';
import { bytesEqual } from '../../protocol/packet';
import { accept, challenge, reject, type HandlerReply, type HandlerRequest } from '../handler';
import { check, isRecord, knownKeys, passwordBytes } from '../validate';
import { PROFILE_OPTION_NAMES, TwoFactorProfile, approves, normalizeUsers, type PushRecord, type ProfileOptions } from './base';

/** A user of {@link PrivacyIdeaProfile}. */
export interface PrivacyIdeaUser {
  /** The token PIN (or directory password) that starts the challenge. */
  pin: string;
  /** The OTP value of a challenge-response token (HOTP/TOTP/email/SMS). Optional when `push`. */
  otp?: string;
  /** The user has a push token: the challenge also sends a push. Default false. */
  push?: boolean;
  /** Whether the simulated user approves pushes. Default true. */
  approves?: boolean;
}

/** Options of {@link PrivacyIdeaProfile}. */
export interface PrivacyIdeaProfileOptions extends ProfileOptions {
  /** Users by User-Name. */
  users: Record<string, PrivacyIdeaUser>;
}

interface User {
  pin: Buffer;
  otp: Buffer | undefined;
  push: boolean;
  approves: boolean;
}

interface Transaction {
  id: string;
  push: PushRecord | undefined;
}

/**
 * Simulates privacyIDEA: the PIN triggers the user's challenge-response tokens; the Access-Challenge's
 * State carries the **transaction id** (20 decimal digits, as text) and the Reply-Message asks for the
 * OTP. A user with a push token is also sent a push when the challenge is issued (not held: the reply
 * comes at once). The follow-up answers with the OTP, or **polls** with an empty response: an approved
 * push signs in, a pending one gets the same challenge again (same transaction id), a denied one an
 * Access-Reject. A client must allow empty responses (`allowEmptyResponse`) for the poll.
 */
export class PrivacyIdeaProfile extends TwoFactorProfile<Transaction> {
  /** Transaction ids issued, in order (what the States carried). */
  readonly transactions: string[] = [];
  private readonly users: Map<string, User>;

  /** @throws TypeError for invalid options, naming them. */
  constructor(options: PrivacyIdeaProfileOptions) {
    const label = 'PrivacyIdeaProfile';
    check(isRecord(options), `${label}: options must be an object`);
    knownKeys(options as unknown as Record<string, unknown>, PROFILE_OPTION_NAMES, label);
    super(options, label);
    this.users = normalizeUsers(options.users, label, ['pin', 'otp', 'push', 'approves'], (u, where) => {
      check(u.push === undefined || typeof u.push === 'boolean', `${where}.push must be true or false`);
      check(u.otp !== undefined || u.push === true, `${where} needs an otp or push: true`);
      return {
        pin: passwordBytes(u.pin, `${where}.pin`),
        otp: u.otp === undefined ? undefined : passwordBytes(u.otp, `${where}.otp`),
        push: u.push === true,
        approves: approves(u, where),
      };
    });
  }

  /** Decides one Access-Request (see the class description). */
  handle(request: HandlerRequest): HandlerReply {
    const username = request.username;
    const user = username === undefined ? undefined : this.users.get(username);
    if (username === undefined || !user || request.chap) return reject();
    if (request.state === undefined) {
      if (!request.proves(user.pin)) return reject({ message: 'wrong otp pin' });
      let id = '';
      for (let i = 0; i < 20; i++) id += String(randomInt(10));
      this.transactions.push(id);
      const push = user.push ? this.sendPush(request, username, 'push', user.approves).record : undefined;
      return this.ask({ id, push }, username, user);
    }
    const transaction = this.take(request);
    const response = request.password;
    if (!transaction || response === undefined) return reject();
    if (response.length === 0) {
      // A poll: has the push been answered?
      const outcome = transaction.push?.outcome;
      if (outcome === 'approved') return accept();
      if (outcome === 'pending') return this.ask(transaction, username, user);
      return reject({ message: 'push not confirmed' });
    }
    return user.otp && bytesEqual(response, user.otp) ? accept() : reject({ message: 'wrong otp value' });
  }

  private ask(transaction: Transaction, username: string, user: User): HandlerReply {
    const message = user.push
      ? user.otp
        ? 'Confirm the login on your phone and submit empty, or enter the OTP'
        : 'Confirm the login on your phone, then submit empty'
      : 'Enter the OTP';
    return challenge({ message, state: this.issue(username, transaction, Buffer.from(transaction.id, 'ascii')) });
  }
}
