/**
 * `npm run radius`: a real FreeRADIUS (the Debian/Ubuntu package `freeradius`) on 127.0.0.1 to try the
 * example against, with demo users — `alice` (password) and `carol` (password, then a TOTP code from a
 * phone authenticator app, checked by FreeRADIUS's own rlm_totp after an Access-Challenge). It also takes
 * accounting (RFC 2866) on the next port, written to a `detail` file in its directory. It prints carol's
 * otpauth:// URI and QR code and the commands that point `npm start` at it. Ctrl-C (SIGINT), SIGTERM and
 * SIGHUP (its terminal closed) stop it and remove its files.
 *
 *   npm run radius [-- --port 11812] [--acct-port 11813] [--secret S] [--totp-secret BASE32] [--verbose]
 *
 * The configuration is built from docs/freeradius/ — the lines the README tells admins to add to a stock
 * install (scripts/freeradius-snippets.ts) — and started by the tests' runFreeRadius().
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { DICT_DIR, FREERADIUS_BIN, LIB_DIR, freeUdpPort, runFreeRadius, type FreeRadiusProcess } from '../test/support/freeradius';
import { filledSnippet } from './freeradius-snippets';

/** The NAS-Identifier the demo expects (the README's client name). */
export const DEMO_NAS_IDENTIFIER = 'passport_console';

/** The demo users (their passwords are demo values printed on start). */
export const DEMO_RADIUS_USERS = {
  alice: { username: 'alice', password: 'alice-password' },
  carol: { username: 'carol', password: 'carol-password' },
} as const;

/** Default UDP port: not 1812, where an installed `freeradius` service already listens. */
export const DEFAULT_PORT = 11812;

const TEMPLATE = join(process.cwd(), 'scripts', 'radius', 'radiusd.conf');

/** Options of {@link startDemoRadius}. */
export interface DemoRadiusOptions {
  /** UDP port on 127.0.0.1; 0 picks a free one. Default {@link DEFAULT_PORT}. */
  port?: number;
  /** UDP accounting port on 127.0.0.1; 0 picks a free one. Default: `port` + 1 (a free one when `port` is 0). */
  acctPort?: number;
  /** Shared secret; default 24 random bytes, base64url. */
  secret?: string;
  /** carol's TOTP key (raw bytes); default 20 random bytes. */
  totpKey?: Buffer;
}

/** A running demo server. */
export interface DemoRadius extends FreeRadiusProcess {
  /** '127.0.0.1:PORT' */
  address: string;
  /** '127.0.0.1:ACCT_PORT': where Accounting-Requests go. */
  accountingAddress: string;
  /** The file FreeRADIUS appends every Accounting-Request to (in `dir`). */
  detailFile: string;
  secret: string;
  /** carol's TOTP key (raw bytes) and its base32 form as FreeRADIUS holds it. */
  totpKey: Buffer;
  totpSecret: string;
  /** carol's otpauth:// URI (Key Uri Format: issuer, SHA1, 6 digits, 30 s). */
  totpUri: string;
  /** The temp directory holding the configuration (removed by stop()). */
  dir: string;
}

/** Writes the demo configuration into `dir`. */
async function writeDemoConfig(dir: string, values: { port: number; acctPort: number; secret: string; totpSecret: string }): Promise<void> {
  const template = await readFile(TEMPLATE, 'utf8');
  const vars: Record<string, string> = {
    DIR: dir,
    PORT: String(values.port),
    ACCT_PORT: String(values.acctPort),
    DICTDIR: DICT_DIR,
    LIBDIR: LIB_DIR,
    CLIENT: filledSnippet('client', { clientAddress: '127.0.0.1', secret: values.secret }),
    AUTHORIZE_FIRST: filledSnippet('authorizeFirst', {}),
    AUTHORIZE_LAST: filledSnippet('authorizeLast', {}),
    AUTHENTICATE: filledSnippet('authenticate', {}),
    MODULES: filledSnippet('totpUsed', {}),
  };
  const config = template.replace(/@@([A-Z_]+)@@/g, (match, name: string) => vars[name] ?? match);
  await writeFile(join(dir, 'radiusd.conf'), config, { mode: 0o600 });
  await writeFile(join(dir, 'users'), filledSnippet('users', { totpSecret: values.totpSecret }), { mode: 0o600 });
}

/**
 * Starts the demo FreeRADIUS; resolves once it is ready. Rejects with FreeRADIUS's output when it does not
 * start (e.g. the port is taken), or when FreeRADIUS is not installed.
 */
export async function startDemoRadius(options: DemoRadiusOptions = {}): Promise<DemoRadius> {
  if (!FREERADIUS_BIN) throw new Error(MISSING_FREERADIUS);
  const port = options.port === undefined ? DEFAULT_PORT : options.port === 0 ? await freeUdpPort() : options.port;
  let acctPort = options.acctPort ?? (options.port === 0 ? 0 : port + 1);
  if (acctPort === 0) {
    do acctPort = await freeUdpPort();
    while (acctPort === port);
  }
  if (acctPort === port || acctPort > 65535) throw new TypeError(`--acct-port: a UDP port other than ${port}`);
  // The secret goes into a config line and the printed command: letters, digits, '-' and '_' only.
  const secret = options.secret ?? randomBytes(18).toString('base64url');
  if (!/^[A-Za-z0-9_-]{8,128}$/.test(secret)) throw new TypeError('--secret: 8 to 128 letters, digits, "-" or "_"');
  const totpKey = options.totpKey ?? randomBytes(20);
  const key = new Secret({ buffer: Uint8Array.from(totpKey).buffer });
  const totpUri = new TOTP({ issuer: 'passport-radius', label: DEMO_RADIUS_USERS.carol.username, secret: key }).toString();

  const dir = await mkdtemp(join(tmpdir(), 'passport-radius-demo-'));
  try {
    await writeDemoConfig(dir, { port, acctPort, secret, totpSecret: key.base32 });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const running = await runFreeRadius(dir); // removes dir itself when it fails
  return {
    ...running,
    address: `127.0.0.1:${port}`,
    accountingAddress: `127.0.0.1:${acctPort}`,
    detailFile: join(dir, 'detail'),
    secret,
    totpKey,
    totpSecret: key.base32,
    totpUri,
    dir,
  };
}

const MISSING_FREERADIUS =
  'FreeRADIUS is not installed. Install the Debian/Ubuntu package `freeradius` (sudo apt-get install freeradius; ' +
  'its own service on port 1812 may keep running, this demo uses another port), or set FREERADIUS_BIN to the freeradius binary.';

const USAGE = 'usage: npm run radius [-- --port N] [--acct-port N] [--secret S] [--totp-secret BASE32] [--verbose]';

/** Parses the command line; throws a usage message. */
function parseCommandLine(argv: string[]): { port: number; acctPort?: number; secret?: string; totpKey?: Buffer; verbose: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'acct-port': { type: 'string' },
      secret: { type: 'string' },
      'totp-secret': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: a UDP port (0 for any free one)\n${USAGE}`);
  const acctPort = values['acct-port'] === undefined ? undefined : Number(values['acct-port']);
  if (acctPort !== undefined && (!Number.isInteger(acctPort) || acctPort < 0 || acctPort > 65535)) throw new Error(`--acct-port: a UDP port (0 for any free one)\n${USAGE}`);
  let totpKey: Buffer | undefined;
  if (values['totp-secret'] !== undefined) {
    try {
      totpKey = Buffer.from(Secret.fromBase32(values['totp-secret']).bytes);
    } catch {
      throw new Error(`--totp-secret: a base32 secret (keep the one printed last time to keep your phone's entry)\n${USAGE}`);
    }
    if (totpKey.length < 10) throw new Error('--totp-secret: at least 16 base32 characters (80 bits)');
  }
  return { port, verbose: values.verbose, ...(acctPort !== undefined ? { acctPort } : {}), ...(values.secret !== undefined ? { secret: values.secret } : {}), ...(totpKey ? { totpKey } : {}) };
}

async function main(): Promise<number> {
  // A closed terminal turns writes into EIO/EPIPE errors: ignore them, so that they cannot end the
  // process before FreeRADIUS is stopped and the directory removed.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  let args: ReturnType<typeof parseCommandLine>;
  try {
    args = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  if (!FREERADIUS_BIN) {
    console.error(MISSING_FREERADIUS);
    return 1;
  }
  // Signals are caught from here on: one that comes while FreeRADIUS is starting (Node's default would
  // exit at once) stops it as soon as it is up, so that it never keeps the port and the secrets behind.
  // SIGHUP: the terminal was closed.
  let signalled: NodeJS.Signals | undefined;
  let onSignal = (signal: NodeJS.Signals): void => {
    signalled ??= signal;
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, (s: NodeJS.Signals) => onSignal(s));
  let demo: DemoRadius;
  try {
    demo = await startDemoRadius(args);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    console.error(/Address already in use|Failed binding/i.test(text) ? `port ${args.port} is in use: try --port 0 (any free port) or another one` : text);
    return 1;
  }
  let shown = 0;
  const showLog = (): void => {
    const out = demo.output();
    if (args.verbose && out.length > shown) process.stdout.write(out.slice(shown));
    shown = out.length;
  };
  const logTimer = setInterval(showLog, 200);
  const stopped = new Promise<number>((resolveExit) => {
    let stopping = false;
    onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      clearInterval(logTimer);
      // After SIGHUP the terminal may be gone: a failed write must not stop the clean-up.
      try {
        console.log(`\n${signal}: stopping FreeRADIUS and removing ${demo.dir}`);
      } catch {
        // nothing to tell
      }
      void demo.stop().then(() => resolveExit(0));
    };
    if (signalled) onSignal(signalled);
  });
  if (signalled) return stopped;
  const { alice, carol } = DEMO_RADIUS_USERS;
  const qr = await QRCode.toString(demo.totpUri, { type: 'terminal', small: true });
  console.log(
    [
      `FreeRADIUS (demo) is running on ${demo.address}, shared secret ${demo.secret}, NAS-Identifier ${DEMO_NAS_IDENTIFIER}.`,
      `Accounting (RFC 2866) on ${demo.accountingAddress}, same secret; every record is appended to ${demo.detailFile}.`,
      `Configuration: ${demo.dir} (built from docs/freeradius/, removed on exit).`,
      '',
      'Users:',
      `  ${alice.username} / ${alice.password}`,
      `  ${carol.username} / ${carol.password}, then the 6-digit code from an authenticator app (TOTP, checked by FreeRADIUS's rlm_totp).`,
      '',
      `Add carol to your authenticator app: scan this QR code, or enter the secret ${demo.totpSecret}`,
      qr,
      `  ${demo.totpUri}`,
      `  (keep that phone entry across restarts: npm run radius -- --totp-secret ${demo.totpSecret})`,
      '',
      'Point the example at it, in another terminal:',
      `  RADIUS_ADDRESS=${demo.address} RADIUS_SECRET=${demo.secret} RADIUS_NAS_IDENTIFIER=${DEMO_NAS_IDENTIFIER} npm start`,
      'with accounting of console sessions (Start at sign-in, Stop at sign-out, in the detail file above):',
      `  CONSOLE_ACCOUNTING=1 RADIUS_SERVERS='[{"name":"${demo.address}","address":"${demo.address}","accountingAddress":"${demo.accountingAddress}"}]' RADIUS_SECRET=${demo.secret} RADIUS_NAS_IDENTIFIER=${DEMO_NAS_IDENTIFIER} npm start`,
      'or test it with the command line:',
      `  RADIUS_SECRET=${demo.secret} node dist/cli/index.js probe --address ${demo.address} --nas-identifier ${DEMO_NAS_IDENTIFIER}`,
      `  RADIUS_SECRET=${demo.secret} node dist/cli/index.js acct start --user ${DEMO_RADIUS_USERS.alice.username} --address ${demo.address} --accounting-address ${demo.accountingAddress} --nas-identifier ${DEMO_NAS_IDENTIFIER}`,
      '',
      `Ctrl-C stops it.${args.verbose ? '' : ' (--verbose shows FreeRADIUS\'s debug log.)'}`,
    ].join('\n'),
  );
  return stopped;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
