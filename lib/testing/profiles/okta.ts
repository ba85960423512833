/**
 * Okta RADIUS Server Agent, as a RADIUS client sees it.
 *
 * @packageDocumentation
 */
import { bytesEqual } from '../../protocol/packet';
import { accept, challenge, reject, type HandlerReply, type HandlerRequest } from '../handler';
import { check, isRecord, knownKeys, passwordBytes } from '../validate';
import { PROFILE_OPTION_NAMES, TwoFactorProfile, approves, normalizeUsers, type ProfileOptions } from './base';

/** A factor a user of {@link OktaAgentProfile} has enrolled. */
export type OktaFactor = 'push' | 'totp' | 'sms';

/** A user of {@link OktaAgentProfile}. */
export interface OktaUser {
  /** The Okta password. */
  password: string;
  /** Enrolled factors, in menu order (at least one). */
  factors: OktaFactor[];
  /** The code that answers the code challenge (`totp` or `sms`). */
  code?: string;
  /** Whether the simulated user approves pushes. Default true. */
  approves?: boolean;
}

/** Options of {@link OktaAgentProfile}. */
export interface OktaAgentProfileOptions extends ProfileOptions {
  /** Users by User-Name. */
  users: Record<string, OktaUser>;
}

interface User {
  password: Buffer;
  factors: OktaFactor[];
  code: Buffer | undefined;
  approves: boolean;
}

type Step = { step: 'menu' } | { step: 'code' };

const FACTOR_NAMES: Record<OktaFactor, string> = { push: 'Push notification', totp: 'Authenticator app code', sms: 'Text message code' };

/**
 * Simulates the Okta RADIUS agent: after the password, an Access-Challenge whose Reply-Message is a menu of
 * the user's enrolled factors (numbered; the user answers with the number or the factor's name, e.g.
 * `push`, `totp`, `sms`); choosing a code factor gets a **second** Access-Challenge for the code; choosing
 * push holds that follow-up until the user answers. A user with one factor skips the menu.
 */
export class OktaAgentProfile extends TwoFactorProfile<Step> {
  private readonly users: Map<string, User>;

  /** @throws TypeError for invalid options, naming them. */
  constructor(options: OktaAgentProfileOptions) {
    const label = 'OktaAgentProfile';
    check(isRecord(options), `${label}: options must be an object`);
    knownKeys(options as unknown as Record<string, unknown>, PROFILE_OPTION_NAMES, label);
    super(options, label);
    this.users = normalizeUsers(options.users, label, ['password', 'factors', 'code', 'approves'], (u, where) => {
      const factors = u.factors;
      check(
        Array.isArray(factors) && factors.length > 0 && factors.every((f) => f === 'push' || f === 'totp' || f === 'sms'),
        `${where}.factors must be a non-empty array of 'push', 'totp' or 'sms'`,
      );
      const needsCode = (factors as OktaFactor[]).some((f) => f !== 'push');
      check(!needsCode || typeof u.code === 'string', `${where}.code is required with a totp or sms factor`);
      return {
        password: passwordBytes(u.password, `${where}.password`),
        factors: [...(factors as OktaFactor[])],
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
    if (request.state === undefined) {
      if (!request.proves(user.password)) return reject();
      if (user.factors.length === 1) return this.start(request, username, user, user.factors[0]!);
      const menu = user.factors.map((f, i) => `${i + 1}. ${FACTOR_NAMES[f]} (${f})`).join('; ');
      return challenge({ message: `Choose a verification method: ${menu}`, state: this.issue(username, { step: 'menu' }) });
    }
    const step = this.take(request);
    if (!step || !request.password || request.chap) return reject();
    const answer = request.password.toString('utf8').trim().toLowerCase();
    if (step.step === 'code') return user.code && bytesEqual(request.password, user.code) ? accept() : reject({ message: 'Invalid code' });
    const chosen = /^\d+$/.test(answer) ? user.factors[Number(answer) - 1] : user.factors.find((f) => f === answer);
    if (!chosen) return reject({ message: 'Unknown verification method' });
    return this.start(request, username, user, chosen);
  }

  private async start(request: HandlerRequest, username: string, user: User, factor: OktaFactor): Promise<HandlerReply> {
    if (factor === 'push') {
      const { answered } = this.sendPush(request, username, 'push', user.approves);
      return (await answered) ? accept() : reject({ message: 'Push rejected' });
    }
    const message = factor === 'sms' ? 'Enter the code sent by text message' : 'Enter the code from your authenticator app';
    return challenge({ message, state: this.issue(username, { step: 'code' }) });
  }
}
