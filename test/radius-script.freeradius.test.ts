/**
 * `npm run radius` (scripts/radius.ts): a real FreeRADIUS with demo users, whose two-factor user carol
 * answers an Access-Challenge with a TOTP code (RFC 6238) that FreeRADIUS's rlm_totp checks. The code is
 * computed here (test/support/totp.ts), independently of the script.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { probe, RadiusClient, type RadiusServerOptions } from '../lib';
import { createApp } from '../example/app';
import { DEMO_NAS_IDENTIFIER, DEMO_RADIUS_USERS, startDemoRadius, type DemoRadius } from '../scripts/radius';
import { buildApp, closeAll } from './support/app';
import { describeFreeRadius, waitForOutputSince } from './support/freeradius';
import { killOnExit } from './support/requirements';
import { sleep, until } from './support/time';
import { totpCode, waitForFreshStep, waitForUnusedStep } from './support/totp';

const { alice, carol } = DEMO_RADIUS_USERS;

/** Ids of the processes whose command line names `dir` (the demo's freeradius: `freeradius -X -d DIR`). */
function processesUsing(dir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dir);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** The records of a FreeRADIUS `detail` file whose text includes `needle` (raw blocks), waiting up to 5 s for `atLeast` of them. */
async function detailRecords(file: string, needle: string, atLeast = 1): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const blocks = existsSync(file) ? readFileSync(file, 'utf8').split(/\n\s*\n/).filter((b) => b.includes(needle)) : [];
    if (blocks.length >= atLeast || Date.now() > deadline) return blocks;
    await sleep(50);
  }
}

/**
 * Whether the script's signal handlers are in place: it prints its banner first and installs them right
 * after, so on a slow machine a signal sent as soon as the banner shows can come first and end Node the
 * default way. It installs its SIGINT, SIGTERM and SIGHUP handlers together, and SIGHUP is the one no one
 * else catches (tsx has its own SIGINT and SIGTERM handlers), so its bit in SigCgt (/proc/PID/status) says
 * when they are.
 */
function handlesSignals(pid: number): boolean {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const caught = BigInt(`0x${/^SigCgt:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
  return ((caught >> BigInt(osConstants.signals.SIGHUP - 1)) & 1n) === 1n;
}

/** A code that is not the current one. */
function wrongCode(key: Buffer): string {
  return String((Number(totpCode(key)) + 1) % 1_000_000).padStart(6, '0');
}

describeFreeRadius('npm run radius: the demo FreeRADIUS', function () {
  this.timeout(20000);
  const totpKey = randomBytes(20);
  /** TOTP steps whose code carol already spent on this server (each code is accepted once). */
  const usedSteps = new Set<number>();
  let demo: DemoRadius;
  const server = (extra: Partial<RadiusServerOptions> = {}): RadiusServerOptions => ({
    name: 'demo',
    address: demo.address,
    secret: demo.secret,
    attributes: { 'NAS-Identifier': DEMO_NAS_IDENTIFIER },
    timeout: 4000,
    ...extra,
  });
  const agentFor = (extra: Partial<RadiusServerOptions> = {}) =>
    request.agent(buildApp({ servers: [server(extra)], challengeURL: '/login/challenge' }).app);

  before(async function () {
    this.timeout(30000);
    demo = await startDemoRadius({ port: 0, totpKey });
  });
  afterEach(closeAll);
  after(async () => {
    await demo?.stop();
  });

  it('gives carol a QR-able otpauth:// URI holding her TOTP secret', () => {
    const uri = new URL(demo.totpUri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/passport-radius:carol');
    assert.equal(uri.searchParams.get('secret'), demo.totpSecret);
    assert.equal(uri.searchParams.get('issuer'), 'passport-radius');
    assert.equal(uri.searchParams.get('period'), '30');
    assert.equal(uri.searchParams.get('digits'), '6');
  });

  it('signs alice in with PAP and CHAP', async () => {
    for (const protocol of ['pap', 'chap'] as const) {
      const res = await agentFor({ protocol }).post('/login').type('form').send({ username: alice.username, password: alice.password });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  });

  it('signs carol in through the strategy: password, Access-Challenge, then the current TOTP code; the same code again in a second sign-in is refused', async function () {
    this.timeout(60000); // may wait for a TOTP step not used yet
    await waitForUnusedStep(usedSteps);
    const code = totpCode(totpKey);
    const agent = agentFor();
    const first = await agent.post('/login').type('form').send({ username: carol.username, password: carol.password });
    assert.equal(first.status, 303, JSON.stringify(first.body));
    assert.equal((await agent.get('/whoami')).status, 401, 'signed in after the password alone');
    const mark = demo.output().length;
    const res = await agent.post('/login/challenge').type('form').send({ code });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user.username, 'carol');
    await waitForOutputSince(demo, mark, /\[totp\] = ok/);

    // RFC 6238 §5.2: a second sign-in (new password step, new State) with the code just used.
    const replay = agentFor();
    await replay.post('/login').type('form').send({ username: carol.username, password: carol.password }).expect(303);
    const replayMark = demo.output().length;
    const again = await replay.post('/login/challenge').type('form').send({ code });
    assert.equal(totpCode(totpKey), code, 'the TOTP step ended during the test: the refusal would prove nothing');
    assert.equal(again.status, 401, JSON.stringify(again.body));
    assert.equal((await replay.get('/whoami')).status, 401);
    await waitForOutputSince(demo, replayMark, /\[totp_used\] = ok/);
    assert.doesNotMatch(demo.output().slice(replayMark), /\[totp\] = ok/);
  });

  it('refuses a wrong code, and does not take a code for the password', async () => {
    await waitForFreshStep();
    const agent = agentFor();
    await agent.post('/login').type('form').send({ username: carol.username, password: carol.password }).expect(303);
    const mark = demo.output().length;
    const res = await agent.post('/login/challenge').type('form').send({ code: wrongCode(totpKey) });
    assert.equal(res.status, 401);
    await waitForOutputSince(demo, mark, /\[totp\] = fail/);
    assert.equal((await agent.get('/whoami')).status, 401);
    const codeAsPassword = await agentFor().post('/login').type('form').send({ username: carol.username, password: totpCode(totpKey) });
    assert.equal(codeAsPassword.status, 401);
  });

  it("refuses a valid code with a State it never issued, or issued for another user's password step", async () => {
    const client = new RadiusClient({ servers: [server()] });
    try {
      await waitForFreshStep();
      // A made-up State: no session-state, so the existence test rejects (a bare comparison would fail open).
      const forged = await client.respond({ server: 'demo', username: carol.username, response: totpCode(totpKey), state: randomBytes(16) });
      assert.equal(forged.type, 'reject');
      // No State at all: the password step, and the code is not the password.
      const bare = await client.respond({ server: 'demo', username: carol.username, response: totpCode(totpKey) });
      assert.equal(bare.type, 'reject');
      // A real State from carol's password step, spent by another user name.
      const challenge = await client.authenticate({ username: carol.username, password: carol.password });
      assert.equal(challenge.type, 'challenge');
      const state = challenge.type === 'challenge' ? challenge.state : undefined;
      assert.ok(state && state.length > 0, 'the challenge carries a State');
      const stolen = await client.respond({ server: 'demo', username: alice.username, response: totpCode(totpKey), state });
      assert.equal(stolen.type, 'reject');
    } finally {
      await client.close();
    }
  });

  it("signs carol in through the example's challenge page with a computed code; a wrong code is refused", async function () {
    this.timeout(60000); // may wait for a TOTP step not used yet
    const { app, strategy } = createApp({ servers: [server()], sessionSecret: 'radius-script-test' });
    try {
      await waitForUnusedStep(usedSteps);
      const agent = request.agent(app);
      const first = await agent.post('/login').type('form').send({ username: carol.username, password: carol.password });
      assert.equal(first.status, 303);
      assert.equal(first.headers.location, '/login/challenge');
      const page = await agent.get('/login/challenge');
      assert.equal(page.status, 200);
      assert.match(page.text, /Enter the 6-digit code from your authenticator app/);
      const second = await agent.post('/login/challenge').type('form').send({ code: totpCode(totpKey) });
      assert.equal(second.status, 303, second.text);
      assert.equal(second.headers.location, '/account');
      const account = await agent.get('/account');
      assert.equal(account.status, 200);
      assert.match(account.text, /carol/);

      const other = request.agent(app);
      await other.post('/login').type('form').send({ username: carol.username, password: carol.password }).expect(303);
      const wrong = await other.post('/login/challenge').type('form').send({ code: wrongCode(totpKey) });
      assert.equal(wrong.headers.location, '/login');
      assert.equal((await other.get('/account')).status, 303, 'signed in with a wrong code');
    } finally {
      await strategy.close();
    }
  });

  it('records accounting: a Start sent to its accounting address lands in the detail file in its directory', async () => {
    assert.equal(demo.detailFile, join(demo.dir, 'detail'));
    const client = new RadiusClient({ servers: [server({ accountingAddress: demo.accountingAddress })] });
    try {
      const sessionId = randomBytes(8).toString('hex');
      const result = await client.account({ statusType: 'Start', sessionId, username: alice.username });
      assert.equal(result.server, 'demo');
      const [record] = await detailRecords(demo.detailFile, sessionId);
      assert.ok(record, `no record for ${sessionId} in ${demo.detailFile}`);
      assert.match(record, /Acct-Status-Type = Start/);
      assert.match(record, /User-Name = "alice"/);
      assert.match(record, new RegExp(`NAS-Identifier = "${DEMO_NAS_IDENTIFIER}"`));
    } finally {
      await client.close();
    }
  });

  it("the example console with accounting: sign-in sends a Start and /logout a Stop of the same session (endSession before req.logout)", async () => {
    const { app, close } = createApp({ servers: [server({ accountingAddress: demo.accountingAddress })], accounting: true, sessionSecret: 'radius-script-acct' });
    try {
      const agent = request.agent(app);
      // Earlier tests wrote Starts too (one of alice's): wait for one more than there are now. The Start is
      // sent after the sign-in answered, so it may land after the 303.
      const starts = (await detailRecords(demo.detailFile, 'Acct-Status-Type = Start', 0)).length;
      await agent.post('/login').type('form').send({ username: alice.username, password: alice.password }).expect(303);
      const start = (await detailRecords(demo.detailFile, 'Acct-Status-Type = Start', starts + 1)).at(-1) ?? '';
      assert.match(start, /User-Name = "alice"/);
      const sessionId = /Acct-Session-Id = "([0-9A-Fa-f]+)"/.exec(start)?.[1];
      assert.ok(sessionId, `no Start in the detail file:\n${start}`);
      assert.equal((await detailRecords(demo.detailFile, `Acct-Session-Id = "${sessionId}"`)).length, 1, 'a Stop before /logout');
      const out = await agent.post('/logout');
      assert.equal(out.status, 303);
      assert.equal(out.headers.location, '/login');
      // endSession does not wait for the Accounting-Response: the Stop may land after /logout answered.
      const stops = await detailRecords(demo.detailFile, `Acct-Session-Id = "${sessionId}"`, 2);
      const stop = stops.find((b) => /Acct-Status-Type = Stop/.test(b));
      assert.ok(stop, `no Stop for ${sessionId}:\n${stops.join('\n\n')}`);
      assert.match(stop, /Acct-Terminate-Cause = User-Request/);
      assert.match(stop, /Acct-Session-Time = \d+/);
      assert.equal((await agent.get('/account')).status, 303, 'still signed in after /logout');
    } finally {
      await close();
    }
  });

  it('probe: Reachable through Status-Server with no warning', async () => {
    const result = await probe(server());
    assert.equal(result.status, 'reachable', result.message);
    assert.equal(result.method, 'status-server');
    assert.deepEqual(result.warnings, []);
  });
});

describeFreeRadius('npm run radius: the command', function () {
  this.timeout(30000);
  const children = new Set<ChildProcess>();
  afterEach(() => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
  });

  function run(args: string[], env: NodeJS.ProcessEnv = {}) {
    const child = spawn(process.execPath, ['--import', 'tsx', join('scripts', 'radius.ts'), ...args], {
      cwd: process.cwd(),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child);
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exit = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    /** Waits (20 s at most) until the script has printed its banner, down to the npm start line. */
    const banner = async (): Promise<void> => {
      const deadline = Date.now() + 20000;
      while (!/npm start\n/.test(stdout)) {
        if (Date.now() > deadline) assert.fail(`no npm start line:\n${stdout}\n${stderr}`);
        await sleep(50);
      }
    };
    return { child, exit, banner, stdout: () => stdout, stderr: () => stderr };
  }

  it('prints the users, the otpauth URI, a QR code and the npm start command; Ctrl-C stops it and removes its files', async () => {
    const cmd = run(['--port', '0']);
    await cmd.banner();
    const out = cmd.stdout();
    const start = /^ {2}RADIUS_ADDRESS=(127\.0\.0\.1:\d+) RADIUS_SECRET=([\w-]+) RADIUS_NAS_IDENTIFIER=passport_console npm start$/m.exec(out);
    assert.ok(start, out);
    assert.match(out, /^ {2}alice \/ alice-password$/m);
    assert.match(out, /^ {2}carol \/ carol-password, then the 6-digit code/m);
    assert.match(out, /otpauth:\/\/totp\/passport-radius:carol\?issuer=passport-radius&secret=[A-Z2-7]{32}&algorithm=SHA1&digits=6&period=30/);
    assert.match(out, /▄/, 'no QR code');
    const dir = /^Configuration: (\S+) /m.exec(out)?.[1];
    assert.ok(dir && existsSync(join(dir, 'radiusd.conf')), out);

    const result = await probe({ name: 'demo', address: start[1]!, secret: start[2]!, attributes: { 'NAS-Identifier': 'passport_console' } });
    assert.equal(result.status, 'reachable', result.message);
    assert.deepEqual(result.warnings, []);

    // Accounting: the printed port takes a Start, which lands in the printed detail file.
    const acct = /^Accounting \(RFC 2866\) on (127\.0\.0\.1:\d+), same secret; every record is appended to (\S+)\.$/m.exec(out);
    assert.ok(acct, out);
    assert.equal(acct[2], join(dir, 'detail'));
    assert.match(out, new RegExp(`^ {2}CONSOLE_ACCOUNTING=1 RADIUS_SERVERS='\\[\\{"name":"[^"]+","address":"${start[1]!.replace(/\./g, '\\.')}","accountingAddress":"${acct[1]!.replace(/\./g, '\\.')}"\\}\\]' RADIUS_SECRET=${start[2]!} RADIUS_NAS_IDENTIFIER=passport_console npm start$`, 'm'));
    const client = new RadiusClient({ servers: [{ name: 'demo', address: start[1]!, accountingAddress: acct[1]!, secret: start[2]!, attributes: { 'NAS-Identifier': 'passport_console' } }] });
    try {
      const sessionId = randomBytes(8).toString('hex');
      await client.account({ statusType: 'Start', sessionId, username: 'alice' });
      const [record] = await detailRecords(acct[2]!, sessionId);
      assert.ok(record, `no record for ${sessionId} in ${acct[2]}`);
      assert.match(record, /Acct-Status-Type = Start/);
    } finally {
      await client.close();
    }

    await until(() => handlesSignals(cmd.child.pid!), 'the script handles signals', 10000);
    cmd.child.kill('SIGINT');
    assert.equal(await cmd.exit, 0, cmd.stderr());
    assert.match(cmd.stdout(), /SIGINT: stopping FreeRADIUS/);
    assert.equal(existsSync(dir), false, 'the configuration directory is still there');
  });

  it('SIGHUP (its terminal closed) stops FreeRADIUS and removes its files too', async () => {
    const cmd = run(['--port', '0']);
    await cmd.banner();
    const dir = /^Configuration: (\S+) /m.exec(cmd.stdout())?.[1];
    assert.ok(dir && existsSync(dir), cmd.stdout());
    const radiusd = processesUsing(dir);
    assert.equal(radiusd.length, 1, 'expected one freeradius process for the demo directory');
    try {
      await until(() => handlesSignals(cmd.child.pid!), 'the script handles signals', 10000);
      // As a closed terminal leaves it: output goes nowhere (EPIPE), then the hang-up.
      cmd.child.stdout.destroy();
      cmd.child.stderr.destroy();
      cmd.child.kill('SIGHUP');
      const code = await cmd.exit;
      assert.equal(cmd.child.signalCode, null, 'Node died of the signal instead of stopping FreeRADIUS');
      assert.equal(code, 0);
      assert.deepEqual(processesUsing(dir), [], 'FreeRADIUS is still running');
      assert.equal(existsSync(dir), false, 'the configuration directory (with the secrets) is still there');
    } finally {
      // Without the fix FreeRADIUS is orphaned: end it (by its id) and remove its files.
      for (const pid of processesUsing(dir)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Ctrl-C while FreeRADIUS is starting stops it once it is up and removes its files', async () => {
    const cmd = run(['--port', '0']);
    // The handlers are in place before FreeRADIUS starts (which takes a while): the signal comes mid-start.
    await until(() => handlesSignals(cmd.child.pid!), 'the script handles signals', 20000);
    cmd.child.kill('SIGINT');
    const code = await cmd.exit;
    assert.doesNotMatch(cmd.stdout(), /npm start/, 'the signal came after start-up, not during it');
    assert.equal(cmd.child.signalCode, null, 'Node died of the signal instead of stopping FreeRADIUS');
    assert.equal(code, 0, cmd.stderr());
    const dir = /SIGINT: stopping FreeRADIUS and removing (\S+)$/m.exec(cmd.stdout())?.[1];
    assert.ok(dir, cmd.stdout());
    try {
      assert.deepEqual(processesUsing(dir), [], 'FreeRADIUS is still running');
      assert.equal(existsSync(dir), false, 'the configuration directory (with the secrets) is still there');
    } finally {
      for (const pid of processesUsing(dir)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the Debian package when FreeRADIUS is missing, exit 1', async () => {
    const cmd = run(['--port', '0'], { FREERADIUS_BIN: '/nonexistent/freeradius' });
    assert.equal(await cmd.exit, 1);
    assert.match(cmd.stderr(), /FreeRADIUS is not installed\. Install the Debian\/Ubuntu package `freeradius`/);
  });
});
