/**
 * The one Access-Request builder (RFC 2865 §4.1), used by the client, the probe and (through the client)
 * the CLI, and the Status-Server builder (RFC 5997 §3) used by the probe and the health watchdog.
 *
 * Attribute order: Message-Authenticator first (RFC 3579 §3.2; CVE-2024-3596 — a server checks it before
 * anything else), User-Name, User-Password or CHAP-Password, the server's configured attributes, the
 * per-request attributes whose types the server did not configure (so the server's configuration wins,
 * and a `null` there turns a per-request default off), then State (RFC 2865 §4.4, copied byte for byte).
 *
 * @internal
 */
import { randomBytes } from 'node:crypto';
import type { NormalizedServer } from './options';
import { RadiusConfigError } from './errors';
import { encodeAttributeList, type AttributeInput, type EncodedAttribute } from './protocol/dictionary';
import {
  Attr,
  Code,
  HEADER_LENGTH,
  MAX_ATTRIBUTE_VALUE_LENGTH,
  chapPassword,
  encodeAttribute,
  encodeRequest,
  hidePassword,
  randomAuthenticator,
} from './protocol/packet';

/**
 * The longest Calling-Station-Id the strategy adds by default (the client's IP address as text; an IPv6
 * address with a zone fits): a longer or non-address `req.ip` is not sent.
 */
export const MAX_CALLING_STATION_ID_OCTETS = 64;

/**
 * Bytes every Access-Request keeps free for the strategy's per-request defaults: Calling-Station-Id (at most
 * {@link MAX_CALLING_STATION_ID_OCTETS}) and NAS-Port-Type (RFC 2865 §5.31, §5.41).
 */
export const PER_REQUEST_DEFAULTS_LENGTH = 2 + MAX_CALLING_STATION_ID_OCTETS + 6;

/** What goes into one Access-Request besides its Identifier. */
export interface AccessRequestParts {
  /** The server: its shared secret, configured attributes and their types. */
  server: Pick<NormalizedServer, 'secret' | 'attributes' | 'attributeTypes'>;
  /** User-Name value, 1 to 253 bytes. */
  username: Buffer;
  /** The password (or challenge response) in plain text, at most 128 bytes; hidden or CHAP-hashed here. */
  password: Buffer;
  /** Send CHAP-Password (RFC 2865 §5.3) instead of User-Password. */
  chap: boolean;
  /** Per-request attributes, already validated and encoded (see `encodeAttributeList`). */
  extra?: readonly EncodedAttribute[];
  /** The State value of the Access-Challenge being answered, byte for byte (1 to 253 bytes). */
  state?: Buffer;
  /** Add a Message-Authenticator (RFC 3579 §3.2). Default `true`; the probe's last attempt goes without. */
  messageAuthenticator?: boolean;
}

/** The per-request attributes this server gets: those whose type it did not configure. */
function extraFor(parts: AccessRequestParts): readonly EncodedAttribute[] {
  const { extra, server } = parts;
  if (!extra || extra.length === 0) return [];
  return extra.filter((a) => !server.attributeTypes.has(a.type));
}

/** The Access-Request's length in bytes (independent of Identifier and Request Authenticator). */
export function accessRequestLength(parts: AccessRequestParts): number {
  const credential = parts.chap ? 19 : 2 + Math.max(16, Math.ceil(parts.password.length / 16) * 16);
  let length = HEADER_LENGTH + (parts.messageAuthenticator === false ? 0 : 18) + 2 + parts.username.length + credential;
  length += parts.server.attributes.length;
  for (const a of extraFor(parts)) length += a.bytes.length;
  if (parts.state) length += 2 + parts.state.length;
  return length;
}

/**
 * Builds the Access-Request for `identifier` with a fresh Request Authenticator from the CSPRNG.
 * Throws `RangeError` when it would exceed 4096 bytes (check {@link accessRequestLength} first).
 */
export function buildAccessRequest(parts: AccessRequestParts, identifier: number): { packet: Buffer; requestAuthenticator: Buffer } {
  const { server } = parts;
  const requestAuthenticator = randomAuthenticator();
  const chunks: Buffer[] = [encodeAttribute(Attr.UserName, parts.username)];
  if (parts.chap) {
    // RFC 2865 §2.2: without CHAP-Challenge, the Request Authenticator is the challenge.
    chunks.push(encodeAttribute(Attr.ChapPassword, chapPassword(randomBytes(1)[0]!, parts.password, requestAuthenticator)));
  } else {
    chunks.push(encodeAttribute(Attr.UserPassword, hidePassword(parts.password, server.secret, requestAuthenticator)));
  }
  chunks.push(server.attributes);
  for (const a of extraFor(parts)) chunks.push(a.bytes);
  if (parts.state) chunks.push(encodeAttribute(Attr.State, parts.state));
  const packet = encodeRequest({
    code: Code.AccessRequest,
    identifier,
    requestAuthenticator,
    attributes: Buffer.concat(chunks),
    secret: server.secret,
    messageAuthenticator: parts.messageAuthenticator !== false,
  });
  return { packet, requestAuthenticator };
}

/**
 * Builds a Status-Server (RFC 5997 §3): Message-Authenticator (required there), then the server's
 * configured attributes (NAS-Identifier etc., so the server can tell which client asks).
 */
export function buildStatusServer(server: Pick<NormalizedServer, 'secret' | 'attributes'>, identifier: number): { packet: Buffer; requestAuthenticator: Buffer } {
  const requestAuthenticator = randomAuthenticator();
  const packet = encodeRequest({
    code: Code.StatusServer,
    identifier,
    requestAuthenticator,
    attributes: server.attributes,
    secret: server.secret,
    messageAuthenticator: true,
  });
  return { packet, requestAuthenticator };
}

/** Throws `TypeError(message)` for a wrong argument type (a programming error, not a RADIUS outcome). */
export function argument(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TypeError(message);
}

/**
 * Characters a user name must not hold:
 * - control characters: C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F), Unicode category Cc. A
 *   NUL ends the name for servers written in C (FreeRADIUS checks "trudy" for "trudy\0@globex.example",
 *   while the app would sign in the whole string); the others split or forge log lines and terminal output;
 * - the line and paragraph separators U+2028 and U+2029, which end lines as a line feed does;
 * - bidirectional-text controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which make a name
 *   read as another one in logs and on pages ("gen\u202Euine").
 * RFC 8264 (PRECIS, the basis for user names in RFC 8265) disallows all of them in identifiers (Cc,
 * and the rest are default-ignorable or not letters, digits or printable ASCII), so no real user name
 * holds one.
 */
const REFUSED_CHARACTER = /[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/** Whether `text` holds a character a user name must not hold (see {@link REFUSED_CHARACTER}); such a name is never sent. */
export function hasRefusedCharacter(text: string): boolean {
  return REFUSED_CHARACTER.test(text);
}

/** The error for a user name with a refused character (sign-in and accounting alike). */
export function refusedCharacterError(where: string): RadiusConfigError {
  return new RadiusConfigError(
    `${where}: username must not contain control characters (U+0000–U+001F, U+007F–U+009F), line or paragraph separators (U+2028, U+2029) or bidirectional-text controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069)`,
  );
}

/**
 * A password or challenge response as the server compares it (`passwordEncoding`): UTF-8, or Latin-1 for
 * servers such as NPS. A character outside Latin-1 would be sent as another byte (Node keeps the low 8
 * bits), so two different passwords could match: that is refused with RadiusConfigError instead.
 */
export function passwordBytes(text: string, encoding: 'utf8' | 'latin1', what: string): Buffer {
  if (encoding === 'utf8') return Buffer.from(text, 'utf8');
  // eslint-disable-next-line no-control-regex
  if (/[^\u0000-\u00ff]/.test(text)) throw new RadiusConfigError(`The ${what} has characters that Latin-1 (passwordEncoding) cannot carry`);
  return Buffer.from(text, 'latin1');
}

/**
 * The User-Name bytes: `TypeError` unless a string; {@link RadiusConfigError} unless 1 to 253 bytes of UTF-8
 * without the characters {@link hasRefusedCharacter} refuses.
 */
export function userNameBytes(value: unknown, where: string): Buffer {
  argument(typeof value === 'string', `${where}: username must be a string`);
  if (hasRefusedCharacter(value)) throw refusedCharacterError(where);
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0 || bytes.length > MAX_ATTRIBUTE_VALUE_LENGTH) throw new RadiusConfigError('The user name must be 1 to 253 bytes');
  return bytes;
}

/** Per-request attributes, validated and encoded like configured ones; `TypeError` naming the problem. */
export function extraAttributes(value: unknown, where: string): EncodedAttribute[] | undefined {
  if (value === undefined) return undefined;
  argument(Array.isArray(value), `${where}: attributes must be an array of [name, value] pairs`);
  value.forEach((pair, i) => {
    argument(Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string', `${where}: attributes[${i}] must be a [name, value] pair`);
  });
  return encodeAttributeList(value as Array<[string, AttributeInput]>, `${where}: attributes`).attributes;
}
