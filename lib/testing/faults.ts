/**
 * Fault injection for {@link RadiusTestServer}: the switches, their validation, and how a reply the
 * handler decided on becomes the datagrams actually sent (or not sent). Nothing here decides whether a
 * user signs in; that is the handler's job (see `handler.ts`).
 *
 * @packageDocumentation
 */
import { MALFORMED_KINDS, encodeMalformedReply, encodeReply, type EncodeReplyArgs, type MalformedKind } from './reply';
import { check, isRecord, nonNegativeInteger, optionalBoolean } from './validate';

/**
 * Fault injection switches of {@link RadiusTestServer}. All default to off. Set them at construction
 * (`options.faults`) or at run time (`server.faults = {...}` or {@link RadiusTestServer.setFaults}); a
 * new set replaces the old one entirely and restarts the `dropFirst` count.
 */
export interface Faults {
  /** Ignore (send nothing for) the first N well-formed requests received after these faults were set. */
  dropFirst?: number;
  /** Delay every reply by this many milliseconds. */
  delayMs?: number;
  /** Send each reply this many extra times (identical bytes). */
  duplicateReplies?: number;
  /** Flip a bit in the Response Authenticator (RFC 2865 §3) after computing it. */
  badResponseAuthenticator?: boolean;
  /** Reply with the request's Identifier + 1 (mod 256); the authenticators are computed over the bytes sent. */
  wrongIdentifier?: boolean;
  /** Send replies from a second socket (same host, another port) instead of the one the request reached. */
  fromOtherPort?: boolean;
  /** Send replies without a Message-Authenticator, whatever `signReplies` says. */
  noMessageAuthenticator?: boolean;
  /** Send replies with a Message-Authenticator (first) whose value has a flipped bit; the Response Authenticator stays correct. */
  badMessageAuthenticator?: boolean;
  /**
   * Replace each reply with a malformed one (see `encodeMalformedReply`): an attribute of Length 0 or 1, an
   * attribute running past the packet, a Length field under 20, a Vendor-Specific under 7 bytes, or a
   * datagram shorter than its Length field. The authenticators are correct wherever the framing allows.
   */
  malformed?: MalformedKind;
  /** First send a copy of the reply with a bad Response Authenticator, then the real reply. */
  forgedThenReal?: boolean;
  /**
   * Answer every Access-Request with this outcome, whatever the credentials (for failover tests).
   * `'accept'` carries the user's reply attributes when the user is known; `'challenge'` carries a
   * Reply-Message and a random 16-byte State that the server does not remember. Status-Server is not affected.
   */
  replyWith?: 'accept' | 'reject' | 'challenge';
  /**
   * Answer requests whose Message-Authenticator does not verify, as a server configured with another
   * shared secret that does not check it would: the client then sees replies that fail verification.
   */
  ignoreRequestMessageAuthenticator?: boolean;
}

const FAULT_NAMES: readonly string[] = [
  'dropFirst',
  'delayMs',
  'duplicateReplies',
  'badResponseAuthenticator',
  'wrongIdentifier',
  'fromOtherPort',
  'noMessageAuthenticator',
  'badMessageAuthenticator',
  'malformed',
  'forgedThenReal',
  'replyWith',
  'ignoreRequestMessageAuthenticator',
];
const BOOLEAN_FAULTS: readonly string[] = [
  'badResponseAuthenticator',
  'wrongIdentifier',
  'fromOtherPort',
  'noMessageAuthenticator',
  'badMessageAuthenticator',
  'forgedThenReal',
  'ignoreRequestMessageAuthenticator',
];

/**
 * Validates fault switches; returns a frozen copy.
 * @throws TypeError naming the first invalid switch.
 * @internal
 */
export function normalizeFaults(input: unknown, label: string): Readonly<Faults> {
  if (input === undefined) return Object.freeze({});
  check(isRecord(input), `${label} must be an object`);
  for (const key of Object.keys(input)) check(FAULT_NAMES.includes(key), `${label}.${key} is not a known fault`);
  nonNegativeInteger(input.dropFirst, `${label}.dropFirst`, Number.MAX_SAFE_INTEGER);
  nonNegativeInteger(input.delayMs, `${label}.delayMs`, 600_000);
  nonNegativeInteger(input.duplicateReplies, `${label}.duplicateReplies`, 100);
  for (const key of BOOLEAN_FAULTS) optionalBoolean(input[key], false, `${label}.${key}`);
  check(
    input.malformed === undefined || MALFORMED_KINDS.includes(input.malformed as MalformedKind),
    `${label}.malformed must be one of ${MALFORMED_KINDS.map((k) => `'${k}'`).join(', ')}`,
  );
  check(
    input.replyWith === undefined || input.replyWith === 'accept' || input.replyWith === 'reject' || input.replyWith === 'challenge',
    `${label}.replyWith must be 'accept', 'reject' or 'challenge'`,
  );
  return Object.freeze({ ...(input as Faults) });
}

/**
 * The datagrams that carry one reply under `faults`, in sending order: perhaps a forged copy first, the
 * reply (signed, unsigned, badly signed or malformed as the switches say), then its duplicates.
 * `args.identifier` is the request's; the `wrongIdentifier` fault is applied here.
 * @internal
 */
export function replyDatagrams(args: EncodeReplyArgs, faults: Readonly<Faults>): { identifier: number; datagrams: Buffer[] } {
  const sent: EncodeReplyArgs = {
    ...args,
    identifier: faults.wrongIdentifier ? (args.identifier + 1) & 0xff : args.identifier,
    messageAuthenticator: faults.noMessageAuthenticator ? 'none' : faults.badMessageAuthenticator ? 'bad' : args.messageAuthenticator,
    badResponseAuthenticator: faults.badResponseAuthenticator === true,
  };
  const real = faults.malformed ? encodeMalformedReply(sent, faults.malformed) : encodeReply(sent);
  const datagrams: Buffer[] = [];
  if (faults.forgedThenReal) datagrams.push(encodeReply({ ...sent, badResponseAuthenticator: true }));
  datagrams.push(real);
  for (let i = 0; i < (faults.duplicateReplies ?? 0); i++) datagrams.push(real);
  return { identifier: sent.identifier, datagrams };
}
