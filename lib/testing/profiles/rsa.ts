/**
 * RSA Authentication Manager (SecurID) RADIUS, as a RADIUS client sees it.
 *
 * @packageDocumentation
 */
import { randomUUID } from 'node:crypto';
import { bytesEqual } from '../../protocol/packet';
import { accept, challenge, reject, type HandlerReply, type HandlerRequest } from '../handler';
import { check, isRecord, knownKeys } from '../validate';
import { TwoFactorProfile, normalizeUsers, type ProfileOptions } from './base';

/** A user of {@link RsaProfile}. The passcode is the PIN followed by the tokencode shown on the token. */
export interface RsaUser {
  /** The current PIN (4 to 8 digits). */
  pin: string;
  /** The tokencode the token shows now (6 or 8 digits). */
  tokencode: string;
  /** The tokencode the token shows next (6 or 8 digits): what Next Tokencode and New PIN mode ask for. */
  nextTokencode: string;
  /**
   * `'normal'`: the passcode signs in. `'next-tokencode'`: the server asks for the next tokencode in one
   * extra round. `'new-pin'`: the server makes the user choose a PIN (three rounds). Default `'normal'`.
   */
  mode?: 'normal' | 'next-tokencode' | 'new-pin';
}

/** Options of {@link RsaProfile}. */
export type RsaProfileOptions = Omit<ProfileOptions, 'pushDelayMs'> & {
  /** Users by User-Name. */
  users: Record<string, RsaUser>;
};

interface User {
  pin: string;
  tokencode: string;
  nextTokencode: string;
  mode: 'normal' | 'next-tokencode' | 'new-pin';
}

type Step = { step: 'next-tokencode' } | { step: 'new-pin' } | { step: 'confirm-pin'; pin: string } | { step: 'passcode-after-pin'; pin: string };

/**
 * Simulates RSA Authentication Manager's RADIUS server. Passcode = PIN + tokencode.
 *
 * - Next Tokencode mode: one extra Access-Challenge asking for the next tokencode.
 * - New PIN mode: three rounds — choose a PIN and confirm it (both with Prompt = Echo, RFC 2869 §5.10,
 *   since PINs are shown while typed), then a passcode made of the new PIN and the next tokencode.
 *
 * The States are long text like `RSA|<uuid>|<uuid>|SECURID_NEWPIN` (about 90 bytes), which a client
 * must return byte for byte and keep whole in the session.
 */
export class RsaProfile extends TwoFactorProfile<Step> {
  private readonly users: Map<string, User>;

  /** @throws TypeError for invalid options, naming them. */
  constructor(options: RsaProfileOptions) {
    const label = 'RsaProfile';
    check(isRecord(options), `${label}: options must be an object`);
    knownKeys(options as unknown as Record<string, unknown>, ['users', 'challengeExpiryMs'], label);
    super(options, label);
    this.users = normalizeUsers(options.users, label, ['pin', 'tokencode', 'nextTokencode', 'mode'], (u, where) => {
      check(typeof u.pin === 'string' && /^\d{4,8}$/.test(u.pin), `${where}.pin must be 4 to 8 digits`);
      check(typeof u.tokencode === 'string' && /^(\d{6}|\d{8})$/.test(u.tokencode), `${where}.tokencode must be 6 or 8 digits`);
      check(typeof u.nextTokencode === 'string' && /^(\d{6}|\d{8})$/.test(u.nextTokencode), `${where}.nextTokencode must be 6 or 8 digits`);
      const mode = u.mode ?? 'normal';
      check(mode === 'normal' || mode === 'next-tokencode' || mode === 'new-pin', `${where}.mode must be 'normal', 'next-tokencode' or 'new-pin'`);
      return { pin: u.pin, tokencode: u.tokencode, nextTokencode: u.nextTokencode, mode };
    });
  }

  /** Decides one Access-Request (see the class description). */
  handle(request: HandlerRequest): HandlerReply {
    const username = request.username;
    const user = username === undefined ? undefined : this.users.get(username);
    if (username === undefined || !user || request.chap) return reject();
    if (request.state === undefined) {
      if (!request.proves(Buffer.from(user.pin + user.tokencode))) return reject({ message: 'Access denied' });
      if (user.mode === 'next-tokencode') {
        return challenge({ message: 'Wait for the tokencode to change, then enter the new tokencode', state: this.state(username, { step: 'next-tokencode' }, 'SECURID_NEXT') });
      }
      if (user.mode === 'new-pin') {
        return challenge({ message: 'You must choose a new PIN of 4 to 8 digits. Enter it now', echo: true, state: this.state(username, { step: 'new-pin' }, 'SECURID_NEWPIN') });
      }
      return accept();
    }
    const step = this.take(request);
    const typed = request.password?.toString('utf8');
    if (!step || typed === undefined) return reject();
    switch (step.step) {
      case 'next-tokencode':
        return equal(typed, user.nextTokencode) ? accept() : reject({ message: 'Access denied' });
      case 'new-pin':
        if (!/^\d{4,8}$/.test(typed)) return reject({ message: 'PIN rejected: 4 to 8 digits' });
        return challenge({ message: 'Enter the new PIN again', echo: true, state: this.state(username, { step: 'confirm-pin', pin: typed }, 'SECURID_NEWPIN') });
      case 'confirm-pin':
        if (!equal(typed, step.pin)) return reject({ message: 'The PINs differ' });
        user.pin = step.pin;
        user.mode = 'normal';
        return challenge({
          message: 'PIN accepted. Wait for the tokencode to change, then enter the new PIN followed by the tokencode',
          echo: false,
          state: this.state(username, { step: 'passcode-after-pin', pin: step.pin }, 'SECURID_NEWPIN'),
        });
      case 'passcode-after-pin':
        return equal(typed, step.pin + user.nextTokencode) ? accept() : reject({ message: 'Access denied' });
    }
  }

  private state(username: string, step: Step, suffix: string): Buffer {
    return this.issue(username, step, Buffer.from(`RSA|${randomUUID()}|${randomUUID()}|${suffix}`, 'ascii'));
  }
}

function equal(typed: string, expected: string): boolean {
  return bytesEqual(Buffer.from(typed, 'utf8'), Buffer.from(expected, 'utf8'));
}
