/**
 * The `passport-radius` command line: `probe` (is the server reachable, and if not, why), `login` (a
 * radtest-style sign-in, with the two-factor Access-Challenge answered interactively) and `acct` (one
 * accounting record, see ./acct.ts).
 *
 * Exit codes: 0 (every server reachable / Access-Accept), 1 (failed / rejected / no reply), 2 (usage:
 * bad flags, unreadable files, invalid server options), 130 (Ctrl-C at a prompt).
 *
 * Never prints the password, the code, the shared secret or the State.
 *
 * @internal
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { RadiusClient, type AuthResult } from '../client';
import { RadiusConfigError, RadiusError, RadiusUnavailableError } from '../errors';
import type { ProbeResult } from '../probe';
import { accountingPortHint } from '../probe-messages';
import type { AttributeValue, DecodedAttributes } from '../protocol/dictionary';
import { acctCommand, acctCommandOptions, type AcctFlags } from './acct';
import { resolveServers, UsageError, type ResolvedServers, type ServerFlags } from './config';
import { InterruptedError, LineReader, readFromTerminal, safeText } from './terminal';

/** The process's streams and environment, so that the program can run against others. */
export interface CliIo {
  /** Input: the password and challenge codes, typed at a TTY or piped with `--password-stdin`. */
  stdin: NodeJS.ReadStream;
  /** Results (the JSON document with `--json`) and `--help` output. */
  stdout: Writable;
  /** Warnings, prompts, `--verbose` events and errors (and, with `--json`, the human-readable lines). */
  stderr: Writable;
  /** The environment, for `--secret-env` and RADIUS_SECRET. */
  env: NodeJS.ProcessEnv;
}

interface CommonFlags extends ServerFlags {
  json?: boolean;
  verbose?: boolean;
}

interface LoginFlags extends CommonFlags {
  user: string;
  passwordStdin?: boolean;
  maxChallengeRounds: number;
}

/** Attributes never printed: they are secrets or opaque session state. */
const HIDDEN_ATTRIBUTES = new Set(['State', 'User-Password', 'CHAP-Password']);

function integer(min: number, max: number, what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function addServerOptions(command: Command): Command {
  return command
    .option('-a, --address <host:port>', 'the server: host, host:port, a.b.c.d:port or [v6]:port (port 1812 by default)')
    .option('-c, --config <file>', 'a JSON file with the servers, as in the strategy\'s "servers" option (all tried in order)')
    .option('--server <name>', 'with --config: only this server (repeat for several, in that order)', collect)
    .addOption(new Option('--secret-file <file>', 'read the shared secret from this file (one trailing newline is ignored)').conflicts(['secretEnv', 'secret']))
    .addOption(new Option('--secret-env <name>', 'read the shared secret from this environment variable').conflicts(['secret']))
    .option('--secret <secret>', 'the shared secret itself: VISIBLE to other users of this machine (process list, shell history); prefer --secret-file, --secret-env or RADIUS_SECRET')
    .option('-n, --nas-identifier <id>', 'NAS-Identifier to send (the server may match clients on it)')
    .option('--attribute <name=value>', 'another attribute to send, e.g. NAS-IP-Address=192.0.2.10 (repeatable)', collect)
    .addOption(new Option('--protocol <protocol>', 'how the password is sent').choices(['pap', 'chap']))
    .addOption(new Option('--timeout <ms>', 'total wait per server, in milliseconds (default 5000)').argParser(integer(1, 600_000, 'timeout')))
    .addOption(new Option('--retries <n>', 'retransmissions per server (default 2)').argParser(integer(0, 20, 'retries')))
    .option('--insecure-accept-unsigned-replies', 'accept replies without Message-Authenticator (old servers; exposes you to forged replies, CVE-2024-3596)')
    .option('--json', 'print one JSON document on stdout (messages go to stderr)')
    .option('-v, --verbose', 'print each RADIUS event (request, timeout, failover, dropped reply) on stderr');
}

function makeClient(resolved: ResolvedServers, flags: ServerFlags): RadiusClient {
  try {
    return new RadiusClient({ ...resolved.client, servers: resolved.servers }, 'passport-radius');
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const hint =
      flags.config === undefined && /must include NAS-Identifier/.test(err.message)
        ? ' (use --nas-identifier, or --attribute NAS-IP-Address=…)'
        : '';
    throw new UsageError(err.message + hint, { cause: err });
  }
}

/** One `warning: …` line on stderr per weakness the client found in the configuration (e.g. a short secret). */
function printWarnings(client: RadiusClient, io: CliIo): RadiusClient {
  for (const warning of client.warnings) io.stderr.write(`warning: ${warning.message}\n`);
  return client;
}

/** The servers whose port is an accounting port (Access-Requests there get no reply), with the hint. */
function accountingPortWarnings(client: RadiusClient): string[] {
  return client.pool.names.map((name) => client.pool.get(name)).flatMap(({ config }) => {
    const hint = config.transport === 'udp' ? accountingPortHint(config.port) : undefined;
    return hint === undefined ? [] : [`${label(config.name, config.address)}: ${hint}; \`passport-radius probe\` checks it`];
  });
}

function label(name: string, address: string): string {
  return name === address ? address : `${name} (${address})`;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The octets as text when they are printable UTF-8 (e.g. a Class "admins"), else undefined. */
function printableText(octets: Buffer): string | undefined {
  if (octets.length === 0) return undefined;
  let text: string;
  try {
    text = UTF8.decode(octets);
  } catch {
    return undefined; // not UTF-8: binary
  }
  return /\p{Cc}/u.test(text) ? undefined : text;
}

/** How `login` prints one attribute value: text quoted, printable UTF-8 octets quoted, other octets as 0x hex. */
export function valueText(value: AttributeValue): string {
  if (typeof value === 'string') return safeText(JSON.stringify(value));
  if (typeof value === 'number') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) {
    // Octets attributes (Class, State-like opaque values) often hold text; binary stays hex.
    const text = printableText(value);
    return text !== undefined ? safeText(JSON.stringify(text)) : `0x${value.toString('hex')}`;
  }
  return `vendor ${value.vendorId} attribute ${value.type} 0x${value.value}`;
}

/**
 * How `login --json` prints one attribute value: as {@link valueText} does, printable UTF-8 octets as a
 * string (a Class "admins") and other octets as a "0x…" hex string, except text that itself starts with
 * "0x", which stays hex so that a "0x…" string is always octets (as `acct --class` reads it).
 */
export function valueJson(value: AttributeValue): unknown {
  if (Buffer.isBuffer(value)) {
    const text = printableText(value);
    return text !== undefined && !/^0x/i.test(text) ? text : `0x${value.toString('hex')}`;
  }
  if (value instanceof Date) return value.toISOString();
  return value;
}

function visibleAttributes(attributes: DecodedAttributes): Array<[string, AttributeValue[]]> {
  return Object.entries(attributes)
    .filter(([name]) => !HIDDEN_ATTRIBUTES.has(name))
    .map(([name, v]) => [name, Array.isArray(v) ? v : [v]]);
}

function attributesJson(attributes: DecodedAttributes): Record<string, unknown> {
  return Object.fromEntries(
    visibleAttributes(attributes).map(([name, values]) => [name, values.length === 1 ? valueJson(values[0]!) : values.map(valueJson)]),
  );
}

function watchEvents(client: RadiusClient, write: (line: string) => void): void {
  client.on('request', (e) => write(`request: ${e.server}, transmission ${e.attempt}`));
  client.on('no-reply', (e) => write(`no valid reply: ${e.server} (${e.reason})`));
  client.on('failover', (e) => write(`failover: ${e.from} → ${e.to} (${e.reason})`));
  client.on('dropped', (e) => write(`dropped a reply: ${e.server} (${e.reason})`));
}

/**
 * The package's version, read at run time from its package.json: two folders up from this file both in
 * the source tree (lib/cli) and in the built or installed package (dist/cli).
 */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Runs the program on `argv` (the arguments after the program name); resolves with the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  let lines: LineReader | undefined;
  const err = (text: string): void => {
    io.stderr.write(text + '\n');
  };

  const program = new Command('passport-radius')
    .description('Test RADIUS servers the way passport-radius talks to them: reachability, and a real sign-in.')
    .version(packageVersion(), '-V, --version', 'print the version of passport-radius')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nThe shared secret comes from --secret-file, --secret-env, RADIUS_SECRET, or (per server) the --config file.\n' +
        'RADIUS over TLS (RadSec): in --config, "transport": "tls" and "tls": { "caFile", "certFile", "keyFile" } (or "psk").\n' +
        'Exit codes: 0 success, 1 failure (unreachable, rejected, no reply), 2 usage error.',
    );

  addServerOptions(
    program
      .command('probe')
      .description('Test whether each server is reachable with this configuration (Status-Server, then an Access-Request for a user that cannot exist).')
      .addHelpText('after', '\nExample:\n  passport-radius probe --address radius.example.com:1812 --secret-file /etc/radius.secret --nas-identifier console'),
  ).action(async (flags: CommonFlags) => {
    exitCode = await probeCommand(flags, io);
  });

  addServerOptions(
    program
      .command('login')
      .description('Sign a user in, as the strategy would: PAP or CHAP, failover across servers, and the Access-Challenge answered interactively.')
      .requiredOption('-u, --user <name>', 'the user name')
      .option('--password-stdin', 'read the password from the first line of stdin (then a challenge response from the next line)')
      .addOption(new Option('--max-challenge-rounds <n>', 'challenges answered before giving up').argParser(integer(1, 20, 'max-challenge-rounds')).default(3))
      .addHelpText(
        'after',
        '\nWithout --password-stdin the password is read from the terminal without echo.\n\nExample:\n' +
          '  passport-radius login --address radius.example.com --secret-env RADIUS_SECRET --nas-identifier console --user alice',
      ),
  ).action(async (flags: LoginFlags) => {
    lines = flags.passwordStdin ? new LineReader(io.stdin) : undefined;
    exitCode = await loginCommand(flags, io, lines);
  });

  addServerOptions(acctCommandOptions(program.command('acct'))).action(async (status: string, flags: AcctFlags & CommonFlags) => {
    warnAboutSecretFlag(flags, io);
    exitCode = await acctCommand(status, flags, io, (resolved) => printWarnings(makeClient(resolved, flags), io), watchEvents);
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      err(withPrefix(e.message));
      err('(run with --help for usage)');
      return 2;
    }
    if (e instanceof InterruptedError) return 130;
    err(withPrefix(e instanceof Error ? e.message : String(e)));
    return 1;
  } finally {
    lines?.close();
  }
}

function warnAboutSecretFlag(flags: ServerFlags, io: CliIo): void {
  if (flags.secret !== undefined) {
    io.stderr.write('warning: --secret is visible to other users of this machine; prefer --secret-file, --secret-env or RADIUS_SECRET\n');
  }
}

async function probeCommand(flags: CommonFlags, io: CliIo): Promise<number> {
  warnAboutSecretFlag(flags, io);
  const client = printWarnings(makeClient(resolveServers(flags, io.env), flags), io);
  const say = (text: string): void => {
    (flags.json ? io.stderr : io.stdout).write(text + '\n');
  };
  if (flags.verbose) watchEvents(client, (line) => io.stderr.write(line + '\n'));
  const results: ProbeResult[] = [];
  try {
    for (const status of client.serverStatus()) {
      say(`testing ${label(status.name, status.address)}…`);
      const result = await client.probe(status.name);
      results.push(result);
      if (result.status === 'reachable') {
        // Reachable with warnings still exits 0: sign-in works; the warnings say what to fix.
        say(`Reachable (${Math.round(result.rttMs)} ms, ${result.method})`);
        for (const warning of result.warnings) say(`  warning: ${warning.message}`);
      } else {
        say(`Failed: ${result.reason} — ${result.message}`);
      }
      const drops = Object.entries(result.dropped).map(([reason, n]) => `${reason} ×${n}`);
      if (flags.verbose && drops.length > 0) io.stderr.write(`dropped replies: ${drops.join(', ')}\n`);
    }
  } finally {
    await client.close();
  }
  const ok = results.every((r) => r.status === 'reachable');
  if (flags.json) io.stdout.write(JSON.stringify({ ok, results }, null, 2) + '\n');
  return ok ? 0 : 1;
}

async function loginCommand(flags: LoginFlags, io: CliIo, lines: LineReader | undefined): Promise<number> {
  warnAboutSecretFlag(flags, io);
  const resolved = resolveServers(flags, io.env);
  if (!lines && !io.stdin.isTTY) throw new UsageError('stdin is not a terminal: give --password-stdin to read the password from it');
  const client = printWarnings(makeClient(resolved, flags), io);
  const accountingPorts = accountingPortWarnings(client);
  for (const line of accountingPorts) io.stderr.write(`warning: ${line}\n`);
  const addresses = new Map(client.serverStatus().map((s) => [s.name, s.address]));
  const say = (text: string): void => {
    (flags.json ? io.stderr : io.stdout).write(text + '\n');
  };
  if (flags.verbose) watchEvents(client, (line) => io.stderr.write(line + '\n'));
  const read = async (prompt: string, echo: boolean): Promise<string | undefined> =>
    lines ? lines.next() : readFromTerminal(io.stdin, io.stderr, prompt, echo);
  const heading = (result: AuthResult): string => {
    const kind = { accept: 'Access-Accept', reject: 'Access-Reject', challenge: 'Access-Challenge' }[result.type];
    return `${kind} from ${label(result.server, addresses.get(result.server) ?? result.server)} in ${Math.round(result.rttMs)} ms`;
  };
  const failed = (message: string, extra: Record<string, unknown> = {}): number => {
    if (flags.json) io.stdout.write(JSON.stringify({ outcome: 'failed', user: flags.user, error: message, ...extra }, null, 2) + '\n');
    else say(`Failed: ${message}`);
    return 1;
  };

  try {
    const password = await read('Password: ', false);
    if (password === undefined) throw new UsageError('no password: stdin ended before the first line');
    let result: AuthResult;
    let rounds = 0;
    try {
      result = await client.authenticate({ username: flags.user, password });
      while (result.type === 'challenge') {
        rounds++;
        say(heading(result));
        say(safeText(result.replyMessage ?? '(the server sent no prompt)'));
        if (rounds > flags.maxChallengeRounds) {
          return failed(`more than ${flags.maxChallengeRounds} challenge round${flags.maxChallengeRounds === 1 ? '' : 's'} (--max-challenge-rounds)`);
        }
        const response = await read(result.echo ? 'Response: ' : 'Response (hidden): ', result.echo);
        if (response === undefined) return failed('no response to the challenge (input ended)');
        result = await client.respond({
          server: result.server,
          username: flags.user,
          response,
          ...(result.state ? { state: result.state } : {}),
        });
      }
    } catch (e) {
      if (e instanceof RadiusUnavailableError) {
        const code = failed(e.message, { attempts: e.attempts });
        if (e.attempts.some((a) => a.reason === 'timeout')) {
          io.stderr.write('hint: `passport-radius probe` with the same server options tells why a server does not answer (an accounting port, a wrong shared secret, unsigned replies)\n');
        }
        return code;
      }
      if (e instanceof RadiusConfigError) throw new UsageError(e.message, { cause: e });
      if (e instanceof RadiusError) return failed(e.message);
      throw e;
    }
    const attributes = visibleAttributes(result.attributes);
    if (flags.json) {
      io.stdout.write(
        JSON.stringify(
          {
            outcome: result.type,
            user: flags.user,
            server: result.server,
            address: addresses.get(result.server),
            rttMs: result.rttMs,
            challengeRounds: rounds,
            replyMessage: result.replyMessage ?? null,
            attributes: attributesJson(result.attributes),
          },
          null,
          2,
        ) + '\n',
      );
    } else {
      say(heading(result));
      if (attributes.length === 0) say('  (no reply attributes)');
      for (const [name, values] of attributes) {
        for (const value of values) say(`  ${name} = ${valueText(value)}`);
      }
    }
    return result.type === 'accept' ? 0 : 1;
  } finally {
    await client.close();
  }
}

/** Prefixes a message with the command's name, once. */
function withPrefix(message: string): string {
  return message.startsWith('passport-radius:') ? message : `passport-radius: ${message}`;
}
