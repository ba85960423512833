/**
 * Server and client options: their public shapes (with defaults) and their validation, done once at
 * construction. Every problem throws a `TypeError` naming the option and what is wrong with it.
 */
import { isIP } from 'node:net';
import { encodeConfiguredAttributes, loadDictionaries, type AttributeInput } from './protocol/dictionary';
import { Attr } from './protocol/packet';

/** How the password is sent: PAP hides it in User-Password (RFC 2865 §5.2); CHAP sends CHAP-Password (§5.3). */
export type RadiusProtocol = 'pap' | 'chap';

/** One RADIUS server: where it is, how to authenticate to it, and what to send it. */
export interface RadiusServerOptions {
  /** How logs, events and errors name this server. Required, unique within a client. */
  name: string;
  /**
   * `'host'`, `'host:port'`, `'a.b.c.d:port'` or `'[v6]:port'` (a bare IPv6 address also works). Host names
   * are resolved each time the server is used. Required; the port defaults to 1812 (RFC 2865 §3).
   */
  address: string;
  /** The shared secret: a non-empty string (used as UTF-8) or Buffer. Required. Never logged. */
  secret: string | Buffer;
  /** `'pap'` or `'chap'`. Default `'pap'`. */
  protocol?: RadiusProtocol;
  /**
   * Attribute/value pairs sent in every Access-Request, by dictionary name, e.g.
   * `{ 'NAS-Identifier': 'console' }` or `[['Class', 'a'], ['Class', 'b']]`. NAS-Identifier, NAS-IP-Address
   * or NAS-IPv6-Address is required (RFC 2865 §4.1). Values: string, number (or enum name) or Buffer.
   * User-Name, User-Password, CHAP-Password, CHAP-Challenge, State, Proxy-State and Message-Authenticator
   * are set by the client and cannot be configured.
   */
  attributes: Record<string, AttributeInput> | ReadonlyArray<readonly [string, AttributeInput]>;
  /** Total wait for a valid reply, in milliseconds (retransmissions included), 1 to 600000. Default 5000. */
  timeout?: number;
  /** Retransmissions of the identical packet within `timeout`, spaced evenly: a whole number, 0 to 20. Default 2. */
  retries?: number;
  /**
   * Drop replies without a valid Message-Authenticator (RFC 3579 §3.2; CVE-2024-3596 "BlastRADIUS").
   * With `false`, a reply without one is accepted, but one that carries it must still be valid. Default `true`.
   */
  requireMessageAuthenticator?: boolean;
  /**
   * Never fail over past this server: its Access-Reject, its silence or its unreachability ends the
   * sign-in, and hold-down never moves it behind other servers. Set it on a two-factor server so that a
   * single-factor server listed after it cannot stand in for it (when it is slow, down, or rejects).
   * Default `false`.
   */
  final?: boolean;
}

/** A server after validation. @internal */
export interface NormalizedServer {
  /** The server's configured name, unique within a client. */
  name: string;
  /** The configured address, trimmed (`host[:port]`), as logs and `RadiusClient.servers()` show it. */
  address: string;
  /** Host name or IP address from `address`, without brackets; a host name is resolved at each use. */
  host: string;
  /** UDP port from `address`; 1812 when none was given (RFC 2865 §3). */
  port: number;
  /** The shared secret as bytes (a string secret is taken as UTF-8). Never logged. */
  secret: Buffer;
  /** `'pap'` or `'chap'`; `'pap'` when not configured. */
  protocol: RadiusProtocol;
  /** The configured `attributes`, already encoded to wire bytes (type, length, value), in order. */
  attributes: Buffer;
  /** Total wait for a valid reply, in milliseconds (1 to 600000). Default 5000. */
  timeout: number;
  /** Retransmissions of the identical packet within `timeout` (0 to 20). Default 2. */
  retries: number;
  /** Whether replies without a valid Message-Authenticator are dropped (RFC 3579 §3.2). Default `true`. */
  requireMessageAuthenticator: boolean;
  /** See {@link RadiusServerOptions.final}. */
  final: boolean;
}

/** Options of {@link RadiusClient}. */
export interface RadiusClientOptions {
  /** The servers, tried in this order. Required, at least one. */
  servers: RadiusServerOptions[];
  /** After an Access-Reject, try the next server (a user unknown to one server may be known to the next). Default `true`. */
  failoverOnReject?: boolean;
  /** After a server gives no valid reply in time (or is unreachable), try the next. Default `true`. */
  failoverOnTimeout?: boolean;
  /**
   * Milliseconds (0 to 86400000) a server that did not answer is held down: it is tried only after the
   * others, and only when none of them gave a verified reply. When every server is held down, all are
   * tried anyway. Default 30000; 0 disables hold-down.
   */
  holdDown?: number;
  /**
   * Paths of FreeRADIUS-format dictionary files to load (vendor attributes decode by name). Loaded
   * process-wide: they serve every client and cannot be unloaded. Default none.
   */
  dictionaries?: string[];
}

/** Client options after validation. @internal */
export interface NormalizedClientOptions {
  /** The validated servers, in configured order; names are unique. */
  servers: NormalizedServer[];
  /** After an Access-Reject, try the next server. Default `true`. */
  failoverOnReject: boolean;
  /** After no valid reply in time (or an unreachable server), try the next server. Default `true`. */
  failoverOnTimeout: boolean;
  /** Milliseconds a server that did not answer is skipped (0 to 86400000; 0 disables). Default 30000. */
  holdDown: number;
}

const NAS_ATTRIBUTES = new Set<number>([Attr.NasIdentifier, Attr.NasIpAddress, Attr.NasIpv6Address]);

/** Parses `host`, `host:port`, `[v6]` or `[v6]:port`. Returns undefined when it is none of those. */
export function parseAddress(address: string): { host: string; port: number } | undefined {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (isIP(host) !== 6) return undefined;
  } else {
    const m = /^([A-Za-z0-9._-]+)(?::(\d+))?$/.exec(address);
    if (!m) return undefined;
    host = m[1]!;
    portText = m[2];
    if (/^[\d.]+$/.test(host) && isIP(host) !== 4) return undefined;
    if (host.startsWith('.') || host.endsWith('-') || host.includes('..')) return undefined;
  }
  const port = portText === undefined ? 1812 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TypeError(message);
}

/** Option names of {@link RadiusServerOptions}. */
const SERVER_KEYS = new Set(['name', 'address', 'secret', 'protocol', 'attributes', 'timeout', 'retries', 'requireMessageAuthenticator', 'final']);
/** Option names of {@link RadiusClientOptions}. */
export const CLIENT_KEYS: readonly string[] = ['servers', 'failoverOnReject', 'failoverOnTimeout', 'holdDown', 'dictionaries'];

/**
 * Throws `TypeError` for a key that is not among `known` (a misspelt option would otherwise be ignored
 * silently, e.g. `failoverOnRejct`).
 */
export function checkKnownKeys(input: object, known: ReadonlySet<string>, label: string): void {
  for (const key of Object.keys(input)) {
    check(known.has(key), `${label}: unknown option "${key}"`);
  }
}

function optionalNumber(value: unknown, fallback: number, label: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  check(typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max, `${label} must be a number from ${min} to ${max}`);
  return value;
}

function optionalBoolean(value: unknown, fallback: boolean, label: string): boolean {
  if (value === undefined) return fallback;
  check(typeof value === 'boolean', `${label} must be true or false`);
  return value;
}

/** Validates one server. Throws `TypeError` whose message starts with `label` (e.g. `RadiusStrategy: servers[1]`). */
export function normalizeServer(input: unknown, label: string): NormalizedServer {
  check(typeof input === 'object' && input !== null, `${label} must be an object`);
  const s = input as Partial<RadiusServerOptions>;
  checkKnownKeys(s, SERVER_KEYS, label);
  check(typeof s.name === 'string' && s.name.trim() !== '', `${label}.name must be a non-empty string`);
  check(typeof s.address === 'string', `${label}.address must be host[:port]`);
  const parsed = parseAddress(s.address.trim());
  check(
    parsed,
    isIP(s.address.trim()) === 6
      ? `${label}.address must put an IPv6 address in brackets, e.g. "[${s.address.trim()}]" or "[${s.address.trim()}]:1812"`
      : `${label}.address must be host[:port] (e.g. "radius.example.com:1812", "10.0.0.5" or "[::1]:1812")`,
  );
  check(
    (typeof s.secret === 'string' && s.secret.length > 0) || (Buffer.isBuffer(s.secret) && s.secret.length > 0),
    `${label}.secret must be a non-empty string or Buffer`,
  );
  const protocol = s.protocol ?? 'pap';
  check(protocol === 'pap' || protocol === 'chap', `${label}.protocol must be "pap" or "chap"`);
  const rawAttributes = s.attributes ?? [];
  check(typeof rawAttributes === 'object' && rawAttributes !== null, `${label}.attributes must be an object or an array of [name, value] pairs`);
  const pairs: Array<readonly [string, AttributeInput]> = Array.isArray(rawAttributes)
    ? (rawAttributes as ReadonlyArray<readonly [string, AttributeInput]>).map((pair, i) => {
        check(Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string', `${label}.attributes[${i}] must be a [name, value] pair`);
        return pair;
      })
    : Object.entries(rawAttributes as Record<string, AttributeInput>);
  const attributes = encodeConfiguredAttributes(pairs, `${label}.attributes`);
  let hasNas = false;
  for (let offset = 0; offset < attributes.length; offset += attributes[offset + 1]!) {
    if (NAS_ATTRIBUTES.has(attributes[offset]!)) hasNas = true;
  }
  check(hasNas, `${label}.attributes must include NAS-Identifier, NAS-IP-Address or NAS-IPv6-Address (RFC 2865 §4.1)`);
  const timeout = optionalNumber(s.timeout, 5000, `${label}.timeout`, 1, 600_000);
  const retries = optionalNumber(s.retries, 2, `${label}.retries`, 0, 20);
  check(Number.isInteger(retries), `${label}.retries must be a whole number`);
  return {
    name: s.name,
    address: s.address.trim(),
    host: parsed.host,
    port: parsed.port,
    secret: typeof s.secret === 'string' ? Buffer.from(s.secret, 'utf8') : Buffer.from(s.secret),
    protocol,
    attributes,
    timeout,
    retries,
    requireMessageAuthenticator: optionalBoolean(s.requireMessageAuthenticator, true, `${label}.requireMessageAuthenticator`),
    final: optionalBoolean(s.final, false, `${label}.final`),
  };
}

/** Validates client options; `prefix` names the caller in messages (e.g. `RadiusStrategy`). */
export function normalizeClientOptions(input: unknown, prefix: string, extraKeys: readonly string[] = []): NormalizedClientOptions {
  check(typeof input === 'object' && input !== null, `${prefix}: options must be an object`);
  const o = input as Partial<RadiusClientOptions>;
  checkKnownKeys(o, new Set([...CLIENT_KEYS, ...extraKeys]), prefix);
  if (o.dictionaries !== undefined) {
    check(Array.isArray(o.dictionaries) && o.dictionaries.every((d) => typeof d === 'string'), `${prefix}: dictionaries must be an array of file paths`);
    loadDictionaries(o.dictionaries, `${prefix}: dictionaries`);
  }
  check(Array.isArray(o.servers) && o.servers.length > 0, `${prefix}: servers must be a non-empty array`);
  const servers = o.servers.map((s, i) => normalizeServer(s, `${prefix}: servers[${i}]`));
  const seen = new Set<string>();
  servers.forEach((s, i) => {
    check(!seen.has(s.name), `${prefix}: servers[${i}].name "${s.name}" is used twice`);
    seen.add(s.name);
  });
  return {
    servers,
    failoverOnReject: optionalBoolean(o.failoverOnReject, true, `${prefix}: failoverOnReject`),
    failoverOnTimeout: optionalBoolean(o.failoverOnTimeout, true, `${prefix}: failoverOnTimeout`),
    holdDown: optionalNumber(o.holdDown, 30_000, `${prefix}: holdDown`, 0, 86_400_000),
  };
}
