/**
 * The default handler of {@link RadiusTestServer}: a table of users with passwords, reply attributes and
 * optional multi-round Access-Challenges (RFC 2865 §4.4). The vendor profiles in `profiles/` are the
 * other handlers.
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { Attr, MAX_ATTRIBUTE_VALUE_LENGTH, bytesEqual, encodeAttribute } from '../protocol/packet';
import { accept, challenge, promptAttribute, reject, type HandlerReply, type HandlerRequest, type RadiusHandler } from './handler';
import { check, isRecord, optionalBoolean, passwordBytes, textAttributes } from './validate';

/** One round of a two-factor Access-Challenge exchange (RFC 2865 §4.4), see {@link TestUser.challenge}. */
export interface TestChallengeRound {
  /** The code the user must send back, as User-Password (always PAP hiding, RFC 2865 §5.2). */
  code: string;
  /** Reply-Message text of the Access-Challenge (RFC 2865 §5.18); an array sends one attribute per item. Each item at most 253 bytes of UTF-8. */
  prompt: string | string[];
  /**
   * The State attribute to send (RFC 2865 §5.24), 1 to 253 bytes, compared byte for byte in the follow-up.
   * Default: 16 random bytes, new for every challenge. `null`: send no State (progress is then keyed by
   * user name alone).
   */
  state?: Buffer | null;
  /** When given, a Prompt attribute (RFC 2869 §5.10, type 76) is sent: `true` → 1 (Echo), `false` → 0 (No-Echo). Default: no Prompt. */
  echo?: boolean;
}

/** A user known to {@link RadiusTestServer}. */
export interface TestUser {
  /**
   * The password, compared byte for byte (as UTF-8, at most 128 bytes) with the unhidden User-Password
   * (PAP, RFC 2865 §5.2) or checked against CHAP-Password (RFC 2865 §5.3; the challenge is the
   * CHAP-Challenge attribute when present, otherwise the Request Authenticator).
   */
  password: string;
  /** Reply-Message(s) sent with the Access-Accept (RFC 2865 §5.18); one attribute per array item, each at most 253 bytes. */
  replyMessage?: string | string[];
  /** Extra raw attributes sent with the Access-Accept, as `[type, value]` (type 1 to 255, value at most 253 bytes). */
  attributes?: Array<[number, Buffer]>;
  /**
   * Two-factor rounds. After the right password the server sends an Access-Challenge for round 0; a
   * follow-up Access-Request carrying User-Password = that round's `code` and exactly that round's State
   * moves to the next round, or to an Access-Accept after the last. Anything else gets an Access-Reject
   * and ends the exchange.
   */
  challenge?: TestChallengeRound[];
}

interface NormalizedRound {
  code: Buffer;
  prompts: Buffer[];
  state: Buffer | null | undefined;
  echo: boolean | undefined;
}

interface NormalizedUser {
  password: Buffer;
  acceptAttributes: Buffer[];
  rounds: NormalizedRound[];
}

interface PendingChallenge {
  round: number;
  expires: number;
}

function normalizeUser(input: unknown, label: string): NormalizedUser {
  check(isRecord(input), `${label} must be an object`);
  const password = passwordBytes(input.password, `${label}.password`);
  const acceptAttributes = input.replyMessage === undefined ? [] : textAttributes(input.replyMessage, `${label}.replyMessage`);
  if (input.attributes !== undefined) {
    check(Array.isArray(input.attributes), `${label}.attributes must be an array of [type, Buffer] pairs`);
    (input.attributes as unknown[]).forEach((pair, i) => {
      const where = `${label}.attributes[${i}]`;
      check(Array.isArray(pair) && pair.length === 2, `${where} must be a [type, Buffer] pair`);
      const [type, value] = pair as [unknown, unknown];
      check(typeof type === 'number' && Number.isInteger(type) && type >= 1 && type <= 255, `${where} type must be a whole number from 1 to 255`);
      check(Buffer.isBuffer(value) && value.length <= MAX_ATTRIBUTE_VALUE_LENGTH, `${where} value must be a Buffer of at most 253 bytes`);
      acceptAttributes.push(encodeAttribute(type, value));
    });
  }
  const rounds: NormalizedRound[] = [];
  if (input.challenge !== undefined) {
    check(Array.isArray(input.challenge), `${label}.challenge must be an array`);
    (input.challenge as unknown[]).forEach((round, i) => {
      const where = `${label}.challenge[${i}]`;
      check(isRecord(round), `${where} must be an object`);
      const code = passwordBytes(round.code, `${where}.code`);
      const prompts = textAttributes(round.prompt, `${where}.prompt`);
      const state = round.state;
      check(
        state === undefined || state === null || (Buffer.isBuffer(state) && state.length >= 1 && state.length <= MAX_ATTRIBUTE_VALUE_LENGTH),
        `${where}.state must be a Buffer of 1 to 253 bytes, or null`,
      );
      const echo = optionalBoolean(round.echo, false, `${where}.echo`);
      rounds.push({
        code,
        prompts,
        state: Buffer.isBuffer(state) ? Buffer.from(state) : state,
        echo: round.echo === undefined ? undefined : echo,
      });
    });
  }
  return { password, acceptAttributes, rounds };
}

function challengeKey(username: string, state: Buffer | undefined): string {
  return state === undefined ? `${username}\0-` : `${username}\0${state.toString('hex')}`;
}

/**
 * Decides by a table of {@link TestUser}s: PAP or CHAP against the password, then the user's challenge
 * rounds, each answered by its code with exactly its State (single use; it expires after
 * `challengeExpiryMs`). Anything else is an Access-Reject. What `new RadiusTestServer({ users })` uses.
 */
export class UsersHandler implements RadiusHandler {
  private readonly users = new Map<string, NormalizedUser>();
  private readonly challenges = new Map<string, PendingChallenge>();

  /**
   * @param users - users by User-Name (1 to 253 bytes of UTF-8 each).
   * @param challengeExpiryMs - how long an issued Access-Challenge can be answered, in milliseconds. Default 300000.
   * @param label - how option errors name the caller.
   * @throws TypeError when a user is invalid, naming it.
   */
  constructor(users: Record<string, TestUser> = {}, private readonly challengeExpiryMs = 300_000, label = 'UsersHandler') {
    check(isRecord(users), `${label}: users must be an object keyed by user name`);
    check(Number.isFinite(challengeExpiryMs) && challengeExpiryMs > 0, `${label}: challengeExpiryMs must be a positive number`);
    for (const [name, user] of Object.entries(users)) {
      const bytes = Buffer.byteLength(name, 'utf8');
      check(bytes >= 1 && bytes <= MAX_ATTRIBUTE_VALUE_LENGTH, `${label}: users: user name "${name}" must be 1 to 253 bytes`);
      this.users.set(name, normalizeUser(user, `${label}: users["${name}"]`));
    }
  }

  /** The Access-Accept attributes of a known user (for the `replyWith: 'accept'` fault). */
  acceptAttributes(username: string): Buffer[] {
    return [...(this.users.get(username)?.acceptAttributes ?? [])];
  }

  /** Forgets pending challenges. */
  close(): void {
    this.challenges.clear();
  }

  /** Decides one Access-Request (see the class description). */
  handle(request: HandlerRequest): HandlerReply {
    const { username } = request;
    if (username === undefined) return reject();
    const user = this.users.get(username);
    const now = Date.now();
    const key = challengeKey(username, request.state);
    const pending = this.challenges.get(key);
    if (pending) this.challenges.delete(key);
    if (pending && pending.expires > now && user) {
      const round = user.rounds[pending.round];
      const response = request.password;
      if (request.chap || !round || !response || !bytesEqual(response, round.code)) return reject();
      return this.nextRound(username, user, pending.round + 1, now);
    }
    if (request.state !== undefined) return reject(); // a State this server did not issue, or expired
    if (!user || !request.proves(user.password)) return reject();
    return this.nextRound(username, user, 0, now);
  }

  /** Access-Challenge for round `index`, or Access-Accept when every round is done. */
  private nextRound(username: string, user: NormalizedUser, index: number, now: number): HandlerReply {
    const round = user.rounds[index];
    if (!round) return accept({ attributes: user.acceptAttributes });
    const state = round.state === null ? undefined : (round.state ?? randomBytes(16));
    for (const [k, v] of this.challenges) if (v.expires <= now) this.challenges.delete(k);
    this.challenges.set(challengeKey(username, state), { round: index, expires: now + this.challengeExpiryMs });
    const attributes = [...round.prompts];
    if (state) attributes.push(encodeAttribute(Attr.State, state));
    if (round.echo !== undefined) attributes.push(promptAttribute(round.echo));
    return challenge({ attributes });
  }
}
