/**
 * Dictionary-driven attribute encoding and decoding, through the `radius` package's dictionaries
 * (RFC 2865 §5 and the RFCs and vendor dictionaries it ships or that the app loads).
 *
 * The `radius` package is used here only to map names to numbers and to convert values; framing and every
 * security-relevant check live in `packet.ts`. Its exceptions are caught: a value it cannot decode is
 * kept raw, never a crash.
 *
 * @internal
 */
import { isIPv6 } from 'node:net';
import { attributeDataType, attributeType, codec, dictionaryGeneration, ensureLoaded, NO_VENDOR } from './dictionaries';
import { Attr, MAX_ATTRIBUTE_VALUE_LENGTH, type RawAttribute } from './packet';

export { attributeDataType, attributeType, loadDictionaries, loadedDictionaryFiles } from './dictionaries';

/** Value lengths fixed by a data type (RFC 2865 §5, RFC 3162 §2.3); other lengths are kept raw. */
const FIXED_LENGTH: Record<string, number> = { ipaddr: 4, integer: 4, date: 4, time: 4, ipv6addr: 16 };

/** A value accepted for a configured attribute: text, a number (or enum name), or raw bytes. */
export type AttributeInput = string | number | Buffer;

/**
 * A decoded reply attribute value: text for `string`/`text`, a number or enum name for `integer`,
 * dotted quad for `ipaddr`, `Date` for `date`, `Buffer` for `octets` and anything else.
 */
export type AttributeValue = string | number | Buffer | Date | UnknownVendorAttribute;

/** A vendor-specific attribute that no loaded dictionary knows (RFC 2865 §5.26). `value` is hex. */
export interface UnknownVendorAttribute {
  /** The Vendor-Id: the vendor's SMI Network Management Private Enterprise Code. */
  vendorId: number;
  /** The vendor attribute type; 0 when the vendor data is not in the RFC 2865 §5.26 layout (then `value` is all of it). */
  type: number;
  /** The vendor attribute value (or the whole vendor data, see `type`), as lower-case hex. */
  value: string;
}

/** Attributes the client writes itself; configuring them is an error. */
const RESERVED = new Set([
  Attr.UserName,
  Attr.UserPassword,
  Attr.ChapPassword,
  Attr.State,
  Attr.MessageAuthenticator,
  Attr.ChapChallenge,
  Attr.ProxyState,
]);

/** One attribute encoded for the wire: its type and its bytes (type, length, value). */
export interface EncodedAttribute {
  /** Attribute type (RFC 2865 §5). */
  type: number;
  /** The whole attribute as sent: type, length, value. */
  bytes: Buffer;
}

/**
 * Encodes attribute/value pairs (by dictionary name) into wire bytes: a server's configured attributes at
 * construction, or one request's extra attributes. A `null` value sends nothing but still counts as named
 * (a server can turn a per-request default off that way); `named` holds the types of every pair, sent or
 * not. Text and number values are encoded once and then reused (see {@link encodePair}).
 *
 * @throws TypeError (prefixed with `label`) for an unknown name, a reserved attribute (User-Name,
 *   User-Password, CHAP-Password, CHAP-Challenge, State, Proxy-State, Message-Authenticator), or a value
 *   that does not fit the attribute's type (e.g. `NAS-Port: 1.5`; an integer is 0 to 4294967295).
 */
export function encodeAttributeList(
  pairs: ReadonlyArray<readonly [string, AttributeInput | null]>,
  label: string,
): { attributes: EncodedAttribute[]; named: Set<number> } {
  ensureLoaded();
  const attributes: EncodedAttribute[] = [];
  const named = new Set<number>();
  for (const [name, value] of pairs) {
    const encoded = encodePair(name, value, label);
    named.add(encoded.type);
    if (value !== null) attributes.push(encoded);
  }
  return { attributes, named };
}

/** Most text and number pairs remembered by {@link encodePair}; the memo starts over when full. */
const MEMO_LIMIT = 1024;
/**
 * Encoded text and number pairs, keyed by name, value type and value. The strategy sends the same few
 * per-request attributes on every sign-in (NAS-Port-Type = Virtual, Calling-Station-Id = one of the
 * clients' addresses): going through the dictionary, the `radius` codec and a scratch buffer each time
 * was a tenth of a sign-in's CPU (bench B2). Entries are frozen and their bytes are only ever copied.
 */
const memo = new Map<string, EncodedAttribute>();
let memoGeneration = -1;

/**
 * One pair, validated and encoded (for a `null` value: its type only, `bytes` empty). Text and number
 * values come from {@link memo} after their first use; Buffers are encoded each time. The memo is
 * dropped whenever dictionaries are (re)loaded, since a name may then mean another attribute.
 *
 * @throws TypeError as {@link encodeAttributeList} does (errors are never remembered).
 */
function encodePair(name: string, value: AttributeInput | null, label: string): EncodedAttribute {
  const memoable = typeof name === 'string' && (typeof value === 'string' || typeof value === 'number');
  let key = '';
  if (memoable) {
    if (memoGeneration !== dictionaryGeneration()) {
      memo.clear();
      memoGeneration = dictionaryGeneration();
    }
    key = `${name}\u0000${typeof value}\u0000${value}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
  }
  const encoded = encodeUncached(name, value, label);
  if (memoable) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(key, Object.freeze(encoded));
  }
  return encoded;
}

const NOTHING = Buffer.alloc(0);

/** {@link encodePair} without the memo. */
function encodeUncached(name: string, value: AttributeInput | null, label: string): EncodedAttribute {
  const type = typeof name === 'string' ? attributeType(name) : undefined;
  if (type === undefined) throw new TypeError(`${label}: unknown attribute "${String(name)}"`);
  if (RESERVED.has(type as never)) throw new TypeError(`${label}: "${name}" is set by the client and cannot be configured`);
  if (value === null) return { type, bytes: NOTHING };
  if (typeof value !== 'string' && typeof value !== 'number' && !Buffer.isBuffer(value)) {
    throw new TypeError(`${label}: "${name}" must be a string, a number or a Buffer`);
  }
  const dataType = attributeDataType(type);
  if (typeof value === 'number' && (!Number.isInteger(value) || value < 0 || value > 0xffffffff)) {
    throw new TypeError(`${label}: "${name}" must be a whole number from 0 to 4294967295 (got ${value})`);
  }
  if (typeof value === 'number' && dataType !== undefined && dataType !== 'integer' && dataType !== 'date' && dataType !== 'time') {
    throw new TypeError(`${label}: "${name}" takes ${dataType === 'ipaddr' ? 'an IPv4 address' : 'text or bytes'}, not a number`);
  }
  let input: AttributeInput = value;
  if (type === Attr.NasIpv6Address && typeof value === 'string') {
    if (!isIPv6(value)) throw new TypeError(`${label}: "${name}" must be an IPv6 address`);
    input = ipv6Bytes(value);
  }
  if (typeof input === 'string' && input.length === 0) throw new TypeError(`${label}: "${name}" must not be empty`);
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : Buffer.isBuffer(input) ? input.length : 4;
  if (size > MAX_ATTRIBUTE_VALUE_LENGTH) {
    throw new TypeError(`${label}: "${name}" is too long (${size} bytes; an attribute value holds at most 253)`);
  }
  const scratch = Buffer.alloc(512);
  let length: number;
  try {
    length = codec.encode_attributes(scratch, [[name, input]], NO_VENDOR);
  } catch (err) {
    throw new TypeError(`${label}: "${name}" has a value of the wrong type (${(err as Error).message})`, { cause: err });
  }
  if (length < 2 || length > 255) throw new TypeError(`${label}: "${name}" value is too long`);
  const fixed = dataType === undefined ? undefined : FIXED_LENGTH[dataType];
  if (fixed !== undefined && length - 2 !== fixed) throw new TypeError(`${label}: "${name}" has a value of the wrong type (${dataType})`);
  return { type, bytes: Buffer.from(scratch.subarray(0, length)) };
}

/**
 * Encodes configured attribute/value pairs (by dictionary name) into wire bytes, once, at construction
 * (see {@link encodeAttributeList}; `null` values send nothing).
 *
 * @throws TypeError as {@link encodeAttributeList} does.
 */
export function encodeConfiguredAttributes(
  pairs: ReadonlyArray<readonly [string, AttributeInput | null]>,
  label: string,
): Buffer {
  return Buffer.concat(encodeAttributeList(pairs, label).attributes.map((a) => a.bytes));
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = address.includes('::') ? groups(tail) : [];
  const fill = address.includes('::') ? Array<string>(8 - h.length - t.length).fill('0') : [];
  const all = [...h, ...fill, ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Decoded reply attributes by dictionary name; repeated attributes become arrays in wire order. */
export type DecodedAttributes = Record<string, AttributeValue | AttributeValue[]>;

function add(target: DecodedAttributes, name: string, value: AttributeValue): void {
  const existing = target[name];
  if (existing === undefined) target[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else target[name] = [existing, value];
}

function decodeOne(type: number, value: Buffer, vendor: number): { name: string; value: AttributeValue } | undefined {
  const name = codec.attr_id_to_name(type, vendor);
  if (name === undefined) return undefined;
  if (vendor === NO_VENDOR && type === Attr.UserPassword) return { name, value: Buffer.from(value) };
  const dataType = attributeDataType(type, vendor);
  const fixed = dataType === undefined ? undefined : FIXED_LENGTH[dataType];
  if (fixed !== undefined && value.length !== fixed) return { name, value: Buffer.from(value) };
  const hash: Record<string, unknown> = {};
  try {
    const tlv = Buffer.concat([Buffer.of(type, value.length + 2), value]);
    codec.decode_attributes(tlv, hash, vendor);
  } catch {
    return { name, value: Buffer.from(value) };
  }
  const decoded = hash[name];
  if (decoded === undefined || decoded === null) return { name, value: Buffer.from(value) };
  if (Buffer.isBuffer(decoded)) return { name, value: Buffer.from(decoded) };
  if (typeof decoded === 'string' || typeof decoded === 'number' || decoded instanceof Date) return { name, value: decoded };
  return { name, value: Buffer.from(value) };
}

/**
 * Decodes reply attributes by dictionary name (RFC 2865 §5). Message-Authenticator is left out (it has
 * been verified). An unknown standard attribute is kept as `Attr-<type>` with its bytes; a vendor-specific
 * attribute no dictionary knows is kept under `Vendor-Specific` as {@link UnknownVendorAttribute}.
 * Never throws.
 */
export function decodeAttributes(attributes: readonly RawAttribute[]): DecodedAttributes {
  ensureLoaded();
  const out: DecodedAttributes = {};
  for (const { type, value } of attributes) {
    if (type === Attr.MessageAuthenticator) continue;
    if (type === Attr.VendorSpecific) {
      decodeVendorSpecific(value, out);
      continue;
    }
    const decoded = decodeOne(type, value, NO_VENDOR);
    if (decoded) add(out, decoded.name, decoded.value);
    else add(out, `Attr-${type}`, Buffer.from(value));
  }
  return out;
}

function decodeVendorSpecific(value: Buffer, out: DecodedAttributes): void {
  if (value.length < 4) {
    add(out, `Attr-${Attr.VendorSpecific}`, Buffer.from(value)); // no Vendor-Id: kept, never a crash
    return;
  }
  const vendorId = value.readUInt32BE(0);
  const data = value.subarray(4);
  const subs: RawAttribute[] = [];
  let offset = 0;
  while (offset < data.length) {
    const type = data[offset]!;
    const length = data[offset + 1] ?? 0;
    if (length < 2 || offset + length > data.length) {
      // Not the RFC 2865 §5.26 suggested format: keep the whole vendor data raw.
      add(out, 'Vendor-Specific', { vendorId, type: 0, value: data.toString('hex') });
      return;
    }
    subs.push({ type, value: data.subarray(offset + 2, offset + length) });
    offset += length;
  }
  for (const sub of subs) {
    const decoded = decodeOne(sub.type, sub.value, vendorId);
    if (decoded) add(out, decoded.name, decoded.value);
    else add(out, 'Vendor-Specific', { vendorId, type: sub.type, value: sub.value.toString('hex') });
  }
}
