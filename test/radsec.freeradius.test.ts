/**
 * RADIUS over TLS (RadSec, RFC 6614) against FreeRADIUS 3.2 with a TLS listener: PAP, CHAP and the
 * two-factor flow through RadiusStrategy; why a TLS server fails (wrong CA, wrong name, expired
 * certificate, refused client) in probe() and in the sign-in error; failover when the server dies and
 * its return after a restart; an idle connection's watchdog holding a frozen server down.
 */
import { strict as assert } from 'node:assert';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import request from 'supertest';
import { probe, RadiusClient, type RadiusServerOptions } from '../lib';
import { run } from '../lib/cli/program';
import { TLS_TIMER_DEFAULTS } from '../lib/transport-tls';
import { buildApp, closeAll } from './support/app';
import { describeFreeRadius, outputAfterReply, startFreeRadius, USERS, waitForOutputSince, type FreeRadiusServer } from './support/freeradius';
import { freeTcpPort } from './support/ports';
import { assertTlsFailure, makePki, tlsServerOptions, type Pki } from './support/tls';
import { sleep, until } from './support/time';
import { signInWithChap, signInWithCode } from './support/sign-in';

const NAS = { 'NAS-Identifier': 'radsec-test' };

/** The process id of the FreeRADIUS started with config directory `dir` (from /proc; that process only). */
async function freeRadiusPid(dir: string): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args.includes('-d') && args[args.indexOf('-d') + 1] === dir) return Number(entry);
  }
  throw new Error(`no FreeRADIUS process with -d ${dir}`);
}

describeFreeRadius('RADIUS over TLS against FreeRADIUS 3.2', function () {
  let pki: Pki;
  let fr: FreeRadiusServer;
  let expired: FreeRadiusServer;

  const tlsServer = (extra: Partial<RadiusServerOptions> = {}, tls: Partial<NonNullable<RadiusServerOptions['tls']>> = {}): RadiusServerOptions =>
    tlsServerOptions(pki, { name: 'radsec', address: `127.0.0.1:${fr.tlsPort}`, attributes: NAS }, extra, tls);

  before(async function () {
    this.timeout(60000);
    pki = await makePki();
    const tls = { certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile };
    [fr, expired] = await Promise.all([
      startFreeRadius({ statusServer: true, tls }),
      startFreeRadius({ tls: { ...tls, certFile: pki.expired.certFile, keyFile: pki.expired.keyFile } }),
    ]);
  });
  afterEach(closeAll);
  after(async () => {
    await Promise.all([fr?.stop(), expired?.stop()]);
    await pki?.remove();
  });

  describe('sign-in through RadiusStrategy', () => {
    it('signs in with PAP over TLS, the server seeing a TLS request with the password', async () => {
      const { app } = buildApp({ servers: [tlsServer()] });
      const mark = fr.output().length;
      const res = await request(app).post('/login').type('form').send({ username: 'alice', password: USERS.alice.password });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.user.username, 'alice');
      const seen = await outputAfterReply(fr, mark);
      assert.match(seen, /\(TLS\)/);
      assert.match(seen, new RegExp(`Received Access-Request Id \\d+ from 127\\.0\\.0\\.1:\\d+ to 127\\.0\\.0\\.1:${fr.tlsPort}`));
      assert.match(seen, /User-Password = "alice-password"/);
    });

    it('turns a wrong password away with 401', async () => {
      const { app } = buildApp({ servers: [tlsServer()] });
      const res = await request(app).post('/login').type('form').send({ username: 'alice', password: 'wrong' });
      assert.equal(res.status, 401);
    });

    it('signs in with CHAP over TLS', async () => {
      const { app } = buildApp({ servers: [tlsServer({ protocol: 'chap' })] });
      await signInWithChap(app, fr);
    });

    it('goes through the two-factor Access-Challenge flow over TLS, the code sent with the State', async () => {
      const built = buildApp({ servers: [tlsServer()], challengeURL: '/login/challenge' });
      await signInWithCode(request.agent(built.app), fr);
    });

    it('carries many concurrent sign-ins on one connection', async () => {
      const client = new RadiusClient({ servers: [tlsServer()] });
      try {
        const mark = fr.output().length;
        const results = await Promise.all(Array.from({ length: 40 }, () => client.authenticate({ username: 'alice', password: USERS.alice.password })));
        assert.ok(results.every((r) => r.type === 'accept'));
        const ports = new Set([...fr.output().slice(mark).matchAll(/Received Access-Request Id \d+ from 127\.0\.0\.1:(\d+)/g)].map((m) => m[1]));
        assert.equal(ports.size, 1, `requests came from ${ports.size} connections`);
      } finally {
        await client.close();
      }
    });
  });

  describe('why a TLS server fails', () => {
    const cases: Array<{ what: string; server: () => RadiusServerOptions; probeReason: string; attemptDetail: RegExp }> = [
      {
        what: 'a wrong CA',
        server: () => tlsServer({}, { ca: pki.otherCa.cert }),
        probeReason: 'tls-unknown-ca',
        attemptDetail: /^unknown-ca \(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/,
      },
      {
        what: 'a wrong server name',
        server: () => tlsServer({}, { servername: 'radius.example.org' }),
        probeReason: 'tls-name-mismatch',
        attemptDetail: /^name-mismatch \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
      },
      {
        what: 'an expired server certificate',
        server: () => tlsServer({ address: `127.0.0.1:${expired.tlsPort}` }),
        probeReason: 'tls-expired-certificate',
        attemptDetail: /^expired-certificate \(CERT_HAS_EXPIRED\)/,
      },
      {
        what: 'a client certificate the server does not trust',
        server: () => tlsServer({}, { cert: pki.foreignClient.cert, key: pki.foreignClient.key }),
        probeReason: 'tls-client-certificate-refused',
        attemptDetail: /^client-certificate-refused/,
      },
      {
        what: 'no client certificate (PSK only, which the server does not take)',
        server: () => {
          const s = tlsServer();
          return { ...s, tls: { ca: pki.ca.cert, psk: { identity: 'console', key: 'a'.repeat(32) } } };
        },
        probeReason: 'tls-client-certificate-refused',
        attemptDetail: /^client-certificate-refused/,
      },
    ];
    for (const c of cases) {
      it(`says so for ${c.what}, in probe() and in the sign-in error`, async () => {
        const mark = fr.output().length;
        await assertTlsFailure(c.server(), c.probeReason, c.attemptDetail);
        const { app } = buildApp({ servers: [c.server()] });
        const res = await request(app).post('/login').type('form').send({ username: 'alice', password: USERS.alice.password });
        assert.equal(res.status, 500);
        assert.equal(res.body.name, 'RadiusUnavailableError');
        assert.match(res.body.error, /TLS connection failed/);
        assert.doesNotMatch(fr.output().slice(mark), /Received Access-Request/);
      });
    }

    it('says a closed port refuses the connection', async () => {
      const port = await freeTcpPort();
      const result = await probe(tlsServer({ address: `127.0.0.1:${port}` }));
      assert.equal(result.status, 'failed');
      assert.equal(result.reason, 'unreachable');
      assert.equal(result.detail, 'ECONNREFUSED');
      assert.match(result.message, /TCP 2083/);
    });

    it('probes a working server as reachable through Status-Server over TLS', async () => {
      const result = await probe(tlsServer());
      assert.equal(result.status, 'reachable', result.message);
      assert.equal(result.method, 'status-server');
    });
  });

  describe('the passport-radius CLI over TLS', () => {
    async function cli(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
      let stdout = '';
      let stderr = '';
      const out = new PassThrough().on('data', (d: Buffer) => (stdout += d.toString()));
      const err = new PassThrough().on('data', (d: Buffer) => (stderr += d.toString()));
      const stdin = Readable.from([input]) as unknown as NodeJS.ReadStream;
      const code = await run(args, { stdin, stdout: out, stderr: err, env: {} });
      return { code, stdout, stderr };
    }
    async function config(tls: Record<string, unknown>): Promise<string> {
      const file = join(pki.dir, `servers-${Math.random().toString(36).slice(2)}.json`);
      // Certificate files relative to the config file; no secret: "radsec" over TLS.
      const server = { name: 'radsec', address: `127.0.0.1:${fr.tlsPort}`, transport: 'tls', tls, attributes: NAS };
      await writeFile(file, JSON.stringify({ servers: [server] }));
      return file;
    }

    it('logs in with --config naming the certificate files, without a secret', async () => {
      const file = await config({ caFile: 'ca.pem', certFile: 'client.pem', keyFile: 'client.key' });
      const mark = fr.output().length;
      const res = await cli(['login', '--config', file, '--user', 'alice', '--password-stdin', '--json'], `${USERS.alice.password}\n`);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.equal((JSON.parse(res.stdout) as { outcome: string }).outcome, 'accept');
      await waitForOutputSince(fr, mark, new RegExp(`to 127\\.0\\.0\\.1:${fr.tlsPort}`));
    });

    it('probes with --config and says why a TLS server fails (exit 1)', async () => {
      const ok = await cli(['probe', '--config', await config({ caFile: 'ca.pem', certFile: 'client.pem', keyFile: 'client.key' })]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      const bad = await cli(['probe', '--config', await config({ caFile: 'other-ca.pem', certFile: 'client.pem', keyFile: 'client.key' }), '--json']);
      assert.equal(bad.code, 1, bad.stdout + bad.stderr);
      assert.match(bad.stdout, /tls-unknown-ca/);
    });

    it('refuses an unreadable certificate file as a usage error (exit 2)', async () => {
      const res = await cli(['probe', '--config', await config({ caFile: 'missing.pem', certFile: 'client.pem', keyFile: 'client.key' })]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /tls\.caFile: cannot read missing\.pem \(ENOENT\)/);
    });
  });

  describe('a TLS server that dies and comes back', () => {
    it("holds a frozen server down through its idle connection's watchdog, before any sign-in waits for it, and up again once it answers", async function () {
      this.timeout(60000);
      const tlsPort = await freeTcpPort();
      const frozen = await startFreeRadius({ statusServer: true, tls: { port: tlsPort, certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile } });
      const pid = await freeRadiusPid(frozen.dir);
      const saved = { ...TLS_TIMER_DEFAULTS };
      // A connection idle for 0.5 s (not 30 s) sends its Status-Server watchdog; it waits the server's timeout
      // (2 s). Read when the client's transport is created, at the first sign-in; put back in `finally`.
      TLS_TIMER_DEFAULTS.watchdogInterval = 500;
      const client = new RadiusClient({ holdDown: 60_000, servers: [tlsServer({ name: 'a', address: `127.0.0.1:${tlsPort}`, timeout: 2000 })] });
      const events: string[] = [];
      client.on('server-down', (e) => events.push(`down ${e.server}`));
      client.on('server-up', (e) => events.push(`up ${e.server}`));
      const alice = { username: 'alice', password: USERS.alice.password };
      try {
        assert.equal((await client.authenticate(alice)).type, 'accept');
        await sleep(1500); // watchdogs answered meanwhile: nothing changes
        assert.deepEqual(events, []);
        process.kill(pid, 'SIGSTOP'); // alive to TCP, answers nothing: what a hung or partitioned server looks like
        // Unanswered watchdog (0.5 s + 2 s) → the health monitor confirms from a fresh connection (0.5 s) → held down.
        await until(() => events.length > 0, 'the client reports an event', 15_000);
        assert.deepEqual(events, ['down a']);
        const [status] = client.serverStatus();
        assert.equal(status!.state, 'held-down');
        assert.equal(status!.counters.requests, 1, 'no sign-in was sent to find it out');
        process.kill(pid, 'SIGCONT');
        // The only server, held down, is still tried; its Access-Accept brings it back up.
        assert.equal((await client.authenticate(alice)).type, 'accept');
        assert.deepEqual(events, ['down a', 'up a']);
      } finally {
        Object.assign(TLS_TIMER_DEFAULTS, saved);
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // already gone
        }
        await client.close();
        await frozen.stop();
      }
    });

    it('fails over to the next server, and is used again after a restart without a process restart', async function () {
      this.timeout(60000);
      const tlsPort = await freeTcpPort();
      const tls = { port: tlsPort, certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile };
      let a = await startFreeRadius({ tls });
      const client = new RadiusClient({
        holdDown: 0,
        servers: [tlsServer({ name: 'a', address: `127.0.0.1:${tlsPort}` }), tlsServer({ name: 'b' })],
      });
      try {
        const first = await client.authenticate({ username: 'alice', password: USERS.alice.password });
        assert.equal(first.server, 'a');
        await a.stop();
        const during = await client.authenticate({ username: 'alice', password: USERS.alice.password });
        assert.equal(during.type, 'accept');
        assert.equal(during.server, 'b');
        a = await startFreeRadius({ tls });
        // Reconnects wait out a back-off (1 s, jittered): until then the next server answers.
        let back: string | undefined;
        for (let i = 0; i < 40 && back !== 'a'; i++) {
          back = (await client.authenticate({ username: 'alice', password: USERS.alice.password })).server;
          if (back !== 'a') await sleep(250);
        }
        assert.equal(back, 'a');
        assert.equal(client.servers()[0]!.state, 'up');
      } finally {
        await client.close();
        await a.stop();
      }
    });
  });
});
