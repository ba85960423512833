/**
 * What a sign-in exchange ends with ({@link AuthResult}) and how a verified reply becomes one
 * (RFC 2865 §4.2–4.4; Prompt, RFC 2869 §5.10).
 */
import { decodeAttributes, type DecodedAttributes } from './protocol/dictionary';
import { Attr, Code, type RawAttribute } from './protocol/packet';
import type { ExchangeResult } from './transport';

/** Fields common to every {@link AuthResult}. */
interface ResultBase {
  /** Name of the server that sent the reply. */
  server: string;
  /** Reply attributes decoded by dictionary name (see `decodeAttributes`). */
  attributes: DecodedAttributes;
  /** Reply attributes as received, in order. */
  rawAttributes: RawAttribute[];
  /** All Reply-Message attributes joined in order (RFC 2865 §5.18), or undefined. Untrusted text. */
  replyMessage: string | undefined;
  /** Milliseconds from the first transmission to the verified reply. */
  rttMs: number;
}

/** A verified Access-Accept (RFC 2865 §4.2). */
export interface AcceptResult extends ResultBase {
  /** Discriminant: the server sent an Access-Accept. */
  type: 'accept';
}
/** A verified Access-Reject (RFC 2865 §4.3) from the last server tried. */
export interface RejectResult extends ResultBase {
  /** Discriminant: the server sent an Access-Reject. */
  type: 'reject';
}
/** A verified Access-Challenge (RFC 2865 §4.4). */
export interface ChallengeResult extends ResultBase {
  /** Discriminant: the server sent an Access-Challenge; answer it with `RadiusClient.respond`. */
  type: 'challenge';
  /** The State attribute, byte for byte, or undefined when the server sent none. Opaque; never log it. */
  state: Buffer | undefined;
  /** Whether the user's response may be echoed: Prompt (RFC 2869 §5.10) is Echo; No-Echo when absent. */
  echo: boolean;
}
/** What one sign-in exchange ended with. Timeouts and unreachable servers reject instead. */
export type AuthResult = AcceptResult | RejectResult | ChallengeResult;

/** Replies to an Access-Request (RFC 2865 §4.2–4.4). */
export const ACCESS_REPLY_CODES: readonly number[] = [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge];

function joinReplyMessages(attributes: readonly RawAttribute[]): string | undefined {
  let parts: string[] | undefined;
  for (const a of attributes) if (a.type === Attr.ReplyMessage) (parts ??= []).push(a.value.toString('utf8'));
  return parts ? parts.join('') : undefined;
}

/** The {@link AuthResult} of a verified Access-Accept, -Reject or -Challenge from `server`. */
export function toAuthResult(server: string, reply: ExchangeResult): AuthResult {
  const { packet, rttMs } = reply;
  const base = {
    server,
    attributes: decodeAttributes(packet.attributes),
    rawAttributes: packet.attributes,
    replyMessage: joinReplyMessages(packet.attributes),
    rttMs,
  };
  if (packet.code === Code.AccessAccept) return { type: 'accept', ...base };
  if (packet.code === Code.AccessReject) return { type: 'reject', ...base };
  const stateAttr = packet.attributes.find((a) => a.type === Attr.State);
  const prompt = packet.attributes.find((a) => a.type === Attr.Prompt && a.value.length === 4);
  return {
    type: 'challenge',
    ...base,
    state: stateAttr ? Buffer.from(stateAttr.value) : undefined,
    echo: prompt ? prompt.value.readUInt32BE(0) === 1 : false,
  };
}
