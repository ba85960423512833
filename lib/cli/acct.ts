/**
 * `passport-radius acct start|stop|interim`: one Accounting-Request (RFC 2866) sent as the strategy sends
 * it — to each server's accounting address in order, with failover — for testing an accounting setup the
 * way radclient does. Exit code 0 when a server acknowledged the record, 1 when none did, 2 on a usage
 * error. Never prints the shared secret.
 *
 * @internal
 */
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import type { RadiusClient } from '../client';
import { RadiusError, RadiusUnavailableError } from '../errors';
import { ACCT_TERMINATE_CAUSE, type AcctStatusType, type AcctTerminateCause } from '../protocol/accounting';
import { resolveServers, UsageError, type ResolvedServers, type ServerFlags } from './config';
import { safeText } from './terminal';

/** Flags of `acct`, as commander parses them (the server flags included). */
export interface AcctFlags extends ServerFlags {
  /** `--user`: User-Name. */
  user: string;
  /** `--session-id`: Acct-Session-Id; default a new random one (printed). */
  sessionId?: string;
  /** `--session-time`: Acct-Session-Time in seconds (stop, interim). */
  sessionTime?: number;
  /** `--cause`: Acct-Terminate-Cause of a stop. */
  cause?: AcctTerminateCause;
  /** `--calling-station-id`: Calling-Station-Id. */
  callingStationId?: string;
  /** `--class` (repeatable): Class values to echo; `0x…` is hexadecimal, anything else UTF-8 text. */
  class?: string[];
  /** `--accounting-address`: with `--address`, where the records go (default: its host, port 1813). */
  accountingAddress?: string;
  /** `--json`: one JSON document on stdout. */
  json?: boolean;
  /** `--verbose`: each RADIUS event on stderr. */
  verbose?: boolean;
}

const STATUS: Record<string, AcctStatusType> = { start: 'Start', stop: 'Stop', interim: 'Interim-Update' };

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 0xffff_ffff) throw new InvalidArgumentError('session-time must be a whole number of seconds.');
  return n;
}

function classValue(text: string): Buffer {
  if (/^0x/i.test(text)) {
    if (!/^0x(?:[0-9a-f]{2})+$/i.test(text)) throw new UsageError(`--class ${text}: hexadecimal needs an even number of digits`);
    return Buffer.from(text.slice(2), 'hex');
  }
  return Buffer.from(text, 'utf8');
}

/** Adds the `acct` command's own argument and flags (the server flags are added by the caller). */
export function acctCommandOptions(command: Command): Command {
  return command
    .description('Send one accounting record (Accounting-Request, RFC 2866) as the strategy does: to each server\'s accounting address in order, until one acknowledges it.')
    .addArgument(new Argument('<status>', 'Acct-Status-Type').choices(Object.keys(STATUS)))
    .requiredOption('-u, --user <name>', 'User-Name')
    .option('--session-id <id>', 'Acct-Session-Id (default: a new random one, printed)')
    .addOption(new Option('--session-time <seconds>', 'Acct-Session-Time, for stop and interim').argParser(seconds))
    .addOption(new Option('--cause <cause>', 'Acct-Terminate-Cause of a stop (default User-Request)').choices(Object.keys(ACCT_TERMINATE_CAUSE)))
    .option('--calling-station-id <id>', 'Calling-Station-Id, e.g. the browser\'s IP address')
    .option('--class <value>', 'a Class value to echo, text or 0x-hex (repeatable)', collect)
    .option('--accounting-address <host:port>', 'with --address: where the records go (default: its host, port 1813)')
    .addHelpText(
      'after',
      '\nRecords go to each server\'s accountingAddress (default: the host of its address, port 1813) with its shared secret.\n' +
        'A server that cannot verify the Request Authenticator (wrong secret) drops the record: no reply at all.\n\nExample:\n' +
        '  passport-radius acct start --address radius.example.com --secret-env RADIUS_SECRET --nas-identifier console --user alice',
    );
}

/**
 * Runs `acct <status>`: sends the record and prints the server that acknowledged it (or why none did).
 *
 * @returns the exit code.
 */
export async function acctCommand(
  status: string,
  flags: AcctFlags,
  io: { stdout: Writable; stderr: Writable; env: NodeJS.ProcessEnv },
  makeClient: (resolved: ResolvedServers) => RadiusClient,
  watchEvents: (client: RadiusClient, write: (line: string) => void) => void,
): Promise<number> {
  const statusType = STATUS[status]!;
  if (flags.cause !== undefined && statusType !== 'Stop') throw new UsageError('--cause applies to acct stop');
  const resolved = resolveServers(flags, io.env);
  if (flags.accountingAddress !== undefined) {
    if (flags.config !== undefined) throw new UsageError('--accounting-address applies to --address; with --config, set "accountingAddress" per server in the file');
    for (const server of resolved.servers) server.accountingAddress = flags.accountingAddress;
  }
  const classes = (flags.class ?? []).map(classValue);
  const client = makeClient(resolved);
  const say = (text: string): void => {
    (flags.json ? io.stderr : io.stdout).write(text + '\n');
  };
  if (flags.verbose) {
    watchEvents(client, (line) => io.stderr.write(line + '\n'));
    client.on('accounting', (e) => io.stderr.write(`accounting: ${e.server} acknowledged ${e.statusType}\n`));
  }
  const sessionId = flags.sessionId ?? randomBytes(8).toString('hex').toUpperCase();
  try {
    const result = await client.account({
      statusType,
      sessionId,
      username: flags.user,
      ...(flags.sessionTime !== undefined ? { sessionTime: flags.sessionTime } : statusType === 'Start' ? {} : { sessionTime: 0 }),
      ...(statusType === 'Stop' ? { terminateCause: flags.cause ?? 'User-Request' } : {}),
      ...(flags.callingStationId !== undefined ? { callingStationId: flags.callingStationId } : {}),
      ...(classes.length > 0 ? { classes } : {}),
    });
    if (flags.json) {
      io.stdout.write(JSON.stringify({ ok: true, statusType, sessionId, user: flags.user, server: result.server, rttMs: result.rttMs }, null, 2) + '\n');
    } else {
      say(`Accounting-Response from ${result.server} in ${Math.round(result.rttMs)} ms`);
      say(`  Acct-Status-Type = ${statusType}`);
      say(`  Acct-Session-Id = ${safeText(JSON.stringify(sessionId))}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message, { cause: e });
    if (!(e instanceof RadiusError)) throw e;
    if (flags.json) {
      const attempts = e instanceof RadiusUnavailableError ? e.attempts : undefined;
      io.stdout.write(JSON.stringify({ ok: false, statusType, sessionId, user: flags.user, error: e.message, ...(attempts ? { attempts } : {}) }, null, 2) + '\n');
    } else {
      say(`Failed: ${e.message}`);
    }
    return 1;
  } finally {
    await client.close();
  }
}
