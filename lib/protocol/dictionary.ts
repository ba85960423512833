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
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import radiusModule from 'radius';
import { Attr, MAX_ATTRIBUTE_VALUE_LENGTH, type RawAttribute } from './packet';

/** The parts of the `radius` package used here (its published types omit them). */
interface RadiusCodec {
  load_dictionaries(): void;
  unload_dictionaries(): void;
  add_dictionary(file: string): void;
  attr_name_to_id(name: string, vendorId?: number): string | undefined;
  attr_id_to_name(id: number | string, vendorId?: number): string | undefined;
  vendor_name_to_id(name: string): string | undefined;
  encode_attributes(packet: Buffer, attributes: Array<[string, string | number | Buffer]>, vendor: number): number;
  decode_attributes(data: Buffer, hash: Record<string, unknown>, vendor: number): void;
}

/** Value lengths fixed by a data type (RFC 2865 §5, RFC 3162 §2.3); other lengths are kept raw. */
const FIXED_LENGTH: Record<string, number> = { ipaddr: 4, integer: 4, date: 4, time: 4, ipv6addr: 16 };

const codec = radiusModule as unknown as RadiusCodec;
const NO_VENDOR = -1;
const loaded = new Set<string>();
/** True once the `radius` package's dictionaries (and ours) are loaded and {@link dataTypes} is filled. */
let ready = false;

/**
 * Our own table of attribute data types (`'integer'`, `'ipaddr'`, …), keyed `vendor:id` and `vendor:name`
 * (vendor -1 for standard attributes), read from the same files the `radius` package reads, in the same
 * order and with the same "last definition wins" rule — so that length checks need none of its private
 * look-ups.
 */
const dataTypes = new Map<string, string>();
/** Vendor name → Vendor-Id, as the files declare them (for BEGIN-VENDOR blocks). */
const vendorIds = new Map<string, number>();

/** Records the ATTRIBUTE lines of one dictionary file (and its `$INCLUDE`s) in {@link dataTypes}. */
function recordTypes(file: string, seen: Set<string>): void {
  if (seen.has(file)) return;
  seen.add(file);
  let vendor = NO_VENDOR;
  for (const raw of readFileSync(file, 'ascii').split('\n')) {
    const line = raw.replace(/#.*/, '').replace(/\s+/g, ' ');
    let m = /^\s*VENDOR\s+(\S+)\s+(\d+)/.exec(line);
    if (m) {
      vendorIds.set(m[1]!, Number(m[2]));
      continue;
    }
    if ((m = /^\s*BEGIN-VENDOR\s+(\S+)/.exec(line))) {
      vendor = vendorIds.get(m[1]!) ?? NO_VENDOR;
      continue;
    }
    if (/^\s*END-VENDOR/.test(line)) {
      vendor = NO_VENDOR;
      continue;
    }
    if ((m = /^\s*(?:VENDORATTR\s+(\d+)|ATTRIBUTE)\s+(\S+)\s+(\d+)\s+(\S+)/.exec(line))) {
      const v = m[1] !== undefined ? Number(m[1]) : vendor;
      const type = m[4]!.toLowerCase();
      dataTypes.set(`${v}:${Number(m[3])}`, type);
      dataTypes.set(`${v}:${m[2]!}`, type);
      continue;
    }
    if ((m = /^\s*\$INCLUDE\s+(.*)/.exec(line))) recordTypes(join(dirname(file), m[1]!), seen);
  }
}

/** The `radius` package's own dictionary directory (it loads every file there, in directory order). */
function packageDictionaryFiles(): string[] {
  const dir = join(dirname(require.resolve('radius')), '..', 'dictionaries');
  return readdirSync(dir).map((f) => join(dir, f));
}

/**
 * The data type of an attribute by number or name (`vendorId` -1 for standard ones), from our own
 * table, e.g. `'integer'` for NAS-Port; undefined when no loaded dictionary defines it.
 */
export function attributeDataType(attr: number | string, vendorId = NO_VENDOR): string | undefined {
  ensureLoaded();
  return dataTypes.get(`${vendorId}:${attr}`);
}

/** Loads the built-in dictionaries on first use (cheap check afterwards). */
function ensureLoaded(): void {
  if (!ready) loadDictionaries([]);
}

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

/** What a validation pass over dictionary files found. */
interface DictionaryScan {
  /** Vendor names declared so far (VENDOR lines), so BEGIN-VENDOR can be checked. */
  vendors: Set<string>;
  /** ATTRIBUTE, VALUE and VENDOR lines seen. */
  definitions: number;
}

/**
 * Checks one FreeRADIUS-format dictionary file (and the files it `$INCLUDE`s) for what the `radius` package
 * would read silently wrong or fail on later: a missing or unreadable file or include, a vendor whose
 * format is not RFC 2865 §5.26's one-byte type and length (`format=2,1`, `format=4,0`, `format=1,1,c`), an
 * extended vendor block (`BEGIN-VENDOR … format=…`, RFC 6929), a block for a vendor never declared, and an
 * old-style trailing vendor name on ATTRIBUTE (which the package would take as a standard attribute).
 */
function scanDictionary(file: string, label: string, scan: DictionaryScan, chain: readonly string[]): void {
  if (chain.includes(file)) return; // an include loop: the radius package also reads each file once
  const where = chain.length === 0 ? file : `${file} (included from ${chain[chain.length - 1]!})`;
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new TypeError(`${label}: ${where} is not a file`);
    text = readFileSync(file, 'ascii');
  } catch (err) {
    if (err instanceof TypeError) throw err;
    throw new TypeError(`${label}: cannot read dictionary file ${where} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const fail = (line: number, problem: string): never => {
    throw new TypeError(`${label}: ${where} line ${line}: ${problem}`);
  };
  let inVendor = false;
  text.split('\n').forEach((raw, index) => {
    const lineNo = index + 1;
    // The same normalisation as the radius package: comments out, whitespace runs to one space.
    const line = raw.replace(/#.*/, '').replace(/\s+/g, ' ');
    const words = line.trim().split(' ');
    const keyword = words[0] ?? '';
    const include = /^\s*\$INCLUDE\s+(.*)/.exec(line);
    if (include) {
      // Resolved exactly as the radius package resolves it, so that what is checked is what it will read.
      const target = join(dirname(file), include[1]!);
      if (!existsSync(target)) fail(lineNo, `$INCLUDE of ${JSON.stringify(include[1]!.trim())}: ${target} does not exist`);
      scanDictionary(target, label, scan, [...chain, file]);
      return;
    }
    if (keyword === 'VENDOR') {
      const [, name, id, extra] = words;
      if (name === undefined || id === undefined || !/^\d+$/.test(id)) return fail(lineNo, 'VENDOR needs a name and a number');
      if (extra !== undefined && /^format=/i.test(extra) && extra.toLowerCase() !== 'format=1,1') {
        fail(lineNo, `vendor ${name} uses ${extra}, which cannot be decoded (only the RFC 2865 §5.26 layout, format=1,1); load the dictionaries of the vendors you need one by one`);
      }
      scan.vendors.add(name);
      scan.definitions++;
    } else if (keyword === 'BEGIN-VENDOR') {
      const [, name, extra] = words;
      if (name === undefined) return fail(lineNo, 'BEGIN-VENDOR needs a vendor name');
      if (extra !== undefined) fail(lineNo, `BEGIN-VENDOR ${name} ${extra} (an extended vendor block, RFC 6929) cannot be decoded`);
      if (!scan.vendors.has(name) && codec.vendor_name_to_id(name) === undefined) fail(lineNo, `BEGIN-VENDOR ${name}: no VENDOR ${name} line declares it`);
      inVendor = true;
    } else if (keyword === 'END-VENDOR') {
      inVendor = false;
    } else if (keyword === 'ATTRIBUTE') {
      const [, name, id, , flags] = words;
      if (name === undefined || id === undefined) return fail(lineNo, 'ATTRIBUTE needs a name, a number and a type');
      if (!inVendor && flags !== undefined && !flags.includes('=') && (scan.vendors.has(flags) || codec.vendor_name_to_id(flags) !== undefined)) {
        fail(lineNo, `ATTRIBUTE ${name} names its vendor (${flags}) in the old style; use BEGIN-VENDOR ${flags} … END-VENDOR`);
      }
      scan.definitions++;
    } else if (keyword === 'VALUE') {
      scan.definitions++;
    }
  });
}

/**
 * Loads FreeRADIUS-format dictionary files in addition to the `radius` package's own (RFC dictionaries),
 * so that vendor-specific attributes decode by name. An explicit, idempotent step: `RadiusClient` calls it
 * once at construction with its `dictionaries` option (before the servers' attributes are checked, so they
 * may name attributes from those files); calling it again with files already loaded does nothing.
 *
 * **Process-wide**: the `radius` package keeps one dictionary per process, so a file loaded for one client
 * or strategy serves every other one too, and it cannot be unloaded. That is harmless when the files agree
 * (a vendor's numbers mean the same everywhere); when two files define the same number differently, the
 * one loaded last wins.
 *
 * Each file is checked first (see `scanDictionary`), so that nothing is added that the package would
 * later fail on or read wrong.
 *
 * @throws TypeError (prefixed with `label`) naming the file (and line) that does not exist, cannot be read,
 *   defines nothing, or uses syntax that cannot be decoded.
 */
export function loadDictionaries(paths: readonly string[], label = 'dictionaries'): void {
  const fresh = [...new Set(paths.map((p) => resolve(p)))].filter((p) => !loaded.has(p));
  for (const file of fresh) {
    if (!existsSync(file)) throw new TypeError(`${label}: dictionary file ${file} does not exist`);
    const scan: DictionaryScan = { vendors: new Set(), definitions: 0 };
    scanDictionary(file, label, scan, []);
    if (scan.definitions === 0) throw new TypeError(`${label}: ${file} defines no attributes (is it a FreeRADIUS dictionary file?)`);
  }
  if (ready && fresh.length === 0) return;
  if (fresh.length > 0) {
    for (const file of fresh) {
      codec.add_dictionary(file);
      loaded.add(file);
    }
    codec.unload_dictionaries();
  }
  try {
    codec.load_dictionaries();
  } catch (err) {
    throw new TypeError(`${label}: a dictionary could not be loaded: ${(err as Error).message}`, { cause: err });
  }
  // Our type table, rebuilt from the same files in the same order as the package just read them.
  dataTypes.clear();
  vendorIds.clear();
  const seen = new Set<string>();
  for (const file of [...packageDictionaryFiles(), ...loaded]) recordTypes(file, seen);
  ready = true;
}

/** The dictionary files loaded so far with {@link loadDictionaries}, as absolute paths. @internal (for tests) */
export function loadedDictionaryFiles(): readonly string[] {
  return [...loaded];
}

/** The attribute number of a standard (non-vendor) attribute name, or undefined when unknown. */
export function attributeType(name: string): number | undefined {
  ensureLoaded();
  const id = codec.attr_name_to_id(name);
  return id === undefined ? undefined : Number(id);
}

/** One attribute encoded for the wire: its type and its bytes (type, length, value). */
export interface EncodedAttribute {
  /** Attribute type (RFC 2865 §5). */
  type: number;
  /** The whole attribute as sent: type, length, value. */
  bytes: Buffer;
}

/**
 * Encodes attribute/value pairs (by dictionary name) into wire bytes, once: a server's configured
 * attributes at construction, or one request's extra attributes. A `null` value sends nothing but still
 * counts as named (a server can turn a per-request default off that way); `named` holds the types of
 * every pair, sent or not.
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
    const type = typeof name === 'string' ? attributeType(name) : undefined;
    if (type === undefined) throw new TypeError(`${label}: unknown attribute "${String(name)}"`);
    if (RESERVED.has(type as never)) throw new TypeError(`${label}: "${name}" is set by the client and cannot be configured`);
    named.add(type);
    if (value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && !Buffer.isBuffer(value)) {
      throw new TypeError(`${label}: "${name}" must be a string, a number or a Buffer`);
    }
    const dataType = dataTypes.get(`${NO_VENDOR}:${type}`);
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
    attributes.push({ type, bytes: Buffer.from(scratch.subarray(0, length)) });
  }
  return { attributes, named };
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
  const dataType = dataTypes.get(`${vendor}:${type}`);
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
