/**
 * Dictionary loading, process-wide: the `radius` package's own RFC dictionaries plus the files an app
 * names (`dictionaries`), each checked before the package reads it, and our own table of attribute data
 * types read from the same files (so that length checks need none of the package's private look-ups).
 * Loading is an explicit, idempotent step ({@link loadDictionaries}); encoding and decoding load the
 * built-in dictionaries on first use only.
 *
 * @internal
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import radiusModule from 'radius';
/** The parts of the `radius` package used here (its published types omit them). */
export interface RadiusCodec {
  load_dictionaries(): void;
  unload_dictionaries(): void;
  add_dictionary(file: string): void;
  attr_name_to_id(name: string, vendorId?: number): string | undefined;
  attr_id_to_name(id: number | string, vendorId?: number): string | undefined;
  vendor_name_to_id(name: string): string | undefined;
  encode_attributes(packet: Buffer, attributes: Array<[string, string | number | Buffer]>, vendor: number): number;
  decode_attributes(data: Buffer, hash: Record<string, unknown>, vendor: number): void;
}

/** The `radius` package, typed as used. */
export const codec = radiusModule as unknown as RadiusCodec;
/** Vendor id of standard (non-vendor) attributes in the package's and our tables. */
export const NO_VENDOR = -1;
const loaded = new Set<string>();
/** True once the `radius` package's dictionaries (and ours) are loaded and {@link dataTypes} is filled. */
let ready = false;
/** Counts (re)loads, so that anything derived from the dictionaries can tell it is stale. */
let generation = 0;

/** How many times the dictionaries were (re)loaded; anything cached from them is stale once it changes. */
export function dictionaryGeneration(): number {
  return generation;
}

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
export function ensureLoaded(): void {
  if (!ready) loadDictionaries([]);
}

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
  generation++;
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
