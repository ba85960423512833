/**
 * Every server option of the one schema, set in a `--config` file, through `passport-radius login` (the
 * CLI's program, in process) against FreeRADIUS: the CLI accepts each (the `"final": true` bug) and the
 * sign-in works with all of them set.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { run } from '../lib/cli/program';
import { SERVER_OPTION_NAMES } from '../lib/options';
import { describeFreeRadius, outputAfterReply, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { SERVER_OPTION_SAMPLES } from './support/options';

describeFreeRadius('passport-radius login --config with every server option of the schema', function () {
  this.timeout(20000);
  let server: FreeRadiusServer;
  let dir: string;
  before(async function () {
    this.timeout(40000);
    server = await startFreeRadius({ secret: 'every-option-secret' });
    dir = await mkdtemp(join(tmpdir(), 'passport-radius-every-option-'));
  });
  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('signs alice in with each option set, "final": true included', async () => {
    // Over UDP: this server has no TLS listener (RADIUS over TLS through --config: test/radsec.freeradius.test.ts).
    const entry: Record<string, unknown> = { ...SERVER_OPTION_SAMPLES, address: server.address, secret: server.secret, transport: 'udp', tls: undefined };
    for (const name of SERVER_OPTION_NAMES) assert.ok(Object.hasOwn(entry, name), `no sample for "${name}"`);
    const file = join(dir, 'servers.json');
    await writeFile(file, JSON.stringify({ servers: [entry] }));
    let stdout = '';
    let stderr = '';
    const out = new PassThrough().on('data', (d: Buffer) => (stdout += d.toString()));
    const err = new PassThrough().on('data', (d: Buffer) => (stderr += d.toString()));
    const stdin = Readable.from([`${USERS.alice.password}\n`]) as unknown as NodeJS.ReadStream;
    const mark = server.output().length;
    const code = await run(['login', '--config', file, '--user', USERS.alice.name, '--password-stdin', '--json'], { stdin, stdout: out, stderr: err, env: {} });
    assert.equal(code, 0, stdout + stderr);
    assert.equal((JSON.parse(stdout) as { outcome: string }).outcome, 'accept');
    // protocol: 'chap' and the configured NAS-Port reached the server.
    const seen = await outputAfterReply(server, mark);
    assert.match(seen, /CHAP-Password = 0x/);
    assert.match(seen, /NAS-Port = 7/);
  });
});
