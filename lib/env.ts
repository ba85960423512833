/**
 * Strategy options from environment variables, for `new RadiusStrategy()` (the twelve-factor way: the
 * same image runs against any RADIUS server) and for apps that want to merge them with their own.
 *
 * Every problem is a `TypeError` naming the variable, and never quoting a secret.
 */
import { readFileSync } from 'node:fs';
import { parseJson } from './json';
import { normalizeServer, type RadiusServerOptions } from './options';
import type { RadiusStrategyOptions } from './strategy';

/** Environment variables as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Shortest plain RADIUS_TIMEOUT taken as milliseconds; below it "5" most likely meant seconds. */
const MIN_PLAIN_TIMEOUT_MS = 100;

function fail(message: string): never {
  throw new TypeError(`RadiusStrategy: ${message}`);
}

/** The variable's value, or undefined when unset or empty (an empty variable counts as unset). */
function read(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** RADIUS_SECRET or the contents of RADIUS_SECRET_FILE (one trailing line break removed), if either is set. */
function secretFrom(env: Environment): string | undefined {
  const inline = read(env, 'RADIUS_SECRET');
  const file = read(env, 'RADIUS_SECRET_FILE');
  if (inline !== undefined && file !== undefined) fail('set RADIUS_SECRET or RADIUS_SECRET_FILE, not both');
  if (file === undefined) return inline;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(`RADIUS_SECRET_FILE cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): ${file}`);
  }
  // Files written by `echo` or an editor end in a line break that is not part of the secret.
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') fail(`RADIUS_SECRET_FILE is empty: ${file}`);
  return secret;
}

/** RADIUS_TIMEOUT: `5000` or `5000ms` (milliseconds) or `5s` (seconds). */
function timeoutFrom(env: Environment): number | undefined {
  const text = read(env, 'RADIUS_TIMEOUT')?.trim();
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (!m) fail(`RADIUS_TIMEOUT must be milliseconds ("5000"), or seconds with a unit ("5s"), not ${JSON.stringify(text)}`);
  const ms = m[2] === 's' ? Number(m[1]) * 1000 : Number(m[1]);
  if (m[2] === undefined && ms < MIN_PLAIN_TIMEOUT_MS) {
    // Suggest the seconds form only when it would be accepted ("5" → "5s"; not "0" → "0s").
    const hint = validTimeout(ms * 1000) ? `did you mean "${text}s"?` : `at least ${MIN_PLAIN_TIMEOUT_MS}, or with a unit: "5s", "50ms"`;
    fail(`RADIUS_TIMEOUT is in milliseconds: ${text} ms is too short (${hint})`);
  }
  if (!validTimeout(ms)) fail('RADIUS_TIMEOUT must be a whole number of milliseconds from 1 to 600000');
  return ms;
}

function validTimeout(ms: number): boolean {
  return Number.isInteger(ms) && ms >= 1 && ms <= 600_000;
}

function protocolFrom(env: Environment): 'pap' | 'chap' | undefined {
  const text = read(env, 'RADIUS_PROTOCOL')?.trim();
  if (text === undefined) return undefined;
  if (text !== 'pap' && text !== 'chap') fail(`RADIUS_PROTOCOL must be "pap" or "chap", not ${JSON.stringify(text)}`);
  return text;
}

/** NAS-Identifier and NAS-IP-Address from RADIUS_NAS_IDENTIFIER and RADIUS_NAS_IP_ADDRESS, when set. */
function nasFrom(env: Environment): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const identifier = read(env, 'RADIUS_NAS_IDENTIFIER');
  const ip = read(env, 'RADIUS_NAS_IP_ADDRESS')?.trim();
  if (identifier !== undefined) pairs.push(['NAS-Identifier', identifier]);
  if (ip !== undefined) pairs.push(['NAS-IP-Address', ip]);
  return pairs;
}

function serversFromJson(text: string): unknown[] {
  // Only the position: the value holds shared secrets, and Node's message would quote it.
  const parsed = parseJson(text, (position) => fail(`RADIUS_SERVERS is not valid JSON (${position})`));
  if (!Array.isArray(parsed) || parsed.length === 0) fail('RADIUS_SERVERS must be a JSON array of servers, e.g. [{"name":"corp","address":"10.0.0.5:1812"}]');
  return parsed;
}

function challengeUrlFrom(env: Environment): string | undefined {
  const url = read(env, 'RADIUS_CHALLENGE_URL')?.trim();
  if (url === undefined) return undefined;
  if (!url.startsWith('/') && !/^https?:\/\//i.test(url)) fail(`RADIUS_CHALLENGE_URL must be a path ("/login/challenge") or an http(s) URL, not ${JSON.stringify(url)}`);
  return url;
}

/**
 * Strategy options from environment variables. `new RadiusStrategy()` and `new RadiusStrategy(verify)`
 * call it with `process.env`.
 *
 * - `RADIUS_SERVERS`: a JSON array of servers, as the `servers` option takes them; or
 * - `RADIUS_ADDRESS`: `host[:port]` of one server (port 1812 by default, RFC 2865 §3), or several
 *   separated by commas, tried in that order; each server is named by its address.
 * - `RADIUS_SECRET`, or `RADIUS_SECRET_FILE` (a file holding it; one trailing line break is dropped).
 * - `RADIUS_NAS_IDENTIFIER` and/or `RADIUS_NAS_IP_ADDRESS`: sent in every Access-Request (RFC 2865 §4.1).
 * - `RADIUS_PROTOCOL`: `pap` (default) or `chap`.
 * - `RADIUS_TIMEOUT`: total wait per server, milliseconds (`5000`) or seconds (`5s`). Default 5000 ms.
 * - `RADIUS_CHALLENGE_URL`: the strategy's `challengeURL` (e.g. `/login/challenge`).
 *
 * With `RADIUS_SERVERS`, the other variables are defaults for each listed server that leaves the field
 * out (so the secret can stay out of the JSON); a server's own fields win. An empty variable counts as
 * unset.
 *
 * ```ts
 * import { RadiusStrategy, optionsFromEnv } from 'passport-radius';
 * const strategy = new RadiusStrategy({ ...optionsFromEnv(), applySessionTimeout: true });
 * ```
 *
 * @param env - the variables. Default `process.env`.
 * @returns `{ servers, challengeURL? }`, validated.
 * @throws TypeError naming the variable that is missing or malformed (never quoting a secret).
 */
export function optionsFromEnv(env: Environment = process.env): RadiusStrategyOptions {
  const secret = secretFrom(env);
  const protocol = protocolFrom(env);
  const timeout = timeoutFrom(env);
  const nas = nasFrom(env);
  const challengeURL = challengeUrlFrom(env);
  const json = read(env, 'RADIUS_SERVERS');
  const addresses = read(env, 'RADIUS_ADDRESS');
  if (json !== undefined && addresses !== undefined) fail('set RADIUS_SERVERS or RADIUS_ADDRESS, not both');

  let servers: RadiusServerOptions[];
  if (json !== undefined) {
    servers = serversFromJson(json).map((entry, i) => {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(`RADIUS_SERVERS[${i}] must be an object`);
      const own = entry as Partial<RadiusServerOptions>;
      if (own.secret === undefined && secret === undefined) fail(`RADIUS_SERVERS[${i}] has no "secret": add it, or set RADIUS_SECRET or RADIUS_SECRET_FILE`);
      if (own.attributes === undefined && nas.length === 0) {
        fail(`RADIUS_SERVERS[${i}] has no "attributes": add NAS-Identifier there, or set RADIUS_NAS_IDENTIFIER or RADIUS_NAS_IP_ADDRESS`);
      }
      return {
        ...(secret !== undefined ? { secret } : {}),
        ...(nas.length > 0 ? { attributes: nas } : {}),
        ...(protocol !== undefined ? { protocol } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
        ...own,
      } as RadiusServerOptions;
    });
  } else if (addresses !== undefined) {
    if (secret === undefined) fail('RADIUS_SECRET (or RADIUS_SECRET_FILE) is not set: the shared secret of the RADIUS server');
    if (nas.length === 0) fail('RADIUS_NAS_IDENTIFIER (or RADIUS_NAS_IP_ADDRESS) is not set: RADIUS servers require one (RFC 2865 §4.1)');
    servers = addresses.split(',').map((address) => ({
      name: address.trim(),
      address: address.trim(),
      secret,
      attributes: nas,
      ...(protocol !== undefined ? { protocol } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
    }));
  } else {
    fail('RADIUS_SERVERS or RADIUS_ADDRESS is not set: without options, the strategy reads its RADIUS servers from the environment');
  }

  // Validate here so that each message names the variable the value came from.
  const from = json !== undefined ? 'RADIUS_SERVERS' : 'RADIUS_ADDRESS';
  const names = new Set<string>();
  servers.forEach((server, i) => {
    const label = json !== undefined ? `RADIUS_SERVERS[${i}]` : `RADIUS_ADDRESS (${JSON.stringify(server.address)})`;
    normalizeServer(server, `RadiusStrategy: ${label}`);
    if (names.has(server.name)) fail(`${from}: the server name ${JSON.stringify(server.name)} is used twice`);
    names.add(server.name);
  });
  return { servers, ...(challengeURL !== undefined ? { challengeURL } : {}) };
}
