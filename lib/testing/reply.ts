/**
 * Reply encoding for {@link RadiusTestServer}: the server-side counterpart of `encodeRequest` in
 * `lib/protocol/packet.ts`, plus the deliberately broken variants used for fault injection.
 *
 * It would belong in `packet.ts` (next to `encodeRequest`); it lives here so the production client code
 * does not grow test-only knobs. It reuses `replyMessageAuthenticator` and `responseAuthenticator` from
 * `packet.ts` rather than re-implementing them.
 *
 * RFC 2865 §3 (packet format and Response Authenticator), RFC 3579 §3.2 (Message-Authenticator).
 *
 * @internal
 */
import { Attr, HEADER_LENGTH, MAX_PACKET_LENGTH, replyMessageAuthenticator, responseAuthenticator } from '../protocol/packet';

/** How a reply carries a Message-Authenticator: a valid one, one with a flipped bit, or none. */
export type ReplyMessageAuthenticator = 'valid' | 'bad' | 'none';

/** The ways {@link encodeMalformedReply} can break a reply's framing (see `Faults.malformed`). */
export type MalformedKind = 'attr-length-0' | 'attr-length-1' | 'attr-overrun' | 'length-under-20' | 'short-vsa' | 'truncated';

/** Every {@link MalformedKind}, for validation. */
export const MALFORMED_KINDS: readonly MalformedKind[] = [
  'attr-length-0',
  'attr-length-1',
  'attr-overrun',
  'length-under-20',
  'short-vsa',
  'truncated',
];

/** Arguments of {@link encodeReply}. */
export interface EncodeReplyArgs {
  /** Reply code, e.g. 2 (Access-Accept), 3 (Access-Reject), 11 (Access-Challenge). */
  code: number;
  /** Identifier written in the reply (normally the request's). */
  identifier: number;
  /** The Request Authenticator of the request being answered (16 bytes). */
  requestAuthenticator: Buffer;
  /** Already-encoded attributes (type, length, value), in order. */
  attributes: readonly Buffer[];
  /** The shared secret. */
  secret: Buffer;
  /** Whether a Message-Authenticator is the first attribute and whether it is valid. */
  messageAuthenticator: ReplyMessageAuthenticator;
  /** Flip one bit of the Response Authenticator after computing it. Default false. */
  badResponseAuthenticator?: boolean;
  /** Raw bytes appended after the attributes (not checked; used to build malformed replies). */
  trailer?: Buffer;
  /** A value to write in the Length field instead of the real length (used to build malformed replies). */
  lengthField?: number;
}

/**
 * Encodes a reply (RFC 2865 §3). With a Message-Authenticator, it is the first attribute and is computed
 * first, per RFC 3579 §3.2: HMAC-MD5 over the reply with the Request Authenticator in the authenticator
 * field and the Message-Authenticator value zeroed. Then the Response Authenticator is computed over the
 * finished bytes: MD5(Code ‖ ID ‖ Length ‖ Request Authenticator ‖ Attributes ‖ secret).
 *
 * @throws RangeError when the reply would exceed 4096 bytes (RFC 2865 §3).
 */
export function encodeReply(args: EncodeReplyArgs): Buffer {
  const signed = args.messageAuthenticator !== 'none';
  const maLength = signed ? 18 : 0;
  const body = Buffer.concat([...args.attributes, ...(args.trailer ? [args.trailer] : [])]);
  const length = HEADER_LENGTH + maLength + body.length;
  if (length > MAX_PACKET_LENGTH) throw new RangeError(`reply would be ${length} bytes; the limit is 4096`);
  const packet = Buffer.alloc(length);
  packet[0] = args.code;
  packet[1] = args.identifier & 0xff;
  packet.writeUInt16BE(args.lengthField ?? length, 2);
  args.requestAuthenticator.copy(packet, 4, 0, 16);
  if (signed) {
    packet[HEADER_LENGTH] = Attr.MessageAuthenticator;
    packet[HEADER_LENGTH + 1] = 18;
  }
  body.copy(packet, HEADER_LENGTH + maLength);
  if (signed) {
    const valueOffset = HEADER_LENGTH + 2;
    const ma = replyMessageAuthenticator(packet, valueOffset, args.requestAuthenticator, args.secret);
    if (args.messageAuthenticator === 'bad') ma[0]! ^= 0x01;
    ma.copy(packet, valueOffset);
  }
  const authenticator = responseAuthenticator(packet, args.requestAuthenticator, args.secret);
  if (args.badResponseAuthenticator) authenticator[0]! ^= 0x01;
  authenticator.copy(packet, 4);
  return packet;
}

/**
 * Encodes a reply like {@link encodeReply}, then breaks its framing in the way `kind` names. Where the
 * framing still lets a Response Authenticator (and Message-Authenticator) be computed, they are correct, so
 * only the malformation makes the reply invalid:
 *
 * - `attr-length-0` / `attr-length-1`: a trailing Reply-Message whose Length is 0 / 1 (RFC 2865 §5: at least 2).
 * - `attr-overrun`: a trailing attribute whose Length runs past the end of the packet.
 * - `length-under-20`: the Length field says 19 (RFC 2865 §3: at least 20).
 * - `short-vsa`: a trailing Vendor-Specific of Length 6, a Vendor-Id and no data (RFC 2865 §5.26: at least 7).
 * - `truncated`: the datagram is cut short of its Length field (the authenticators are those of the whole packet).
 *
 * @throws RangeError when the reply would exceed 4096 bytes.
 */
export function encodeMalformedReply(args: EncodeReplyArgs, kind: MalformedKind): Buffer {
  switch (kind) {
    case 'attr-length-0':
      return encodeReply({ ...args, trailer: Buffer.of(Attr.ReplyMessage, 0) });
    case 'attr-length-1':
      return encodeReply({ ...args, trailer: Buffer.of(Attr.ReplyMessage, 1) });
    case 'attr-overrun':
      return encodeReply({ ...args, trailer: Buffer.of(Attr.ReplyMessage, 10, 0x41, 0x41) });
    case 'length-under-20':
      return encodeReply({ ...args, lengthField: HEADER_LENGTH - 1 });
    case 'short-vsa':
      // Vendor-Id 311, then nothing: Length 6.
      return encodeReply({ ...args, trailer: Buffer.of(Attr.VendorSpecific, 6, 0, 0, 0x01, 0x37) });
    case 'truncated': {
      const whole = encodeReply(args);
      const cut = whole.length > HEADER_LENGTH + 8 ? 8 : 1;
      return whole.subarray(0, whole.length - cut);
    }
  }
}
