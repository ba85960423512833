/**
 * The `tls` server option of RADIUS over TLS (RadSec, RFC 6614 as updated by draft-ietf-radext-radiusdtls-bis):
 * its public shape and its validation, done once at construction. Every problem throws a `TypeError`
 * naming the option.
 */
import { createSecureContext, DEFAULT_CIPHERS, type SecureContext } from 'node:tls';

/** RADIUS/TLS port (RFC 6614 §2.1). */
export const RADSEC_PORT = 2083;
/** The shared secret of RADIUS/TLS when none is configured (RFC 6614 §2.3 item 4). */
export const RADSEC_SECRET = 'radsec';
/** ALPN protocol name offered for RADIUS/TLS (draft-ietf-radext-radiusv11, RFC 9765 §3.1). */
export const ALPN_RADIUS_10 = 'radius/1.0';

/** PEM text or its bytes, as Node's `tls` module takes certificates and keys. */
export type PemInput = string | Buffer;

/** A pre-shared key for TLS-PSK (RFC 4279; draft-ietf-radext-radiusdtls-bis §4.2). */
export interface RadiusTlsPsk {
  /** The PSK identity sent to the server (UTF-8, 1 to 128 bytes). */
  identity: string;
  /** The key: a Buffer, or a string of hexadecimal digits; at least 16 bytes. Never logged. */
  key: Buffer | string;
}

/**
 * TLS settings of a server with `transport: 'tls'`. Mutual authentication is required (RFC 6614 §2.3):
 * give `cert` and `key` (a client certificate) or `psk`.
 */
export interface RadiusTlsOptions {
  /**
   * Certificate authorities trusted for the server's certificate: PEM (one or several certificates) or
   * an array of them. Default: Node's bundled Mozilla roots — a RadSec server usually has a private CA,
   * so set it.
   */
  ca?: PemInput | PemInput[];
  /** The client certificate (PEM, optionally followed by intermediates). Required with `key`, unless `psk`. */
  cert?: PemInput;
  /** The client certificate's private key (PEM). Required with `cert`. Never logged. */
  key?: PemInput;
  /** Passphrase of an encrypted `key`. Never logged. */
  passphrase?: string;
  /**
   * The name checked against the server certificate's subject alternative names (DNS or IP address, with
   * Node's `tls.checkServerIdentity`), and sent as SNI when it is a DNS name. Default: the host of `address`.
   */
  servername?: string;
  /** TLS-PSK instead of certificates (TLS 1.2 PSK cipher suites, or TLS 1.3). */
  psk?: RadiusTlsPsk;
}

/** TLS settings after validation. @internal */
export interface NormalizedTls {
  /** Trust anchors, client certificate and key, built once. */
  context: SecureContext;
  /** Name checked against the server certificate's subject alternative names. */
  servername: string;
  /** TLS-PSK identity and key, when configured. */
  psk: { identity: string; key: Buffer } | undefined;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TypeError(message);
}

/** TLS 1.2 cipher suites for TLS-PSK with forward secrecy first (RFC 5489), then plain PSK (RFC 5487). */
const PSK_CIPHERS = 'ECDHE-PSK-AES256-CBC-SHA384:ECDHE-PSK-AES128-CBC-SHA256:PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256';

const TLS_KEYS = new Set(['ca', 'cert', 'key', 'passphrase', 'servername', 'psk']);

function isPem(value: unknown): value is PemInput {
  return (typeof value === 'string' && value.length > 0) || (Buffer.isBuffer(value) && value.length > 0);
}

/**
 * Validates `tls`. Throws `TypeError` whose message starts with `label` (e.g. `RadiusStrategy:
 * servers[0].tls`). `servername` is undefined when not configured (the caller puts the host of `address`).
 */
export function normalizeTls(input: unknown, label: string): Omit<NormalizedTls, 'servername'> & { servername: string | undefined } {
  check(typeof input === 'object' && input !== null && !Array.isArray(input), `${label} must be an object with cert and key, or psk (RFC 6614 §2.3: mutual authentication)`);
  const t = input as RadiusTlsOptions;
  for (const key of Object.keys(t)) check(TLS_KEYS.has(key), `${label}: unknown option "${key}"`);
  if (t.ca !== undefined) {
    check(isPem(t.ca) || (Array.isArray(t.ca) && t.ca.length > 0 && t.ca.every(isPem)), `${label}.ca must be PEM (a string or Buffer) or an array of them`);
  }
  check(t.cert === undefined || isPem(t.cert), `${label}.cert must be PEM (a string or Buffer)`);
  check(t.key === undefined || isPem(t.key), `${label}.key must be PEM (a string or Buffer)`);
  check((t.cert === undefined) === (t.key === undefined), `${label}: cert and key go together (give both or neither)`);
  check(t.passphrase === undefined || typeof t.passphrase === 'string', `${label}.passphrase must be a string`);
  check(t.servername === undefined || (typeof t.servername === 'string' && t.servername.trim() !== ''), `${label}.servername must be a non-empty string`);
  let psk: NormalizedTls['psk'];
  if (t.psk !== undefined) {
    check(typeof t.psk === 'object' && t.psk !== null, `${label}.psk must be { identity, key }`);
    const { identity, key } = t.psk;
    check(typeof identity === 'string' && identity.length > 0 && Buffer.byteLength(identity) <= 128, `${label}.psk.identity must be 1 to 128 bytes of text`);
    check(Buffer.isBuffer(key) || (typeof key === 'string' && /^(?:[0-9a-fA-F]{2})+$/.test(key)), `${label}.psk.key must be a Buffer or a string of hexadecimal digits`);
    const bytes = Buffer.isBuffer(key) ? Buffer.from(key) : Buffer.from(key, 'hex');
    // draft-ietf-radext-radiusdtls-bis §4.2: a PSK has at least 128 bits of entropy.
    check(bytes.length >= 16, `${label}.psk.key must be at least 16 bytes`);
    psk = { identity, key: bytes };
  }
  check(t.cert !== undefined || psk, `${label} needs a client certificate (cert and key) or psk: RADIUS over TLS authenticates both ends (RFC 6614 §2.3)`);
  let context: SecureContext;
  try {
    context = createSecureContext({
      ...(t.ca !== undefined ? { ca: t.ca } : {}),
      ...(t.cert !== undefined ? { cert: t.cert, key: t.key } : {}),
      ...(t.passphrase !== undefined ? { passphrase: t.passphrase } : {}),
      // RFC 6614 §2.3 item 1 asks for TLS 1.2 at least (draft-ietf-radext-radiusdtls-bis: 1.3 preferred).
      minVersion: 'TLSv1.2',
      // TLS 1.2 offers PSK only in PSK cipher suites, which OpenSSL leaves out by default (TLS 1.3 needs none).
      // Node's default list ends with "!PSK", which would take them out again.
      ...(psk ? { ciphers: [PSK_CIPHERS, ...DEFAULT_CIPHERS.split(':').filter((c) => c !== '!PSK')].join(':') } : {}),
    });
  } catch (err) {
    // Node's message names the problem (e.g. "bad decrypt", "no start line"), never the key itself.
    throw new TypeError(`${label}: ca, cert or key cannot be used (${(err as Error).message})`, { cause: err });
  }
  return { context, servername: t.servername?.trim(), psk };
}
