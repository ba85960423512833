/**
 * RADIUS packet framing and the security-relevant computations: User-Password hiding, CHAP-Password,
 * Message-Authenticator and Response Authenticator. Byte-exact and constant-time; the `radius` package is
 * not used for any of this (it compares digests as strings and throws on malformed input).
 *
 * RFC 2865 §3 (packet format), §5 (attribute format), §5.2 (User-Password), §5.3 (CHAP-Password);
 * RFC 1994 (CHAP); RFC 3579 §3.2 (Message-Authenticator).
 *
 * @internal
 */
import { createHash, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';

/** RADIUS packet codes (RFC 2865 §3, RFC 2866 §3, RFC 5997). */
export const Code = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccessChallenge: 11,
  StatusServer: 12,
  AccountingRequest: 4,
  AccountingResponse: 5,
} as const;

/** Attribute types this module handles itself (RFC 2865 §5, RFC 2869 §5.10, RFC 3579 §3.2). */
export const Attr = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  ReplyMessage: 18,
  State: 24,
  Class: 25,
  FilterId: 11,
  VendorSpecific: 26,
  SessionTimeout: 27,
  IdleTimeout: 28,
  NasIdentifier: 32,
  ProxyState: 33,
  ChapChallenge: 60,
  Prompt: 76,
  MessageAuthenticator: 80,
  NasIpv6Address: 95,
} as const;

/** Size of the RADIUS header: Code, Identifier, Length, Authenticator. */
export const HEADER_LENGTH = 20;
/** Largest RADIUS packet (RFC 2865 §3). */
export const MAX_PACKET_LENGTH = 4096;
/** Largest User-Password plaintext in bytes (RFC 2865 §5.2). */
export const MAX_PASSWORD_LENGTH = 128;
/** Largest attribute value in bytes. */
export const MAX_ATTRIBUTE_VALUE_LENGTH = 253;

/** One attribute as it is on the wire: type and raw value. */
export interface RawAttribute {
  /** Attribute type, 1 to 255 (RFC 2865 §5). */
  type: number;
  /** The value, without the type and length octets (0 to 253 bytes). */
  value: Buffer;
}

/** A reply that passed {@link parsePacket}: header fields and raw attributes in wire order. */
export interface ParsedPacket {
  /** Packet type (see {@link Code}), e.g. 2 for Access-Accept. */
  code: number;
  /** The Identifier octet, 0 to 255 (RFC 2865 §3). */
  identifier: number;
  /** The 16-byte Authenticator field as received (the Response Authenticator in a reply). */
  authenticator: Buffer;
  /** The attributes in wire order. */
  attributes: RawAttribute[];
  /** The packet bytes up to its Length field (anything after Length is ignored, RFC 2865 §3). */
  bytes: Buffer;
}

let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/**
 * A new Request Authenticator: 16 bytes from the operating system's CSPRNG (RFC 2865 §3 asks for
 * unpredictable values). Drawn from a 4 KiB pool that is replaced, never overwritten, when used up, so
 * one system call serves 256 requests and a returned value never changes afterwards.
 */
export function randomAuthenticator(): Buffer {
  if (randomOffset + 16 > randomPool.length) {
    randomPool = randomFillSync(Buffer.allocUnsafe(4096));
    randomOffset = 0;
  }
  const value = randomPool.subarray(randomOffset, randomOffset + 16);
  randomOffset += 16;
  return value;
}

/** Encodes one attribute (type, length, value). Throws `RangeError` when the value exceeds 253 bytes. */
export function encodeAttribute(type: number, value: Buffer): Buffer {
  if (value.length > MAX_ATTRIBUTE_VALUE_LENGTH) {
    throw new RangeError(`attribute ${type} value is ${value.length} bytes; the limit is 253`);
  }
  const out = Buffer.allocUnsafe(2 + value.length);
  out[0] = type;
  out[1] = 2 + value.length;
  value.copy(out, 2);
  return out;
}

/**
 * Hides a User-Password (RFC 2865 §5.2): pad with NUL to a multiple of 16 (at least 16), then
 * c(i) = p(i) XOR MD5(secret ‖ c(i-1)), c(0) = Request Authenticator. Throws `RangeError` past 128 bytes.
 */
export function hidePassword(password: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer {
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new RangeError('User-Password is longer than 128 bytes');
  }
  const length = Math.max(16, Math.ceil(password.length / 16) * 16);
  const out = Buffer.alloc(length);
  password.copy(out);
  let previous = requestAuthenticator;
  for (let offset = 0; offset < length; offset += 16) {
    const b = createHash('md5').update(secret).update(previous).digest();
    for (let i = 0; i < 16; i++) out[offset + i]! ^= b[i]!;
    previous = out.subarray(offset, offset + 16);
  }
  return out;
}

/** Reverses {@link hidePassword}; trailing NUL padding is removed. Used by the test server. */
export function unhidePassword(hidden: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer {
  const out = Buffer.alloc(hidden.length);
  let previous = requestAuthenticator;
  for (let offset = 0; offset + 16 <= hidden.length; offset += 16) {
    const b = createHash('md5').update(secret).update(previous).digest();
    for (let i = 0; i < 16; i++) out[offset + i] = hidden[offset + i]! ^ b[i]!;
    previous = hidden.subarray(offset, offset + 16);
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

/**
 * CHAP-Password value (RFC 2865 §5.3, RFC 1994 §4.1): CHAP Ident ‖ MD5(Ident ‖ password ‖ challenge).
 * Without a CHAP-Challenge attribute the challenge is the Request Authenticator (RFC 2865 §2.2).
 */
export function chapPassword(chapId: number, password: Buffer, challenge: Buffer): Buffer {
  const digest = createHash('md5').update(Buffer.of(chapId)).update(password).update(challenge).digest();
  return Buffer.concat([Buffer.of(chapId), digest]);
}

/**
 * Builds a request packet. With `messageAuthenticator`, a Message-Authenticator is the first attribute
 * and is signed over the finished packet (RFC 3579 §3.2); `attributes` are already-encoded attributes.
 * Request Authenticator and Identifier are the caller's (RFC 2865 §3).
 */
export function encodeRequest(args: {
  code: number;
  identifier: number;
  requestAuthenticator: Buffer;
  attributes: Buffer;
  secret: Buffer;
  messageAuthenticator: boolean;
}): Buffer {
  const maLength = args.messageAuthenticator ? 18 : 0;
  const length = HEADER_LENGTH + maLength + args.attributes.length;
  if (length > MAX_PACKET_LENGTH) throw new RangeError(`packet would be ${length} bytes; the limit is 4096`);
  if (args.requestAuthenticator.length !== 16) throw new RangeError('the Request Authenticator must be 16 bytes');
  // Every byte is written below (the Message-Authenticator value zeroed before signing), so the buffer
  // may come from Node's pool: no ArrayBuffer of its own per request.
  const packet = Buffer.allocUnsafe(length);
  packet[0] = args.code;
  packet[1] = args.identifier;
  packet.writeUInt16BE(length, 2);
  args.requestAuthenticator.copy(packet, 4);
  let offset = HEADER_LENGTH;
  if (args.messageAuthenticator) {
    packet[offset] = Attr.MessageAuthenticator;
    packet[offset + 1] = 18;
    packet.fill(0, offset + 2, offset + maLength);
    offset += maLength;
  }
  args.attributes.copy(packet, offset);
  if (args.messageAuthenticator) {
    createHmac('md5', args.secret).update(packet).digest().copy(packet, HEADER_LENGTH + 2);
  }
  return packet;
}

/**
 * Work done on received datagrams since the process started, for tests and the benchmark: `digests`
 * counts MD5 and HMAC-MD5 computations made to verify replies, `splits` counts attribute lists split
 * into {@link RawAttribute}s. Plain counters (one increment each), never reset by the library.
 *
 * @internal
 */
export const packetWork = { digests: 0, splits: 0 };

/**
 * The packet length a datagram's header announces, or -1 when the header is malformed: shorter than 20
 * bytes, a Length field under 20 or over 4096, or a Length past the end of the datagram (RFC 2865 §3;
 * bytes after Length are padding and ignored). Reads four bytes; no hashing, no allocation.
 */
export function packetLength(datagram: Buffer): number {
  if (datagram.length < HEADER_LENGTH) return -1;
  const length = datagram.readUInt16BE(2);
  if (length < HEADER_LENGTH || length > MAX_PACKET_LENGTH || length > datagram.length) return -1;
  return length;
}

/** {@link scanAttributes} result when the attribute framing is broken. */
const MALFORMED = -2;
/** {@link scanAttributes} result when there is no Message-Authenticator. */
const NO_MESSAGE_AUTHENTICATOR = -1;

/**
 * Walks the attributes of the first `length` bytes of `bytes` without allocating (RFC 2865 §5, §5.26;
 * RFC 3579 §3.2): the offset of the one Message-Authenticator's 16-byte value, `NO_MESSAGE_AUTHENTICATOR`,
 * or `MALFORMED` (an attribute with Length under 2 or past the packet, a Vendor-Specific under 7 bytes, a
 * Message-Authenticator that is not 18 bytes or not the only one).
 */
function scanAttributes(bytes: Buffer, length: number): number {
  let maOffset = NO_MESSAGE_AUTHENTICATOR;
  let offset = HEADER_LENGTH;
  while (offset < length) {
    if (offset + 2 > length) return MALFORMED;
    const type = bytes[offset]!;
    const attrLength = bytes[offset + 1]!;
    if (attrLength < 2 || offset + attrLength > length) return MALFORMED;
    if (type === Attr.VendorSpecific && attrLength < 7) return MALFORMED;
    if (type === Attr.MessageAuthenticator) {
      if (maOffset !== NO_MESSAGE_AUTHENTICATOR || attrLength !== 18) return MALFORMED;
      maOffset = offset + 2;
    }
    offset += attrLength;
  }
  return maOffset;
}

/**
 * Checks a datagram's framing and splits its attributes (RFC 2865 §3, §5). Returns `undefined` when it is
 * malformed: shorter than 20 bytes, a Length field under 20 or over 4096 or past the datagram, an
 * attribute with Length under 2 or running past the packet, a Vendor-Specific under 7 bytes (RFC 2865
 * §5.26). Bytes after Length are ignored. Never throws. Costs one object per attribute: the transport
 * calls it only for replies that {@link checkReply} verified.
 */
export function parsePacket(datagram: Buffer): ParsedPacket | undefined {
  const length = packetLength(datagram);
  if (length < 0) return undefined;
  packetWork.splits++;
  const bytes = datagram.subarray(0, length);
  const attributes: RawAttribute[] = [];
  let offset = HEADER_LENGTH;
  while (offset < length) {
    if (offset + 2 > length) return undefined;
    const type = bytes[offset]!;
    const attrLength = bytes[offset + 1]!;
    if (attrLength < 2 || offset + attrLength > length) return undefined;
    if (type === Attr.VendorSpecific && attrLength < 7) return undefined;
    attributes.push({ type, value: bytes.subarray(offset + 2, offset + attrLength) });
    offset += attrLength;
  }
  return {
    code: bytes[0]!,
    identifier: bytes[1]!,
    authenticator: bytes.subarray(4, 20),
    attributes,
    bytes,
  };
}

/** Constant-time equality of two byte strings (false when lengths differ). */
export function bytesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Response Authenticator (RFC 2865 §3): MD5(Code ‖ ID ‖ Length ‖ Request Authenticator ‖ Attributes ‖ secret). */
export function responseAuthenticator(reply: Buffer, requestAuthenticator: Buffer, secret: Buffer): Buffer {
  packetWork.digests++;
  return createHash('md5')
    .update(reply.subarray(0, 4))
    .update(requestAuthenticator)
    .update(reply.subarray(HEADER_LENGTH))
    .update(secret)
    .digest();
}

const ZERO_16 = Buffer.alloc(16);

/**
 * Message-Authenticator of a reply (RFC 3579 §3.2): HMAC-MD5 over the reply with the Request
 * Authenticator in place of the Response Authenticator and the Message-Authenticator value zeroed.
 * `valueOffset` is where the 16-byte value starts in `reply`. Hashes the pieces in place (no copy).
 */
export function replyMessageAuthenticator(
  reply: Buffer,
  valueOffset: number,
  requestAuthenticator: Buffer,
  secret: Buffer,
): Buffer {
  packetWork.digests++;
  return createHmac('md5', secret)
    .update(reply.subarray(0, 4))
    .update(requestAuthenticator)
    .update(reply.subarray(HEADER_LENGTH, valueOffset))
    .update(ZERO_16)
    .update(reply.subarray(valueOffset + 16))
    .digest();
}

/** Why {@link checkReply} refused a datagram. */
export type VerifyFailure = 'malformed' | 'bad-response-authenticator' | 'missing-message-authenticator' | 'bad-message-authenticator';

/** Outcome of {@link verifyReply}. */
export type VerifyResult = { ok: true; packet: ParsedPacket } | { ok: false; reason: VerifyFailure };

/**
 * Verifies a reply over its raw bytes, without splitting its attributes, cheapest check first:
 *
 * 1. the header ({@link packetLength}): no hashing;
 * 2. the Response Authenticator (RFC 2865 §3): one MD5 over the packet — all an off-path sender without
 *    the shared secret can make us spend;
 * 3. the attribute framing, walked in place (no allocation), locating the Message-Authenticator;
 * 4. the Message-Authenticator (RFC 3579 §3.2; required when `requireMessageAuthenticator`, checked
 *    whenever present, exactly one, 16 bytes): one HMAC-MD5, reached only by a packet that passed step 2.
 *
 * Returns `undefined` for an authentic reply, else why not. Comparisons are constant-time. Never throws.
 */
export function checkReply(
  datagram: Buffer,
  requestAuthenticator: Buffer,
  secret: Buffer,
  requireMessageAuthenticator: boolean,
): VerifyFailure | undefined {
  const length = packetLength(datagram);
  if (length < 0) return 'malformed';
  const bytes = length === datagram.length ? datagram : datagram.subarray(0, length);
  const expected = responseAuthenticator(bytes, requestAuthenticator, secret);
  if (!timingSafeEqual(expected, bytes.subarray(4, HEADER_LENGTH))) return 'bad-response-authenticator';
  const maOffset = scanAttributes(bytes, length);
  if (maOffset === MALFORMED) return 'malformed';
  if (maOffset === NO_MESSAGE_AUTHENTICATOR) return requireMessageAuthenticator ? 'missing-message-authenticator' : undefined;
  const ma = replyMessageAuthenticator(bytes, maOffset, requestAuthenticator, secret);
  if (!timingSafeEqual(ma, bytes.subarray(maOffset, maOffset + 16))) return 'bad-message-authenticator';
  return undefined;
}

/**
 * Verifies a reply ({@link checkReply}) and only then splits its attributes ({@link parsePacket}): an
 * unverified datagram never costs more than the digests. Never throws.
 */
export function verifyReply(
  datagram: Buffer,
  requestAuthenticator: Buffer,
  secret: Buffer,
  requireMessageAuthenticator: boolean,
): VerifyResult {
  const failure = checkReply(datagram, requestAuthenticator, secret, requireMessageAuthenticator);
  if (failure !== undefined) return { ok: false, reason: failure };
  // checkReply accepted the framing that parsePacket checks, so the split cannot fail.
  const packet = parsePacket(datagram);
  return packet ? { ok: true, packet } : { ok: false, reason: 'malformed' };
}
