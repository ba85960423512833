/**
 * Test helper: run a real FreeRADIUS 3.x server (from the config templates in
 * test/freeradius/) on a random localhost UDP port.
 *
 *   const server = await startFreeRadius({ secret: 's3cret' });
 *   // ... talk RADIUS to server.address / server.address6 ...
 *   await server.stop();
 *
 * Use describeFreeRadius() instead of describe() so the suite is skipped with
 * a visible notice when FreeRADIUS is not installed (or fails when
 * REQUIRE_FREERADIUS=1).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freeTcpPort, freeUdpPort } from './ports';
import { describeRequiring, findProgram, killOnExit } from './requirements';
import { sleep } from './time';

/* ------------------------------------------------------------------------ */
/* Locating FreeRADIUS                                                      */
/* ------------------------------------------------------------------------ */

function findFreeradius(): string | undefined {
  return findProgram('FREERADIUS_BIN', ['freeradius', 'radiusd'], ['/usr/sbin', '/usr/local/sbin', '/sbin', '/opt/homebrew/sbin']);
}

function firstExisting(candidates: string[], marker: string): string | undefined {
  return candidates.find((dir) => existsSync(join(dir, marker)));
}

/** Path of the freeradius (or radiusd) binary, or undefined when not installed. */
export const FREERADIUS_BIN: string | undefined = findFreeradius();

export const DICT_DIR =
  process.env.FREERADIUS_DICTDIR ??
  firstExisting(
    ['/usr/share/freeradius', '/usr/local/share/freeradius', '/opt/homebrew/share/freeradius'],
    'dictionary',
  ) ??
  '/usr/share/freeradius';

export const LIB_DIR =
  process.env.FREERADIUS_LIBDIR ??
  firstExisting(
    [
      '/usr/lib/freeradius',
      '/usr/lib64/freeradius',
      '/usr/local/lib/freeradius',
      '/usr/lib/x86_64-linux-gnu/freeradius',
      '/usr/lib/aarch64-linux-gnu/freeradius',
      '/usr/local/lib',
      '/opt/homebrew/lib',
    ],
    'rlm_pap.so',
  ) ??
  '/usr/lib/freeradius';

export function freeradiusAvailable(): boolean {
  return FREERADIUS_BIN !== undefined;
}

/* ------------------------------------------------------------------------ */
/* Users known to the test server (see test/freeradius/users, radiusd.conf) */
/* ------------------------------------------------------------------------ */

export const USERS = {
  /** PAP and CHAP. */
  alice: { name: 'alice', password: 'alice-password', replyMessage: 'Welcome alice' },
  /** UTF-8 user name and password. */
  jorg: { name: 'jörg', password: 'pässwörd-✓', replyMessage: 'Welcome jörg' },
  /** Password of exactly 17 bytes (one byte past a 16-byte block). */
  long17: { name: 'long17', password: 'abcdefghijklmnopq' },
  /** Password of exactly 128 bytes (RFC 2865 maximum). */
  long128: { name: 'long128', password: 'x'.repeat(120) + '12345678' },
  /** Always rejected (any password), with two Reply-Messages in this order. */
  rejectme: {
    name: 'rejectme',
    password: 'whatever',
    replyMessages: ['Account locked', 'Call the help desk'],
  },
  /** Not in the users file: plain Access-Reject. */
  unknown: { name: 'nobody-here', password: 'nothing' },
  /**
   * Two-factor: password (PAP or CHAP) -> Access-Challenge carrying
   * challengeMessage, State = state (binary), Prompt = No-Echo (0);
   * then User-Password = code with that State -> Accept (replyMessage).
   * Wrong password or wrong code -> Reject.
   */
  carol: {
    name: 'carol',
    password: 'carol-password',
    code: '123456',
    challengeMessage: 'Enter the code sent to your phone',
    state: Buffer.from('00ff80fe0d0a2200c3', 'hex'),
    prompt: 0,
    replyMessage: 'Welcome carol',
  },
  /**
   * Two challenge rounds: password -> Challenge rounds[0] (message, State,
   * Prompt Echo); rounds[0].code + rounds[0].state -> Challenge rounds[1];
   * rounds[1].code + rounds[1].state -> Accept (replyMessage).
   */
  dave: {
    name: 'dave',
    password: 'dave-password',
    rounds: [
      { message: 'Enter code 1', state: Buffer.from('dave-round-1'), prompt: 1, code: '111111' },
      { message: 'Enter code 2', state: Buffer.from('dave-round-2'), prompt: 1, code: '222222' },
    ],
    replyMessage: 'Welcome dave',
  },
  /**
   * Password -> Access-Challenge WITHOUT State and with two Reply-Messages
   * (challengeMessages, in order; concatenated = "Enter the code sent to
   * your phone"); then User-Password = code, no State -> Accept.
   */
  erin: {
    name: 'erin',
    password: 'erin-password',
    code: '654321',
    challengeMessages: ['Enter the code ', 'sent to your phone'],
    replyMessage: 'Welcome erin',
  },
  /** Accept with a bunch of reply attributes. */
  frank: {
    name: 'frank',
    password: 'frank-password',
    /** Class (25) twice, in this order. */
    classes: [Buffer.from('admins'), Buffer.from('ops')],
    filterId: 'web-admin',
    sessionTimeout: 3600,
    idleTimeout: 600,
    /** Cisco (vendor 9) attribute 1, string. */
    ciscoAvPair: { vendorId: 9, type: 1, name: 'Cisco-AVPair', value: 'shell:priv-lvl=15' },
    /** Juniper (vendor 2636) attribute 1, string. */
    vsa: { vendorId: 2636, type: 1, name: 'Juniper-Local-User-Name', value: 'netadmin' },
  },
};

/* ------------------------------------------------------------------------ */
/* Ports: test/support/ports.ts (re-exported for scripts/radius.ts and bench/)  */
/* ------------------------------------------------------------------------ */

export { freeTcpPort, freeUdpPort } from './ports';

/* ------------------------------------------------------------------------ */
/* Server                                                                   */
/* ------------------------------------------------------------------------ */

export interface FreeRadiusOptions {
  /** Shared secret for 127.0.0.1 and ::1 (default 'testing123'). */
  secret?: string;
  /** Add Message-Authenticator to every reply (default true). */
  signReplies?: boolean;
  /** Answer Status-Server on the auth port with Access-Accept (default false). */
  statusServer?: boolean;
  /**
   * Add Message-Authenticator to Status-Server replies (default: as signReplies). False with signReplies
   * true is the common admin's config: `authorize` signs Access replies, `Autz-Type Status-Server` does not.
   */
  signStatusServer?: boolean;
  /** Clients must send Message-Authenticator in Access-Request (default true). */
  requireMessageAuthenticator?: boolean;
  /**
   * Also listen for RADIUS over TLS (RFC 6614) on 127.0.0.1, shared secret `radsec`, for clients with a
   * certificate signed by `caFile` (FreeRADIUS then runs threaded: `-f -xx -l stdout`).
   */
  tls?: {
    /** TCP port; default a free one. */
    port?: number;
    /** PEM files of the server certificate, its key and the CA trusted for clients. */
    certFile: string;
    keyFile: string;
    caFile: string;
  };
  /** Shared secret of the accounting port (default: `secret`). */
  accountingSecret?: string;
}

export interface FreeRadiusServer {
  port: number;
  /** RADIUS over TLS port on 127.0.0.1, with the `tls` option. */
  tlsPort?: number;
  /** '127.0.0.1:PORT' */
  address: string;
  /** '[::1]:PORT' */
  address6: string;
  /** UDP accounting port (RFC 2866) on 127.0.0.1 and ::1, writing every record to `detailFile`. */
  acctPort: number;
  /** '127.0.0.1:ACCT_PORT' */
  acctAddress: string;
  /** The `detail` file the accounting port appends each Accounting-Request to (inside `dir`). */
  detailFile: string;
  secret: string;
  /** The temp raddb directory (removed by stop()). */
  dir: string;
  /** Everything the server printed so far (stdout + stderr). */
  output(): string;
  /** Resolves once the output (so far or later) matches re. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * test/freeradius/ (the config templates). Uses __filename rather than
 * __dirname: when tsx loads this CommonJS file from an ES module, __dirname
 * is not a real path but __filename is.
 */
const TEMPLATE_DIR: string =
  [
    typeof __filename === 'string' ? join(dirname(__filename), '..', 'freeradius') : undefined,
    join(process.cwd(), 'test', 'freeradius'),
  ].find((dir): dir is string => dir !== undefined && existsSync(join(dir, 'radiusd.conf'))) ??
  resolve('test', 'freeradius');

const START_TIMEOUT_MS = 15_000;
const KILL_AFTER_MS = 3_000;


/**
 * Quote a value as a FreeRADIUS 3 single-quoted config string. In that
 * syntax a backslash and the character after it are kept verbatim, except
 * that \' stands for a quote; so a backslash right before a quote or at the
 * very end cannot be expressed (nor can control characters).
 */
export function confString(value: string): string {
  const hasControl = [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (/\\('|$)/.test(value) || hasControl) {
    throw new Error(
      `secret ${JSON.stringify(value)} cannot be written to a FreeRADIUS config ` +
        '(no control characters, and no backslash before a quote or at the end)',
    );
  }
  return `'${value.replace(/'/g, "\\'")}'`;
}

async function writeConfig(dir: string, vars: Record<string, string>): Promise<void> {
  for (const entry of await readdir(TEMPLATE_DIR, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    let text = await readFile(join(TEMPLATE_DIR, entry.name), 'utf8');
    text = text.replace(/@@([A-Z_0-9]+)@@/g, (match, name: string) => vars[name] ?? match);
    await writeFile(join(dir, entry.name), text, { mode: 0o600 });
  }
}

/** The TLS_LISTEN and TLS_CLIENTS values of the config template (comments when `tls` is absent). */
export function tlsVars(tls: FreeRadiusOptions['tls'], tlsPort: number | undefined): Record<string, string> {
  if (!tls || tlsPort === undefined) return { TLS_LISTEN: '# no TLS listener', TLS_CLIENTS: '# no TLS clients' };
  const listen = [
    'listen {',
    '\ttype = auth+acct', // RadSec carries accounting too (RFC 6614 §2.1)
    '\tipaddr = 127.0.0.1',
    `\tport = ${tlsPort}`,
    '\tproto = tcp',
    '\tclients = radsec',
    '\tlimit {',
    '\t\tmax_connections = 1000',
    '\t\tlifetime = 0',
    '\t\tidle_timeout = 0',
    '\t}',
    '\ttls {',
    `\t\tprivate_key_file = ${tls.keyFile}`,
    `\t\tcertificate_file = ${tls.certFile}`,
    `\t\tca_file = ${tls.caFile}`,
    '\t\ttls_min_version = "1.2"',
    '\t\ttls_max_version = "1.3"',
    '\t\trequire_client_cert = yes',
    '\t\tcipher_list = "DEFAULT"',
    '\t\tcache {',
    '\t\t\tenable = no',
    '\t\t}',
    '\t\tverify {',
    '\t\t}',
    '\t}',
    '}',
  ].join('\n\t');
  // FreeRADIUS counts a closed connection until its event loop reaps it, and allows a client 16 by default.
  const clients = ['clients radsec {', '\tclient tls4 {', '\t\tipaddr = 127.0.0.1', '\t\tproto = tls', '\t\tsecret = radsec',
    '\t\tlimit {', '\t\t\tmax_connections = 1000', '\t\t\tlifetime = 0', '\t\t\tidle_timeout = 0', '\t\t}', '\t}', '}'].join('\n');
  return { TLS_LISTEN: listen, TLS_CLIENTS: clients };
}

function configVars(dir: string, port: number, acctPort: number, secret: string, opts: FreeRadiusOptions, tlsPort?: number): Record<string, string> {
  const sign = opts.signReplies ?? true;
  const status = opts.statusServer ?? false;
  const requireMa = opts.requireMessageAuthenticator ?? true;
  const signUnlang = sign
    ? 'update reply {\n\t\t\t&Message-Authenticator := 0x00\n\t\t}'
    : '# replies are not signed (signReplies: false)';
  const signStatus = opts.signStatusServer ?? sign;
  const statusSection = status
    ? [
        'Autz-Type Status-Server {',
        ...(signStatus ? ['\tupdate reply {', '\t\t&Message-Authenticator := 0x00', '\t}'] : []),
        '\tok',
        '}',
      ].join('\n\t\t')
    : '# Status-Server is off (statusServer: false)';
  return {
    DIR: dir,
    PORT: String(port),
    ACCT_PORT: String(acctPort),
    ACCT_SECRET: confString(opts.accountingSecret ?? secret),
    SECRET: confString(secret),
    REQUIRE_MA: requireMa ? 'yes' : 'no',
    STATUS_SERVER: status ? 'yes' : 'no',
    SIGN_REPLIES: signUnlang,
    STATUS_SECTION: statusSection,
    DICTDIR: DICT_DIR,
    LIBDIR: LIB_DIR,
    ...tlsVars(opts.tls, tlsPort),
  };
}

/** A FreeRADIUS process started by {@link runFreeRadius}. */
export interface FreeRadiusProcess {
  /** Everything the server printed so far (stdout + stderr). */
  output(): string;
  /** Resolves once the output (so far or later) matches re; rejects if it exits first or after timeoutMs. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL after 3 s) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** A start that failed: `addressInUse` when another process holds a port (worth a retry elsewhere). */
export class FreeRadiusStartError extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
    this.name = 'FreeRadiusStartError';
  }
}

/**
 * Runs `freeradius -X -d dir -n name` (LC_ALL=C, killed if this process exits) and resolves once it is
 * ready to process requests. On failure it stops the process, removes `dir` and rejects with a
 * {@link FreeRadiusStartError} holding its output. `dir` is removed by `stop()`. Shared by the tests and
 * `npm run radius` (scripts/radius.ts).
 */
export async function runFreeRadius(
  dir: string,
  options: { name?: string; startTimeoutMs?: number; threaded?: boolean } = {},
): Promise<FreeRadiusProcess> {
  const bin = FREERADIUS_BIN;
  if (!bin) {
    await rm(dir, { recursive: true, force: true });
    throw new FreeRadiusStartError('freeradius is not installed (no freeradius/radiusd binary found)', false);
  }
  // 3.2 runs a TLS listener only with threads; -X (no threads) refuses it.
  const mode = options.threaded ? ['-f', '-xx', '-l', 'stdout'] : ['-X'];
  const child = spawn(bin, [...mode, '-d', dir, '-n', options.name ?? 'radiusd'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  killOnExit(child);

  let out = '';
  let exited = false;
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  const onData = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    notify();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  const exitPromise = new Promise<void>((done) => {
    child.once('exit', () => {
      exited = true;
      notify();
      done();
    });
    child.once('error', (err) => {
      out += `\n[spawn error] ${err.message}\n`;
      exited = true;
      notify();
      done();
    });
  });

  const waitForOutput = (re: RegExp, timeoutMs = 5_000): Promise<void> =>
    new Promise<void>((done, fail) => {
      const check = (): void => {
        if (re.test(out)) {
          cleanup();
          done();
        } else if (exited) {
          cleanup();
          fail(new Error(`freeradius exited before printing ${String(re)}; output:\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        fail(new Error(`timed out after ${timeoutMs} ms waiting for ${String(re)} in freeradius output:\n${out}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, KILL_AFTER_MS);
        await exitPromise;
        clearTimeout(timer);
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    await waitForOutput(/Ready to process requests/, options.startTimeoutMs ?? START_TIMEOUT_MS);
  } catch (err) {
    await stop();
    throw new FreeRadiusStartError(err instanceof Error ? err.message : String(err), /Address already in use|Failed binding/i.test(out));
  }
  return { output: () => out, waitForOutput, stop };
}

/**
 * Resolves once what `server` printed after `mark` (an earlier `output().length`) matches `re`; rejects
 * with that output after `timeoutMs`. FreeRADIUS's log can reach us after its reply did.
 */
export async function waitForOutputSince(server: Pick<FreeRadiusProcess, 'output'>, mark: number, re: RegExp, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(server.output().slice(mark))) {
    if (Date.now() > deadline) throw new Error(`no ${String(re)} in the FreeRADIUS output within ${timeoutMs} ms:\n${server.output().slice(mark)}`);
    await sleep(20);
  }
}

/**
 * FreeRADIUS's log since `mark` once it has logged sending its reply: the test has the reply before
 * FreeRADIUS's log line about it reaches the pipe (it writes the line after sending), so reading the log at
 * once can miss the end of the request. Waits up to `timeoutMs` for a "Sent …" line.
 */
export async function outputAfterReply(server: Pick<FreeRadiusProcess, 'output'>, mark: number, timeoutMs = 3000): Promise<string> {
  await waitForOutputSince(server, mark, /Sent (Access|Accounting|Disconnect|CoA)-[A-Za-z]+ Id/, timeoutMs);
  return server.output().slice(mark);
}

interface Attempt {
  server?: FreeRadiusServer;
  retry: boolean;
  error?: Error;
}

async function startOnce(opts: FreeRadiusOptions, secret: string): Promise<Attempt> {
  if (!FREERADIUS_BIN) throw new Error('freeradius is not installed (no freeradius/radiusd binary found)');

  const port = await freeUdpPort();
  let acctPort = await freeUdpPort();
  if (acctPort === port) acctPort = await freeUdpPort();
  const tlsPort = opts.tls ? (opts.tls.port ?? (await freeTcpPort())) : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'passport-radius-freeradius-'));
  try {
    await writeConfig(dir, configVars(dir, port, acctPort, secret, opts, tlsPort));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  let running: FreeRadiusProcess;
  try {
    running = await runFreeRadius(dir, { threaded: opts.tls !== undefined });
  } catch (err) {
    if (err instanceof FreeRadiusStartError) return { retry: err.addressInUse, error: err };
    throw err;
  }

  return {
    retry: false,
    server: {
      port,
      ...(tlsPort !== undefined ? { tlsPort } : {}),
      address: `127.0.0.1:${port}`,
      address6: `[::1]:${port}`,
      acctPort,
      acctAddress: `127.0.0.1:${acctPort}`,
      detailFile: join(dir, 'detail'),
      secret,
      dir,
      ...running,
    },
  };
}

/**
 * Start FreeRADIUS in the foreground (-X) with the project's test config on a
 * free port of 127.0.0.1 and ::1. Resolves when it is ready to process
 * requests; rejects with its output if it exits or takes more than 15 s.
 */
export async function startFreeRadius(opts: FreeRadiusOptions = {}): Promise<FreeRadiusServer> {
  const secret = opts.secret ?? 'testing123';
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await startOnce(opts, secret);
    if (result.server) return result.server;
    lastError = result.error;
    if (!result.retry) break;
  }
  throw lastError ?? new Error('freeradius failed to start');
}

/* ------------------------------------------------------------------------ */
/* Mocha                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * describe() for suites that need FreeRADIUS: skipped with a visible notice when it is not installed,
 * or failing when REQUIRE_FREERADIUS=1.
 */
export function describeFreeRadius(title: string, fn: (this: Mocha.Suite) => void): void {
  describeRequiring(
    {
      available: freeradiusAvailable(),
      what: 'FreeRADIUS',
      requireVar: 'REQUIRE_FREERADIUS',
      install: 'install the freeradius package or set FREERADIUS_BIN',
      skipping: 'the FreeRADIUS integration tests',
    },
    title,
    fn,
  );
}
