/**
 * The `passport-radius` command, run as a child process (stdin piped) against FreeRADIUS: `probe` and
 * `login`, exit codes, `--json`, `--config`, and that it never prints a password, code, secret or State.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describeFreeRadius, startFreeRadius, USERS, waitForOutputSince, type FreeRadiusServer } from './support/freeradius';
import { freeUdpPort } from './support/ports';

const ROOT = process.cwd();
const ENTRY = resolve(ROOT, 'lib/cli/index.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/**
 * Runs the CLI with `args`, writes `input` to its stdin and closes it. `closed` closes this end of the
 * child's stdout or stderr pipe at once, before the child writes (as `| head -1` does after one line):
 * its writes there then fail with EPIPE, and what it printed there is not seen.
 */
function cli(args: string[], options: { input?: string; env?: Record<string, string>; closed?: 'stdout' | 'stderr' } = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    delete env.DEBUG;
    if (!options.env?.RADIUS_SECRET) delete env.RADIUS_SECRET;
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    if (options.closed) child[options.closed].destroy();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Everything a run printed must be free of these, in plain, hex and base64 forms. */
function assertNoLeak(run: Run, secrets: Array<string | Buffer>): void {
  const all = run.stdout + run.stderr;
  for (const s of secrets) {
    const bytes = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
    for (const form of [bytes.toString('utf8'), bytes.toString('latin1'), bytes.toString('hex'), bytes.toString('base64')]) {
      assert.ok(!all.includes(form), `the output holds a secret (${form}):\n${all}`);
    }
  }
}

describe('passport-radius CLI (no server needed)', function () {
  this.timeout(20000);
  afterEach(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('keeps the #!/usr/bin/env node line when compiled', async () => {
    const source = await readFile(ENTRY, 'utf8');
    const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
    assert.ok(out.outputText.startsWith('#!/usr/bin/env node\n'), out.outputText.slice(0, 80));
  });

  it('prints help for each command with exit code 0', async () => {
    const [top, probe, login] = await Promise.all([cli(['--help']), cli(['probe', '--help']), cli(['login', '--help'])]);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /probe \[options\]/);
    assert.match(top.stdout, /login \[options\]/);
    assert.equal(probe.code, 0);
    for (const flag of ['--address', '--secret-file', '--secret-env', '--secret ', '--nas-identifier', '--config', '--json', '--timeout']) {
      assert.ok(probe.stdout.includes(flag), `probe --help lacks ${flag}`);
    }
    assert.match(probe.stdout, /VISIBLE to other\s+users/);
    assert.equal(login.code, 0);
    for (const flag of ['--user', '--password-stdin', '--protocol', '--max-challenge-rounds']) {
      assert.ok(login.stdout.includes(flag), `login --help lacks ${flag}`);
    }
  });

  it('--version and -V print the version from package.json, exit 0', async () => {
    const { version } = JSON.parse(await readFile(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };
    const runs = await Promise.all([cli(['--version']), cli(['-V'])]);
    for (const run of runs) {
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `${version}\n`);
      assert.equal(run.stderr, '');
    }
  });

  it('ends quietly with its own exit code when the reader of stdout or stderr has gone (| head -1)', async () => {
    const port = await freeUdpPort();
    const [help, loginHelp, version, probe, usage] = await Promise.all([
      cli(['--help'], { closed: 'stdout' }),
      cli(['login', '--help'], { closed: 'stdout' }),
      cli(['--version'], { closed: 'stdout' }),
      // Prints "testing …" and "Failed: …" on stdout, then exits 1 (nothing listens on the port).
      cli(['probe', '--address', `127.0.0.1:${port}`, '--nas-identifier', 'x', '--timeout', '1000', '--retries', '0'], {
        closed: 'stdout',
        env: { RADIUS_SECRET: 'a-secret-of-24-characters' },
      }),
      cli(['frobnicate'], { closed: 'stderr' }),
    ]);
    assert.deepEqual(
      [help, loginHelp, version, probe, usage].map((r) => r.code),
      [0, 0, 0, 1, 2],
      [help, loginHelp, version, probe].map((r) => r.stderr).join('\n'),
    );
    for (const run of [help, loginHelp, version, probe]) assert.equal(run.stderr, '');
    assert.equal(usage.stdout, '');
  });

  it('exits 2 on usage errors, saying what is wrong', async () => {
    const runs = await Promise.all([
      cli(['probe', '--address', '127.0.0.1', '--nas-identifier', 'x']), // no secret
      cli(['login', '--address', '127.0.0.1', '--secret', 's', '--nas-identifier', 'x']), // no --user
      cli(['login', '--address', '127.0.0.1', '--secret', 's', '--nas-identifier', 'x', '--user', 'alice']), // stdin is a pipe
      cli(['probe', '--address', '127.0.0.1', '--secret', 's']), // no NAS attribute
      cli(['probe', '--address', '127.0.0.1', '--secret', 's', '--secret-env', 'X', '--nas-identifier', 'x']),
      cli(['probe', '--address', '127.0.0.1', '--secret', 's', '--nas-identifier', 'x', '--timeout', 'soon']),
      cli(['frobnicate']),
      cli(['probe', '--config', '/nonexistent/servers.json']),
    ]);
    assert.deepEqual(
      runs.map((r) => r.code),
      [2, 2, 2, 2, 2, 2, 2, 2],
      runs.map((r) => r.stderr).join('\n'),
    );
    assert.match(runs[0]!.stderr, /no shared secret/);
    assert.match(runs[1]!.stderr, /--user/);
    assert.match(runs[2]!.stderr, /--password-stdin/);
    assert.match(runs[3]!.stderr, /--nas-identifier/);
    assert.match(runs[4]!.stderr, /cannot be used with/);
    assert.match(runs[5]!.stderr, /timeout must be a whole number/);
    assert.match(runs[6]!.stderr, /unknown command/);
    assert.match(runs[7]!.stderr, /cannot read \/nonexistent\/servers\.json/);
    // --secret is allowed but warned about.
    assert.match(runs[2]!.stderr, /--secret is visible to other users/);
    for (const r of runs) assert.equal(r.stdout.includes('Reachable'), false);
  });

  it('probe --config with a file that is not JSON: exit 2, the file and the position, never an excerpt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'passport-radius-cli-json-'));
    try {
      const file = join(dir, 'bad.json');
      await writeFile(file, '[\n  {"name":"a","address":"127.0.0.1","secret":TOPSECRET-hunter2}\n]\n');
      const run = await cli(['probe', '--config', file]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, new RegExp(`--config: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON \\(unexpected character at line 2, column 46\\)`));
      assertNoLeak(run, ['TOPSECRET', 'hunter2']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints a warning line for a shared secret of 12 octets or less (probe and login), never the secret', async () => {
    const port = await freeUdpPort();
    const env = { SHORT_SECRET: 'short-secret' }; // 12 octets
    const [probeRun, loginRun] = await Promise.all([
      cli(['probe', '--address', `127.0.0.1:${port}`, '--nas-identifier', 'x', '--secret-env', 'SHORT_SECRET'], { env }),
      cli(['login', '--address', `127.0.0.1:${port}`, '--nas-identifier', 'x', '--secret-env', 'SHORT_SECRET', '-u', 'alice', '--password-stdin'], { env, input: 'pw\n' }),
    ]);
    for (const run of [probeRun, loginRun]) {
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^warning: the shared secret of "127\.0\.0\.1:\d+" is 12 octets: a captured packet lets it be guessed offline/m);
      assertNoLeak(run, ['short-secret']);
    }
    const long = await cli(['probe', '--address', `127.0.0.1:${port}`, '--nas-identifier', 'x', '--secret-env', 'LONG_SECRET'], { env: { LONG_SECRET: 'a-long-enough-secret' } });
    assert.doesNotMatch(long.stderr, /warning/);
  });

  it('login: warns before sending when the address is an accounting port (1813, 1646)', async () => {
    const runs = await Promise.all(
      [1813, 1646].map((port) =>
        cli(['login', '-a', `127.0.0.1:${port}`, '-n', 'x', '-u', 'alice', '--password-stdin', '--timeout', '300', '--retries', '0'], {
          input: 'pw\n',
          env: { RADIUS_SECRET: 'whatever-long-secret' },
        }),
      ),
    );
    assert.match(runs[0]!.stderr, /^warning: 127\.0\.0\.1:1813: port 1813 is usually the accounting port \(RADIUS authentication is UDP 1812\); `passport-radius probe` checks it$/m);
    assert.match(runs[1]!.stderr, /^warning: 127\.0\.0\.1:1646: port 1646 is usually the accounting port \(RADIUS authentication is UDP 1645\)/m);
    const normal = await cli(['login', '-a', `127.0.0.1:${await freeUdpPort()}`, '-n', 'x', '-u', 'alice', '--password-stdin'], { input: 'pw\n', env: { RADIUS_SECRET: 'whatever-long-secret' } });
    assert.doesNotMatch(normal.stderr, /accounting port/);
  });

  it('probe: reports an unresolvable name as a DNS failure, exit 1', async () => {
    const run = await cli(['probe', '--address', 'no-such-host.invalid', '--nas-identifier', 'x'], { env: { RADIUS_SECRET: 'env-secret' } });
    assert.equal(run.code, 1, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines[0], 'testing no-such-host.invalid…');
    assert.match(lines[1]!, /^Failed: dns — host name "no-such-host\.invalid" did not resolve/);
  });

  it('probe: reports a port where nothing listens as unreachable, exit 1', async () => {
    const port = await freeUdpPort();
    const run = await cli(['probe', '--address', `127.0.0.1:${port}`, '--nas-identifier', 'x', '--secret-env', 'MY_SECRET'], {
      env: { MY_SECRET: 'env-secret' },
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^testing 127\.0\.0\.1:\d+…\nFailed: unreachable — .*nothing is listening/);
  });
});

describeFreeRadius('passport-radius CLI against FreeRADIUS', function () {
  this.timeout(20000);
  let withStatus: FreeRadiusServer;
  let withoutStatus: FreeRadiusServer;
  let lenient: FreeRadiusServer;
  let dir: string;
  let secretFile: string;

  before(async function () {
    this.timeout(40000);
    [withStatus, withoutStatus, lenient] = await Promise.all([
      startFreeRadius({ statusServer: true, secret: 'cli-status-secret' }),
      startFreeRadius({ statusServer: false, secret: 'cli-plain-secret' }),
      startFreeRadius({ requireMessageAuthenticator: false, secret: 'cli-lenient-secret' }),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'passport-radius-cli-'));
    secretFile = join(dir, 'secret');
    await writeFile(secretFile, `${withoutStatus.secret}\n`, { mode: 0o600 });
  });
  afterEach(() => {
    for (const c of children) c.kill('SIGKILL');
  });
  after(async () => {
    await Promise.all([withStatus, withoutStatus, lenient].map((s) => s?.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const allSecrets = (): string[] => [withStatus.secret, withoutStatus.secret, lenient.secret];

  it('probe: "Reachable (N ms, status-server)" when Status-Server is on, exit 0', async () => {
    const mark = withStatus.output().length;
    const run = await cli(['probe', '--address', withStatus.address, '--nas-identifier', 'cli-test'], { env: { RADIUS_SECRET: withStatus.secret } });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^testing 127\.0\.0\.1:\d+…\nReachable \(\d+ ms, status-server\)\n$/);
    await waitForOutputSince(withStatus, mark, /Received Status-Server Id[\s\S]*NAS-Identifier = "cli-test"/);
    assertNoLeak(run, allSecrets());
  });

  it('probe: Reachable with a warning line (and exit 0) when only the Status-Server reply is unsigned', async () => {
    const halfSigned = await startFreeRadius({ statusServer: true, signStatusServer: false, secret: 'cli-half-signed-secret' });
    try {
      const run = await cli(['probe', '--address', halfSigned.address, '--nas-identifier', 'cli-test'], { env: { RADIUS_SECRET: halfSigned.secret } });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(
        run.stdout,
        /^testing 127\.0\.0\.1:\d+…\nReachable \(\d+ ms, access-request\)\n {2}warning: the Status-Server reply had no Message-Authenticator .*Autz-Type Status-Server \{ update reply \{ &Message-Authenticator := 0x00 \} ok \}\n$/,
      );
      const json = await cli(['probe', '--json', '--address', halfSigned.address, '--nas-identifier', 'cli-test'], { env: { RADIUS_SECRET: halfSigned.secret } });
      assert.equal(json.code, 0, json.stderr);
      const doc = JSON.parse(json.stdout) as { ok: boolean; results: Array<{ status: string; warnings: Array<{ code: string }> }> };
      assert.equal(doc.ok, true);
      assert.deepEqual(doc.results[0]!.warnings.map((w) => w.code), ['unsigned-status-server-reply']);
      assertNoLeak(run, [halfSigned.secret]);
    } finally {
      await halfSigned.stop();
    }
  });

  it('probe: falls back to an Access-Request when Status-Server is off, secret from a file', async () => {
    const run = await cli(['probe', '--address', withoutStatus.address, '--secret-file', secretFile, '--nas-identifier', 'cli-test', '--timeout', '1500']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /\nReachable \(\d+ ms, access-request\)\n$/);
    assertNoLeak(run, allSecrets());
  });

  it('probe: says the shared secret is wrong when the server answers with another secret, exit 1', async () => {
    const run = await cli(['probe', '--address', lenient.address, '--secret-env', 'S', '--nas-identifier', 'cli-test', '--timeout', '1500'], {
      env: { S: 'cli-wrong-secret' },
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /\nFailed: bad-secret — .*the secret differs/);
    assertNoLeak(run, [...allSecrets(), 'cli-wrong-secret']);
  });

  it('probe --json: a wrong secret on a strict server is a timeout naming the secret as a likely cause', async () => {
    const run = await cli(['probe', '--json', '--address', withoutStatus.address, '--secret', 'cli-wrong-secret', '--nas-identifier', 'x', '--timeout', '600']);
    assert.equal(run.code, 1, run.stderr);
    const doc = JSON.parse(run.stdout) as { ok: boolean; results: Array<{ status: string; reason: string; method: string; message: string }> };
    assert.equal(doc.ok, false);
    assert.equal(doc.results.length, 1);
    assert.equal(doc.results[0]!.status, 'failed');
    assert.equal(doc.results[0]!.reason, 'timeout');
    assert.equal(doc.results[0]!.method, 'access-request');
    assert.match(doc.results[0]!.message, /shared secret/);
    assert.match(run.stderr, /testing .*…/);
    assertNoLeak(run, [...allSecrets(), 'cli-wrong-secret']);
  });

  it('probe --config: tests every server in order; exit 1 when one fails', async () => {
    const port = await freeUdpPort();
    const config = join(dir, 'probe-servers.json');
    await writeFile(
      config,
      JSON.stringify([
        { name: 'primary', address: withStatus.address, secretEnv: 'PRIMARY_SECRET', attributes: { 'NAS-Identifier': 'cli' } },
        { name: 'dead', address: `127.0.0.1:${port}`, secret: 'x', attributes: { 'NAS-Identifier': 'cli' } },
      ]),
    );
    const run = await cli(['probe', '--config', config], { env: { PRIMARY_SECRET: withStatus.secret } });
    assert.equal(run.code, 1, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines[0], `testing primary (${withStatus.address})…`);
    assert.match(lines[1]!, /^Reachable \(\d+ ms, status-server\)$/);
    assert.equal(lines[2], `testing dead (127.0.0.1:${port})…`);
    assert.match(lines[3]!, /^Failed: unreachable/);
    const only = await cli(['probe', '--config', config, '--server', 'primary'], { env: { PRIMARY_SECRET: withStatus.secret } });
    assert.equal(only.code, 0, only.stderr);
    assert.doesNotMatch(only.stdout, /dead/);
  });

  it('login: signs alice in with --password-stdin and prints the outcome, server and reply attributes', async () => {
    const run = await cli(['login', '--address', withStatus.address, '--nas-identifier', 'cli-test', '--user', USERS.alice.name, '--password-stdin'], {
      input: `${USERS.alice.password}\n`,
      env: { RADIUS_SECRET: withStatus.secret },
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^Access-Accept from 127\.0\.0\.1:\d+ in \d+ ms\n {2}Reply-Message = "Welcome alice"\n$/);
    assertNoLeak(run, [...allSecrets(), USERS.alice.password]);
  });

  it('login: shows octets that are printable UTF-8 (Class "admins") as a quoted string', async () => {
    const run = await cli(['login', '--address', withStatus.address, '--nas-identifier', 'cli-test', '--user', 'frank', '--password-stdin'], {
      input: 'frank-password\n',
      env: { RADIUS_SECRET: withStatus.secret },
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^ {2}Class = "admins"$/m);
    assert.match(run.stdout, /^ {2}Class = "ops"$/m);
    assert.doesNotMatch(run.stdout, /0x61646d696e73/);
  });

  it('login against the accounting port: no reply, a hint to run probe, and probe names the accounting port', async () => {
    const flags = ['--address', withStatus.acctAddress, '--nas-identifier', 'cli-test', '--timeout', '1000', '--retries', '0'];
    const login = await cli(['login', ...flags, '-u', USERS.alice.name, '--password-stdin'], { input: `${USERS.alice.password}\n`, env: { RADIUS_SECRET: withStatus.secret } });
    assert.equal(login.code, 1, login.stdout + login.stderr);
    assert.match(login.stdout, /^Failed: .*no reply at all/m);
    assert.match(login.stderr, /^hint: `passport-radius probe` with the same server options tells why a server does not answer/m);
    const probeRun = await cli(['probe', ...flags], { env: { RADIUS_SECRET: withStatus.secret } });
    assert.equal(probeRun.code, 1, probeRun.stdout + probeRun.stderr);
    assert.match(probeRun.stdout, /this looks like the accounting port/);
  });

  it('login: a rejected user exits 1 with the Reply-Messages', async () => {
    const run = await cli(['login', '-a', withStatus.address, '-n', 'cli-test', '-u', USERS.rejectme.name, '--password-stdin'], {
      input: `${USERS.rejectme.password}\n`,
      env: { RADIUS_SECRET: withStatus.secret },
    });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^Access-Reject from .*\n {2}Reply-Message = "Account locked"\n {2}Reply-Message = "Call the help desk"\n$/);
  });

  it('login: drives the two-factor user through stdin: password, then the code on the next line', async () => {
    const mark = withStatus.output().length;
    const run = await cli(['login', '-a', withStatus.address, '-n', 'cli-test', '-u', USERS.carol.name, '--password-stdin'], {
      input: `${USERS.carol.password}\n${USERS.carol.code}\n`,
      env: { RADIUS_SECRET: withStatus.secret },
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0]!, /^Access-Challenge from 127\.0\.0\.1:\d+ in \d+ ms$/);
    assert.equal(lines[1], USERS.carol.challengeMessage);
    assert.match(lines[2]!, /^Access-Accept from 127\.0\.0\.1:\d+ in \d+ ms$/);
    assert.equal(lines[3], '  Reply-Message = "Welcome carol"');
    // The code went back with the State byte for byte.
    await waitForOutputSince(withStatus, mark, /State = 0x00ff80fe0d0a2200c3/);
    assertNoLeak(run, [...allSecrets(), USERS.carol.password, USERS.carol.code, USERS.carol.state]);
  });

  it('login: a wrong code is rejected (exit 1); input that ends before the code fails (exit 1)', async () => {
    const args = ['login', '-a', withStatus.address, '-n', 'cli-test', '-u', USERS.carol.name, '--password-stdin'];
    const [wrong, ended] = await Promise.all([
      cli(args, { input: `${USERS.carol.password}\n000000\n`, env: { RADIUS_SECRET: withStatus.secret } }),
      cli(args, { input: `${USERS.carol.password}\n`, env: { RADIUS_SECRET: withStatus.secret } }),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /\nAccess-Reject from /);
    assert.equal(ended.code, 1);
    assert.match(ended.stdout, /Failed: no response to the challenge/);
    assertNoLeak(ended, [USERS.carol.password, USERS.carol.state]);
  });

  it('login --config --json: fails over from a dead server to FreeRADIUS with CHAP, secret from a file', async () => {
    const port = await freeUdpPort();
    const config = join(dir, 'login-servers.json');
    await writeFile(
      config,
      JSON.stringify({
        servers: [
          { name: 'dead', address: `127.0.0.1:${port}`, secret: 'unused', attributes: { 'NAS-Identifier': 'cli' } },
          { name: 'fr', address: withoutStatus.address6, secretFile: 'secret', attributes: { 'NAS-Identifier': 'cli' } },
        ],
      }),
    );
    const mark = withoutStatus.output().length;
    const run = await cli(['login', '--config', config, '--protocol', 'chap', '--user', USERS.frank.name, '--password-stdin', '--json', '--verbose'], {
      input: `${USERS.frank.password}\n`,
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const doc = JSON.parse(run.stdout) as { outcome: string; server: string; address: string; attributes: Record<string, unknown> };
    assert.equal(doc.outcome, 'accept');
    assert.equal(doc.server, 'fr');
    assert.equal(doc.address, withoutStatus.address6);
    assert.equal(doc.attributes['Filter-Id'], USERS.frank.filterId);
    assert.equal(doc.attributes['Session-Timeout'], USERS.frank.sessionTimeout);
    assert.deepEqual(doc.attributes.Class, ['admins', 'ops']); // printable UTF-8 octets, as in text mode
    assert.match(run.stderr, /failover: dead → fr \(unreachable\)/);
    await waitForOutputSince(withoutStatus, mark, /CHAP-Password = 0x/);
    assertNoLeak(run, [...allSecrets(), USERS.frank.password]);
  });

  it('login: no server answering is a failure naming each server and why, exit 1', async () => {
    const port = await freeUdpPort();
    const run = await cli(['login', '-a', `127.0.0.1:${port}`, '-n', 'x', '-u', 'alice', '--password-stdin', '--json'], {
      input: 'pw\n',
      env: { RADIUS_SECRET: 'whatever-secret' },
    });
    assert.equal(run.code, 1);
    const doc = JSON.parse(run.stdout) as { outcome: string; error: string; attempts: Array<{ reason: string }> };
    assert.equal(doc.outcome, 'failed');
    assert.match(doc.error, /unreachable/);
    assert.deepEqual(
      doc.attempts.map((a) => a.reason),
      ['unreachable'],
    );
  });
});
