/**
 * The one option schema: every option of a server, of the client and of the strategy — its name, its
 * type, its default and its validation — in one table each ({@link SERVER_OPTIONS}, {@link CLIENT_OPTIONS},
 * {@link STRATEGY_OPTIONS}). The client, the strategy, the probe and the CLI's `--config` all read these
 * tables, so an option added here is accepted everywhere at once. Validation runs once, at construction;
 * every problem throws a `TypeError` naming the option and what is wrong with it. How a table is read
 * (own properties, unknown names refused, the option specs) is lib/option-schema.ts.
 */
import { bracketHint, parseAddress } from './address';
import { PER_REQUEST_DEFAULTS_LENGTH } from './request';
import { booleanOption, check, numberOption, readOptions, topLevel, type OptionSpec, type Parsed } from './option-schema';
import { encodeAttributeList, loadDictionaries, type AttributeInput } from './protocol/dictionary';
import { normalizeTls, RADSEC_PORT, RADSEC_SECRET, type NormalizedTls, type RadiusTlsOptions } from './tls/options';
import { Attr, HEADER_LENGTH, MAX_ATTRIBUTE_VALUE_LENGTH, MAX_PACKET_LENGTH, MAX_PASSWORD_LENGTH } from './protocol/packet';

/** How the password is sent: PAP hides it in User-Password (RFC 2865 §5.2); CHAP sends CHAP-Password (§5.3). */
export type RadiusProtocol = 'pap' | 'chap';

/** One RADIUS server: where it is, how to authenticate to it, and what to send it. */
export interface RadiusServerOptions {
  /** How logs, events and errors name this server. Required, unique within a client. */
  name: string;
  /**
   * `'host'`, `'host:port'`, `'a.b.c.d:port'`, `'[v6]'` or `'[v6]:port'` (an IPv6 address needs its
   * brackets). Host names are resolved each time the server is used. Broadcast, multicast and unspecified
   * addresses are refused. Required; the port defaults to 1812 (RFC 2865 §3).
   */
  address: string;
  /**
   * The shared secret: a non-empty string (used as UTF-8) or Buffer. Never logged. Required with UDP; with
   * `transport: 'tls'` it defaults to `'radsec'` (RFC 6614 §2.3).
   */
  secret?: string | Buffer;
  /**
   * `'udp'` (RFC 2865) or `'tls'`: RADIUS over TLS, RadSec (RFC 6614, draft-ietf-radext-radiusdtls-bis), for
   * servers across networks that are not trusted; needs `tls`. With `'tls'` the port of `address` defaults
   * to 2083. Default `'udp'`.
   */
  transport?: 'udp' | 'tls';
  /** Certificates, key or PSK for `transport: 'tls'` (see {@link RadiusTlsOptions}). Required with it. */
  tls?: RadiusTlsOptions;
  /** `'pap'` or `'chap'`. Default `'pap'`. */
  protocol?: RadiusProtocol;
  /**
   * Attribute/value pairs sent in every Access-Request, by dictionary name, e.g.
   * `{ 'NAS-Identifier': 'console' }` or `[['Class', 'a'], ['Class', 'b']]`. NAS-Identifier, NAS-IP-Address
   * or NAS-IPv6-Address is required (RFC 2865 §4.1). Values: string, number (a whole number, or an enum
   * name) or Buffer; `null` sends nothing and keeps a per-request attribute of that name out of this
   * server's requests. User-Name, User-Password, CHAP-Password, CHAP-Challenge, State, Proxy-State and
   * Message-Authenticator are set by the client and cannot be configured. Together they must leave room in
   * one 4096-byte packet for the largest User-Name, User-Password and State and the strategy's
   * Calling-Station-Id and NAS-Port-Type (at most 3346 bytes encoded).
   */
  attributes: Record<string, AttributeInput | null> | ReadonlyArray<readonly [string, AttributeInput | null]>;
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
  /**
   * How the password (and a challenge response) becomes bytes before PAP hiding or CHAP hashing: `'utf8'`,
   * or `'latin1'` for servers that compare Latin-1 bytes (Microsoft NPS compares in the Windows code page).
   * With `'latin1'`, a password holding a character outside Latin-1 is refused (`RadiusConfigError`) rather
   * than sent altered. Default `'utf8'`.
   */
  passwordEncoding?: 'utf8' | 'latin1';
  /**
   * Let an empty challenge response be sent to this server. Some two-factor servers invite it: an empty
   * answer to FortiAuthenticator's Access-Challenge sends a push; privacyIDEA polls a push token with one.
   * Otherwise an empty code is refused before any packet is sent (`fail` 400). Default `false`.
   */
  allowEmptyResponse?: boolean;
  /**
   * Where Accounting-Requests for this server go (RFC 2866), when the strategy's `accounting` is on:
   * `'host'`, `'host:port'` or `'[v6]:port'`, sent with this server's shared secret, `timeout` and
   * `retries`. Default: the host of `address` with port 1813 (RFC 2866 §3); with `transport: 'tls'`, the
   * same address and port as the rest (RadSec carries accounting too, RFC 6614 §2.1; port 2083 when
   * `accountingAddress` gives none).
   */
  accountingAddress?: string;
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
   * Milliseconds (0 to 86400000) a server shown dead is held down: it is tried only after the others, and
   * only when none of them gave a verified reply. When every server is held down, all are tried anyway.
   * A server is shown dead only on evidence — no verified reply to a Status-Server / Access-Request
   * watchdog (RFC 5997 §4.4) sent from a fresh source port while its requests go unanswered, or a DNS
   * failure — never by one slow request (a push waiting for the user) nor by an ICMP error alone.
   * Default 30000; 0 disables hold-down (and the watchdog).
   */
  holdDown?: number;
  /**
   * Paths of FreeRADIUS-format dictionary files to load (vendor attributes decode by name). Loaded
   * process-wide: they serve every client and cannot be unloaded. Default none.
   */
  dictionaries?: string[];
}

const NAS_ATTRIBUTES = new Set<number>([Attr.NasIdentifier, Attr.NasIpAddress, Attr.NasIpv6Address]);

/**
 * Bytes of configured attributes that still leave room, in one packet (RFC 2865 §3: at most 4096 bytes),
 * for the header, Message-Authenticator, the largest User-Name, the largest User-Password, the largest
 * State and the strategy's per-request Calling-Station-Id and NAS-Port-Type:
 * 4096 − 20 − 18 − 255 − 130 − 255 − 72 = 3346.
 */
export const MAX_CONFIGURED_ATTRIBUTES_LENGTH =
  MAX_PACKET_LENGTH - HEADER_LENGTH - 18 - 2 * (2 + MAX_ATTRIBUTE_VALUE_LENGTH) - (2 + MAX_PASSWORD_LENGTH) - PER_REQUEST_DEFAULTS_LENGTH;

/** A server's configured attributes, encoded: the bytes sent and the types named (also the `null` ones). */
export interface ConfiguredAttributes {
  /** Wire bytes (type, length, value), in configured order. */
  bytes: Buffer;
  /** Types of every configured name, including those configured as `null` (sent never). */
  named: ReadonlySet<number>;
}

const attributesOption: OptionSpec<ConfiguredAttributes> = {
  parse(value, label) {
    const raw = value ?? [];
    check(typeof raw === 'object' && raw !== null, `${label} must be an object or an array of [name, value] pairs`);
    const pairs: Array<readonly [string, AttributeInput | null]> = Array.isArray(raw)
      ? (raw as unknown[]).map((pair, i) => {
          check(Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string', `${label}[${i}] must be a [name, value] pair`);
          return pair as unknown as readonly [string, AttributeInput | null];
        })
      : (Object.entries(raw) as Array<[string, AttributeInput | null]>);
    const { attributes, named } = encodeAttributeList(pairs, label);
    check(
      attributes.some((a) => NAS_ATTRIBUTES.has(a.type)),
      `${label} must include NAS-Identifier, NAS-IP-Address or NAS-IPv6-Address (RFC 2865 §4.1)`,
    );
    const bytes = Buffer.concat(attributes.map((a) => a.bytes));
    check(
      bytes.length <= MAX_CONFIGURED_ATTRIBUTES_LENGTH,
      `${label} take ${bytes.length} bytes; an Access-Request must fit in 4096 bytes (RFC 2865 §3) with the largest ` +
        `User-Name, User-Password and State and the strategy's Calling-Station-Id and NAS-Port-Type, which leaves ${MAX_CONFIGURED_ATTRIBUTES_LENGTH}`,
    );
    return { bytes, named };
  },
};

/** The server option schema: one entry per {@link RadiusServerOptions} field (the compiler checks both agree). */
export const SERVER_OPTIONS = {
  name: {
    parse(value: unknown, label: string): string {
      check(typeof value === 'string' && value.trim() !== '', `${label} must be a non-empty string`);
      return value;
    },
  },
  address: {
    parse(value: unknown, label: string): string {
      check(typeof value === 'string', `${label} must be host[:port]`);
      const address = value.trim();
      check(
        parseAddress(address),
        `${label} must ${bracketHint(address, 1812) ?? 'be host[:port] with a host name or a unicast IP address (e.g. "radius.example.com:1812", "10.0.0.5" or "[::1]:1812")'}`,
      );
      return address;
    },
  },
  secret: {
    /** Absent only with `transport: 'tls'` ({@link normalizeServer} puts `radsec` in then). */
    parse(value: unknown, label: string): Buffer | undefined {
      if (value === undefined) return undefined;
      check(
        (typeof value === 'string' && value.length > 0) || (Buffer.isBuffer(value) && value.length > 0),
        `${label} must be a non-empty string or Buffer`,
      );
      return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    },
  },
  protocol: {
    parse(value: unknown, label: string): RadiusProtocol {
      const protocol = value ?? 'pap';
      check(protocol === 'pap' || protocol === 'chap', `${label} must be "pap" or "chap"`);
      return protocol;
    },
  },
  attributes: attributesOption,
  timeout: numberOption(5000, 1, 600_000),
  retries: numberOption(2, 0, 20, true),
  requireMessageAuthenticator: booleanOption(true),
  final: booleanOption(false),
  transport: {
    parse(value: unknown, label: string): 'udp' | 'tls' {
      const transport = value ?? 'udp';
      check(transport === 'udp' || transport === 'tls', `${label} must be "udp" or "tls"`);
      return transport;
    },
  },
  tls: {
    /** Everything but the default server name (the host of `address`, filled in by {@link normalizeServer}). */
    parse(value: unknown, label: string): (Omit<NormalizedTls, 'servername'> & { servername: string | undefined }) | undefined {
      return value === undefined ? undefined : normalizeTls(value, label);
    },
  },
  passwordEncoding: {
    parse(value: unknown, label: string): 'utf8' | 'latin1' {
      const encoding = value ?? 'utf8';
      check(encoding === 'utf8' || encoding === 'latin1', `${label} must be "utf8" or "latin1"`);
      return encoding;
    },
  },
  allowEmptyResponse: booleanOption(false),
  accountingAddress: {
    /** The address, trimmed; undefined when absent. {@link normalizeServer} fills in the port by transport. */
    parse(value: unknown, label: string): string | undefined {
      if (value === undefined) return undefined;
      check(typeof value === 'string', `${label} must be host[:port]`);
      check(
        parseAddress(value.trim(), 1813),
        `${label} must ${bracketHint(value.trim(), 1813) ?? 'be host[:port] with a host name or a unicast IP address (e.g. "radius.example.com:1813", "10.0.0.5" or "[::1]:1813")'}`,
      );
      return value.trim();
    },
  },
} satisfies { [K in keyof Required<RadiusServerOptions>]: OptionSpec<unknown> };

/** Names of every server option, in schema order (the CLI's `--config` accepts exactly these, plus its secret sources). */
export const SERVER_OPTION_NAMES: readonly string[] = Object.keys(SERVER_OPTIONS);

/** A server after validation. @internal */
export type NormalizedServer = Omit<Parsed<typeof SERVER_OPTIONS>, 'attributes' | 'secret' | 'tls' | 'accountingAddress'> & {
  /** The shared secret as bytes; `radsec` over TLS when none was configured. Never logged. */
  secret: Buffer;
  /** TLS settings, with `transport: 'tls'` only. */
  tls: NormalizedTls | undefined;
  /** The configured `attributes`, already encoded to wire bytes (type, length, value), in order. */
  attributes: Buffer;
  /** Types of every configured attribute name, `null` ones included (per-request ones of these types are left out). */
  attributeTypes: ReadonlySet<number>;
  /** Host name or IP address from `address`, without brackets; a host name is resolved at each use. */
  host: string;
  /** Port from `address`; when none was given 1812 (RFC 2865 §3), or 2083 over TLS (RFC 6614 §2.1). */
  port: number;
  /** Host name or IP address Accounting-Requests go to (see {@link RadiusServerOptions.accountingAddress}). */
  accountingHost: string;
  /** Port Accounting-Requests go to: 1813 when not configured (RFC 2866 §3); over TLS, `port` (RFC 6614 §2.1). */
  accountingPort: number;
};

/** Validates one server. Throws `TypeError` whose message starts with `label` (e.g. `RadiusStrategy: servers[1]`). */
export function normalizeServer(input: unknown, label: string): NormalizedServer {
  const parsed = readOptions(input, SERVER_OPTIONS, label);
  const tls = parsed.transport === 'tls';
  check(tls || parsed.tls === undefined, `${label}.tls is set but transport is not "tls"`);
  check(!tls || parsed.tls !== undefined, `${label}.tls is required with transport "tls" (cert and key, or psk)`);
  const secret = parsed.secret ?? (tls ? Buffer.from(RADSEC_SECRET) : undefined);
  check(secret, `${label}.secret must be a non-empty string or Buffer`);
  const { host, port } = parseAddress(parsed.address, tls ? RADSEC_PORT : 1812)!;
  const { accountingAddress, ...rest } = parsed;
  // Over TLS, accounting shares the address and port of the rest unless told otherwise (RFC 6614 §2.1).
  const accounting = accountingAddress !== undefined ? parseAddress(accountingAddress, tls ? RADSEC_PORT : 1813)! : { host, port: tls ? port : 1813 };
  return {
    ...rest,
    secret,
    tls: parsed.tls && { ...parsed.tls, servername: parsed.tls.servername ?? host },
    attributes: parsed.attributes.bytes,
    attributeTypes: parsed.attributes.named,
    host,
    port,
    accountingHost: accounting.host,
    accountingPort: accounting.port,
  };
}

/** The client option schema: one entry per {@link RadiusClientOptions} field. */
export const CLIENT_OPTIONS = {
  dictionaries: {
    parse(value: unknown, label: string): string[] {
      if (value === undefined) return [];
      check(Array.isArray(value) && value.every((d) => typeof d === 'string'), `${label} must be an array of file paths`);
      return [...(value as string[])];
    },
  },
  servers: {
    /** Shape only; each server is validated by {@link normalizeServer} once dictionaries are loaded. */
    parse(value: unknown, label: string): unknown[] {
      check(Array.isArray(value) && value.length > 0, `${label} must be a non-empty array`);
      return [...(value as unknown[])];
    },
  },
  failoverOnReject: booleanOption(true),
  failoverOnTimeout: booleanOption(true),
  holdDown: numberOption(30_000, 0, 86_400_000),
} satisfies { [K in keyof Required<RadiusClientOptions>]: OptionSpec<unknown> };

/** Names of every client option (the CLI's `--config` file accepts these at its top level). */
export const CLIENT_OPTION_NAMES: readonly string[] = Object.keys(CLIENT_OPTIONS);

/** Client options after validation. @internal */
export type NormalizedClientOptions = Omit<Parsed<typeof CLIENT_OPTIONS>, 'servers'> & {
  /** The validated servers, in configured order; names are unique. */
  servers: NormalizedServer[];
};

/**
 * Validates client options; `prefix` names the caller in messages (e.g. `RadiusStrategy`). Loads the
 * `dictionaries` (an explicit step, before the servers' attributes are checked, since they may name
 * attributes from those files).
 */
export function normalizeClientOptions(input: unknown, prefix: string, extraKeys: readonly string[] = []): NormalizedClientOptions {
  check(typeof input === 'object' && input !== null, `${prefix}: options must be an object`);
  const parsed = readOptions(input, CLIENT_OPTIONS, prefix, topLevel, extraKeys);
  loadDictionaries(parsed.dictionaries, `${prefix}: dictionaries`);
  return { ...parsed, servers: normalizeServers(parsed.servers, prefix) };
}

/**
 * Validates a server list (the `servers` option, or `setServers`): each server, then unique names.
 * `namedLabels` puts each server's name in its messages (`servers[1] ("corp").timeout …`).
 */
export function normalizeServers(list: readonly unknown[], prefix: string, namedLabels = false): NormalizedServer[] {
  const label = (s: unknown, i: number): string => {
    const name = namedLabels && typeof s === 'object' && s !== null ? (s as { name?: unknown }).name : undefined;
    return `${prefix}: servers[${i}]${typeof name === 'string' && name !== '' ? ` (${JSON.stringify(name)})` : ''}`;
  };
  const servers = list.map((s, i) => normalizeServer(s, label(s, i)));
  const seen = new Set<string>();
  servers.forEach((s, i) => {
    check(!seen.has(s.name), `${prefix}: servers[${i}].name "${s.name}" is used twice`);
    seen.add(s.name);
  });
  return servers;
}
