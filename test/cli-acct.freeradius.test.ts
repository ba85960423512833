/**
 * `passport-radius acct start|stop|interim` against FreeRADIUS's accounting port: what reached the
 * `detail` file, the exit codes, `--json`, and a wrong shared secret.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { run } from '../lib/cli/program';
import { describeFreeRadius, startFreeRadius, type FreeRadiusServer } from './support/freeradius';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await run(args, { stdin: process.stdin, stdout, stderr, env });
  return { code, stdout: out, stderr: err };
}

/** The `detail` records whose Acct-Session-Id is `sessionId`, as raw text blocks. */
function records(fr: FreeRadiusServer, sessionId: string): string[] {
  if (!existsSync(fr.detailFile)) return [];
  return readFileSync(fr.detailFile, 'utf8')
    .split(/\n\s*\n/)
    .filter((block) => block.includes(`Acct-Session-Id = "${sessionId}"`));
}

describeFreeRadius('passport-radius acct against FreeRADIUS', function () {
  this.timeout(20000);
  let fr: FreeRadiusServer;

  before(async function () {
    this.timeout(30000);
    fr = await startFreeRadius();
  });
  after(async () => {
    await fr?.stop();
  });

  const server = (): string[] => ['--address', fr.address, '--accounting-address', fr.acctAddress, '--secret-env', 'ACCT_TEST_SECRET', '--nas-identifier', 'cli-acct'];

  it('sends a Start and a Stop that FreeRADIUS records, with the given session id, Class and cause', async () => {
    const env = { ACCT_TEST_SECRET: fr.secret };
    const start = await cli(['acct', 'start', ...server(), '--user', 'alice', '--session-id', 'CLI-1', '--calling-station-id', '192.0.2.9', '--class', 'admins', '--class', '0x6f7073'], env);
    assert.equal(start.code, 0, start.stdout + start.stderr);
    assert.match(start.stdout, /^Accounting-Response from 127\.0\.0\.1:\d+ in \d+ ms$/m);
    assert.match(start.stdout, /Acct-Session-Id = "CLI-1"/);
    const stop = await cli(['acct', 'stop', ...server(), '--user', 'alice', '--session-id', 'CLI-1', '--session-time', '42', '--cause', 'Admin-Reset', '--json'], env);
    assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    const doc = JSON.parse(stop.stdout);
    assert.equal(doc.ok, true);
    assert.equal(doc.statusType, 'Stop');
    assert.equal(doc.sessionId, 'CLI-1');
    const [startRecord, stopRecord] = records(fr, 'CLI-1') as [string, string];
    assert.match(startRecord, /Acct-Status-Type = Start/);
    assert.match(startRecord, /Calling-Station-Id = "192\.0\.2\.9"/);
    assert.match(startRecord, /Class = 0x61646d696e73\n\s+Class = 0x6f7073/);
    assert.match(startRecord, /NAS-Identifier = "cli-acct"/);
    assert.match(stopRecord, /Acct-Status-Type = Stop/);
    assert.match(stopRecord, /Acct-Session-Time = 42/);
    assert.match(stopRecord, /Acct-Terminate-Cause = Admin-Reset/);
    assert.ok(!(start.stdout + start.stderr + stop.stdout + stop.stderr).includes(fr.secret), 'the shared secret was printed');
  });

  it('exits 1 and says to check the shared secret when the server drops the record', async () => {
    const res = await cli(['acct', 'start', ...server(), '--user', 'alice', '--session-id', 'CLI-2', '--timeout', '600', '--retries', '1'], { ACCT_TEST_SECRET: 'not-the-secret' });
    assert.equal(res.code, 1);
    assert.match(res.stdout, /^Failed: No RADIUS server gave a valid reply: .*no valid reply in time.*shared secret/m);
    assert.deepEqual(records(fr, 'CLI-2'), []);
  });

  it('refuses --cause on a start and an unknown status (exit 2)', async () => {
    const env = { ACCT_TEST_SECRET: fr.secret };
    const cause = await cli(['acct', 'start', ...server(), '--user', 'alice', '--cause', 'Admin-Reset'], env);
    assert.equal(cause.code, 2);
    assert.match(cause.stderr, /--cause applies to acct stop/);
    const status = await cli(['acct', 'restart', ...server(), '--user', 'alice'], env);
    assert.equal(status.code, 2);
  });
});
