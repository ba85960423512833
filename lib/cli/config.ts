/**
 * Where the CLI's servers and shared secrets come from: `--address` with one secret source, or
 * `--config servers.json` (the strategy's `servers`, with a secret per server from the file, a file or an
 * environment variable). Problems are {@link UsageError}s (exit code 2); no message holds a secret.
 *
 * @internal
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseJson } from '../json';
import { CLIENT_OPTION_NAMES, SERVER_OPTION_NAMES, type RadiusClientOptions, type RadiusProtocol, type RadiusServerOptions } from '../options';
import type { AttributeInput } from '../protocol/dictionary';
import { encodeConfiguredAttributes } from '../protocol/dictionary';

/** A problem with the command line or the files it names: exit code 2. */
export class UsageError extends Error {
  /**
   * @param message - what is wrong with the command line or a file it names; never holds a secret.
   * @param options - `cause`, the underlying error if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** Options common to `probe` and `login`, as commander parses them. */
export interface ServerFlags {
  /** `--address`: the one server to use, `host[:port]` (port 1812 by default); excludes `config`. */
  address?: string;
  /** `--config`: path of a JSON file with the servers (an array, or an object with `servers`); excludes `address`. */
  config?: string;
  /** `--server` (repeatable): with `config`, only these servers, in this order. Default: all, in file order. */
  server?: string[];
  /** `--secret-file`: read the shared secret from this file (one trailing LF or CR LF removed). */
  secretFile?: string;
  /** `--secret-env`: read the shared secret from this environment variable. */
  secretEnv?: string;
  /** `--secret`: the shared secret itself (visible in the process list; prefer the others or RADIUS_SECRET). */
  secret?: string;
  /** `--nas-identifier`: NAS-Identifier sent with `address` (RFC 2865 §5.32). */
  nasIdentifier?: string;
  /** `--attribute` (repeatable): `Name=value` attributes sent with `address`. */
  attribute?: string[];
  /** `--protocol`: `'pap'` or `'chap'`, overriding every server's. Default: the server's (`'pap'`). */
  protocol?: RadiusProtocol;
  /** `--timeout`: total wait per server in milliseconds (1 to 600000), overriding every server's. Default 5000. */
  timeout?: number;
  /** `--retries`: retransmissions per server (0 to 20), overriding every server's. Default 2. */
  retries?: number;
  /** `--insecure-accept-unsigned-replies`: set `requireMessageAuthenticator: false` on every server (RFC 3579 §3.2, CVE-2024-3596). */
  insecureAcceptUnsignedReplies?: boolean;
}

/** What the command runs against. */
export interface ResolvedServers {
  /** The servers to use, in order, each with its shared secret (not yet validated). */
  servers: RadiusServerOptions[];
  /** The other client options from the `--config` file (e.g. `holdDown`); empty with `--address`. */
  client: Omit<RadiusClientOptions, 'servers'>;
}

/** A secret read from a file: the bytes, without one trailing newline (LF or CR LF). */
function readSecretFile(path: string, what: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UsageError(`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  if (end === 0) throw new UsageError(`${what}: ${path} is empty`);
  return bytes.subarray(0, end);
}

function readSecretEnv(name: string, what: string, env: NodeJS.ProcessEnv): Buffer {
  const value = env[name];
  if (value === undefined || value === '') throw new UsageError(`${what}: the environment variable ${name} is not set or empty`);
  return Buffer.from(value, 'utf8');
}

/** The secret given on the command line (or RADIUS_SECRET), or undefined when there is none. */
function commandLineSecret(flags: ServerFlags, env: NodeJS.ProcessEnv): Buffer | undefined {
  if (flags.secretFile !== undefined) return readSecretFile(flags.secretFile, '--secret-file');
  if (flags.secretEnv !== undefined) return readSecretEnv(flags.secretEnv, '--secret-env', env);
  if (flags.secret !== undefined) {
    if (flags.secret === '') throw new UsageError('--secret must not be empty');
    return Buffer.from(flags.secret, 'utf8');
  }
  if (env.RADIUS_SECRET) return Buffer.from(env.RADIUS_SECRET, 'utf8');
  return undefined;
}

/** `Name=value`; a whole number is sent as a number when the attribute does not take text. */
function parseAttribute(text: string): [string, AttributeInput] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--attribute must be Name=value, e.g. NAS-IP-Address=192.0.2.10 (got "${text}")`);
  const name = text.slice(0, eq).trim();
  const value = text.slice(eq + 1);
  if (/^\d+$/.test(value)) {
    try {
      encodeConfiguredAttributes([[name, value]], '--attribute');
    } catch {
      return [name, Number(value)];
    }
  }
  return [name, value];
}

/** The secret sources a server entry of the file may use instead of `secret`. */
const SECRET_SOURCES = ['secretFile', 'secretEnv'];
/** Keys of a server entry: every server option of the one schema, plus the file's secret sources. */
const SERVER_KEYS = new Set([...SERVER_OPTION_NAMES, ...SECRET_SOURCES]);
/** Keys of the file's top-level object: every client option of the one schema. */
const CLIENT_KEYS = new Set(CLIENT_OPTION_NAMES);

function readConfig(path: string, flags: ServerFlags, env: NodeJS.ProcessEnv): ResolvedServers {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--config: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  // Only the position, and no cause: the file holds shared secrets, and Node's message would quote it.
  const parsed = parseJson(text, (position) => {
    throw new UsageError(`--config: ${path} is not valid JSON (${position})`);
  });
  const top = Array.isArray(parsed) ? { servers: parsed } : parsed;
  if (typeof top !== 'object' || top === null || !Array.isArray((top as { servers?: unknown }).servers)) {
    throw new UsageError(`--config: ${path} must hold an array of servers, or an object with a "servers" array`);
  }
  for (const key of Object.keys(top)) {
    if (!CLIENT_KEYS.has(key)) throw new UsageError(`--config: unknown key "${key}" in ${path}`);
  }
  const base = dirname(resolve(path));
  const fallback = (): Buffer | undefined => commandLineSecret(flags, env);
  const servers = ((top as { servers: unknown[] }).servers).map((entry, i): RadiusServerOptions => {
    const label = `--config: servers[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`${label} must be an object`);
    const s = entry as Record<string, unknown>;
    for (const key of Object.keys(s)) {
      if (!SERVER_KEYS.has(key)) throw new UsageError(`${label}: unknown key "${key}"`);
    }
    const sources = ['secret', 'secretFile', 'secretEnv'].filter((k) => s[k] !== undefined);
    if (sources.length > 1) throw new UsageError(`${label}: give only one of secret, secretFile and secretEnv`);
    let secret: Buffer | string | undefined;
    if (typeof s.secretFile === 'string') secret = readSecretFile(resolve(base, s.secretFile), `${label}.secretFile`);
    else if (typeof s.secretEnv === 'string') secret = readSecretEnv(s.secretEnv, `${label}.secretEnv`, env);
    else if (s.secretFile !== undefined || s.secretEnv !== undefined) throw new UsageError(`${label}: secretFile and secretEnv must be strings`);
    else if (s.secret !== undefined) secret = s.secret as string;
    else secret = fallback();
    // RADIUS over TLS: the shared secret defaults to "radsec" (RFC 6614 §2.3).
    if (secret === undefined && s.transport !== 'tls') {
      throw new UsageError(`${label} has no secret: set secret, secretFile or secretEnv in the file, or give --secret-file, --secret-env or RADIUS_SECRET`);
    }
    const server: Record<string, unknown> = { ...s, ...(secret !== undefined ? { secret } : {}) };
    delete server.secretFile;
    delete server.secretEnv;
    if (s.tls !== undefined) server.tls = readTlsFiles(s.tls, base, `${label}.tls`);
    if (flags.protocol !== undefined) server.protocol = flags.protocol;
    if (flags.timeout !== undefined) server.timeout = flags.timeout;
    if (flags.retries !== undefined) server.retries = flags.retries;
    if (flags.insecureAcceptUnsignedReplies) server.requireMessageAuthenticator = false;
    return server as unknown as RadiusServerOptions;
  });
  const { servers: _servers, ...client } = top as RadiusClientOptions;
  void _servers;
  return { servers: selectServers(servers, flags.server), client };
}

/** `tls` of a server entry may name PEM files (`caFile`, `certFile`, `keyFile`, relative to the file) instead of holding PEM. */
const TLS_FILES = { caFile: 'ca', certFile: 'cert', keyFile: 'key' } as const;

function readTlsFiles(tls: unknown, base: string, label: string): unknown {
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) return tls; // the schema says what is wrong
  const out: Record<string, unknown> = { ...(tls as Record<string, unknown>) };
  for (const [fileKey, key] of Object.entries(TLS_FILES)) {
    const path = out[fileKey];
    if (path === undefined) continue;
    if (typeof path !== 'string') throw new UsageError(`${label}.${fileKey} must be a file path`);
    if (out[key] !== undefined) throw new UsageError(`${label}: give ${key} or ${fileKey}, not both`);
    try {
      out[key] = readFileSync(resolve(base, path));
    } catch (err) {
      throw new UsageError(`${label}.${fileKey}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
    delete out[fileKey];
  }
  return out;
}

function selectServers(servers: RadiusServerOptions[], names: string[] | undefined): RadiusServerOptions[] {
  if (!names || names.length === 0) return servers;
  return names.map((name) => {
    const found = servers.find((s) => s.name === name);
    if (!found) throw new UsageError(`--server: no server named "${name}" (known: ${servers.map((s) => `"${String(s.name)}"`).join(', ')})`);
    return found;
  });
}

/**
 * Builds the server list from the flags: `--config` (all servers in order, or those named by `--server`)
 * or `--address` (one server named after its address). Throws {@link UsageError}; server options are
 * validated later by the client (TypeError).
 */
export function resolveServers(flags: ServerFlags, env: NodeJS.ProcessEnv): ResolvedServers {
  if (flags.config !== undefined) {
    if (flags.address !== undefined) throw new UsageError('give either --config or --address, not both');
    if (flags.nasIdentifier !== undefined || (flags.attribute?.length ?? 0) > 0) {
      throw new UsageError('--nas-identifier and --attribute apply to --address; with --config, set "attributes" per server in the file');
    }
    return readConfig(flags.config, flags, env);
  }
  if (flags.address === undefined) throw new UsageError('say which server: --address host[:port] or --config servers.json');
  if ((flags.server?.length ?? 0) > 0) throw new UsageError('--server selects servers from --config');
  const secret = commandLineSecret(flags, env);
  if (!secret) throw new UsageError('no shared secret: give --secret-file FILE, --secret-env NAME or set RADIUS_SECRET');
  const attributes: Array<[string, AttributeInput]> = [];
  if (flags.nasIdentifier !== undefined) attributes.push(['NAS-Identifier', flags.nasIdentifier]);
  for (const text of flags.attribute ?? []) attributes.push(parseAttribute(text));
  const server: RadiusServerOptions = {
    name: flags.address,
    address: flags.address,
    secret,
    attributes,
    ...(flags.protocol !== undefined ? { protocol: flags.protocol } : {}),
    ...(flags.timeout !== undefined ? { timeout: flags.timeout } : {}),
    ...(flags.retries !== undefined ? { retries: flags.retries } : {}),
    ...(flags.insecureAcceptUnsignedReplies ? { requireMessageAuthenticator: false } : {}),
  };
  return { servers: [server], client: {} };
}
