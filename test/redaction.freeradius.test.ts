/**
 * No password, challenge code, shared secret or State in anything passport-radius emits or logs: every
 * client event, every `DEBUG=passport-radius:*` line, every HTTP response, error and probe result of a full
 * run (accept, reject, challenge and code, timeout, unreachable, wrong secret), and the CLI's output with
 * debug logging on. Each secret is looked for as text and in its hex, base64 and latin1 forms.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { resolve } from 'node:path';
import { format, inspect } from 'node:util';
import createDebug from 'debug';
import request from 'supertest';
import type { RadiusClient, RadiusServerOptions } from '../lib';
import { buildApp, closeAll } from './support/app';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { freeUdpPort } from './support/ports';

const NAS = { 'NAS-Identifier': 'redaction-test' };
const WRONG_PASSWORD = 'wrong-password-9f3a';
const WRONG_CODE = '987650';
const WRONG_SECRET = 'wrong-secret-c0ffee';

/** Text of everything seen, with floats and timestamps masked (their digits could match a numeric code by chance). */
function text(value: unknown): string {
  const masked = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && (!Number.isInteger(v) || v > 1e9)) return '<number>';
    return v;
  });
  return `${masked}\n${inspect(value, { depth: Infinity, maxArrayLength: Infinity, maxStringLength: Infinity }).replace(/\d+\.\d+|\d{10,}/g, '<number>')}`;
}

/** Every form a secret could leak in. */
function forms(secret: string | Buffer): string[] {
  const bytes = Buffer.isBuffer(secret) ? secret : Buffer.from(secret, 'utf8');
  return [bytes.toString('utf8'), bytes.toString('latin1'), bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')];
}

function assertClean(haystack: string, secrets: Array<string | Buffer>, where: string): void {
  for (const secret of secrets) {
    for (const form of forms(secret)) {
      const at = haystack.indexOf(form);
      assert.equal(at, -1, `${where} holds a secret in the form "${form}": …${haystack.slice(Math.max(0, at - 120), at + 120)}…`);
    }
  }
}

describeFreeRadius('Redaction: nothing secret in events, logs, errors or output', function () {
  this.timeout(30000);
  let strict: FreeRadiusServer;
  let lenient: FreeRadiusServer;
  let blackhole: Socket;
  let blackholeAddress: string;
  let deadAddress: string;
  const events: Array<{ name: string; args: unknown[] }> = [];
  const logged: string[] = [];
  const seen: unknown[] = [];
  let previousNamespaces = '';
  let previousLog: typeof createDebug.log;

  before(async function () {
    this.timeout(40000);
    [strict, lenient] = await Promise.all([
      startFreeRadius({ secret: 'redaction-strict-secret', statusServer: true }),
      startFreeRadius({ secret: 'redaction-lenient-secret', requireMessageAuthenticator: false }),
    ]);
    blackhole = createSocket('udp4');
    await new Promise<void>((done) => blackhole.bind(0, '127.0.0.1', done));
    blackholeAddress = `127.0.0.1:${blackhole.address().port}`;
    deadAddress = `127.0.0.1:${await freeUdpPort()}`;
    previousNamespaces = createDebug.disable();
    previousLog = createDebug.log;
    createDebug.log = (...args: unknown[]) => {
      logged.push(format(...args));
    };
    createDebug.enable('passport-radius:*');
  });

  after(async () => {
    createDebug.log = previousLog;
    createDebug.disable();
    if (previousNamespaces) createDebug.enable(previousNamespaces);
    await closeAll();
    blackhole?.close();
    await Promise.all([strict, lenient].map((s) => s?.stop()));
  });

  /** Records every event the client emits, whatever its name. */
  function record(client: RadiusClient): void {
    const emit = client.emit.bind(client) as (name: string, ...args: unknown[]) => boolean;
    (client as unknown as { emit: (name: string, ...args: unknown[]) => boolean }).emit = (name, ...args) => {
      events.push({ name, args: structuredClone(args) });
      return emit(name, ...args);
    };
  }

  const server = (name: string, address: string, secret: string, extra: Partial<RadiusServerOptions> = {}): RadiusServerOptions => ({
    name,
    address,
    secret,
    attributes: NAS,
    timeout: 600,
    retries: 1,
    ...extra,
  });

  it('runs the full flow and finds no password, code, secret or State anywhere', async () => {
    const { app, strategy } = buildApp(
      {
        challengeURL: '/login/challenge',
        holdDown: 60_000,
        selectServers: (req) => (req.headers['x-servers'] ? String(req.headers['x-servers']).split(',') : ['fr']),
        servers: [
          server('fr', strict.address, strict.secret),
          server('fr-chap', strict.address6, strict.secret, { protocol: 'chap' }),
          server('blackhole', blackholeAddress, 'blackhole-secret'),
          server('dead', deadAddress, 'dead-secret'),
          server('wrong-strict', strict.address, WRONG_SECRET),
          server('wrong-lenient', lenient.address, WRONG_SECRET),
        ],
      },
    );
    record(strategy.client);
    const login = (servers: string[], form: Record<string, string>) =>
      request(app).post('/login').type('form').set('x-servers', servers.join(',')).send(form);

    // Accept (PAP and CHAP), reject.
    seen.push(await login(['fr'], { username: USERS.alice.name, password: USERS.alice.password }).expect(200));
    seen.push(await login(['fr-chap'], { username: USERS.alice.name, password: USERS.alice.password }).expect(200));
    seen.push(await login(['fr'], { username: USERS.alice.name, password: WRONG_PASSWORD }).expect(401));

    // Challenge, then the right code; challenge, then a wrong code; two rounds.
    const carol = request.agent(app);
    seen.push(await carol.post('/login').type('form').send({ username: USERS.carol.name, password: USERS.carol.password }).expect(303));
    seen.push(await carol.post('/login/challenge').type('form').send({ code: USERS.carol.code }).expect(200));
    const carol2 = request.agent(app);
    seen.push(await carol2.post('/login').type('form').send({ username: USERS.carol.name, password: USERS.carol.password }).expect(303));
    seen.push(await carol2.post('/login/challenge').type('form').send({ code: WRONG_CODE }).expect(401));
    const dave = request.agent(app);
    seen.push(await dave.post('/login').type('form').send({ username: USERS.dave.name, password: USERS.dave.password }).expect(303));
    seen.push(await dave.post('/login/challenge').type('form').send({ code: USERS.dave.rounds[0]!.code }).expect(303));
    seen.push(await dave.post('/login/challenge').type('form').send({ code: USERS.dave.rounds[1]!.code }).expect(200));

    // Timeout, unreachable, wrong secret (silently dropped by a strict server; answered by a lenient one),
    // each failing over to the next and finally to a server that answers.
    // The "blackhole" answers every request with the request itself turned into an Access-Accept: a
    // forgery (its Response Authenticator is wrong) carrying the hidden User-Password back.
    blackhole.on('message', (msg, rinfo) => {
      const forged = Buffer.from(msg);
      forged[0] = 2;
      blackhole.send(forged, rinfo.port, rinfo.address);
    });
    seen.push(await login(['blackhole', 'fr'], { username: USERS.alice.name, password: USERS.alice.password }).expect(200));
    seen.push(await login(['dead', 'wrong-strict', 'wrong-lenient'], { username: USERS.alice.name, password: USERS.alice.password }).expect(500));

    // Probes of every server.
    for (const name of strategy.client.serverNames) seen.push(await strategy.client.probe(name));
    seen.push(strategy.client.servers());

    const names = new Set(events.map((e) => e.name));
    for (const name of ['request', 'accept', 'reject', 'challenge', 'no-reply', 'timeout', 'failover', 'server-down', 'server-up', 'dropped']) {
      if (name === 'server-up') continue; // needs a held-down server to come back; not part of this flow
      assert.ok(names.has(name), `no '${name}' event was emitted (saw ${[...names].join(', ')})`);
    }
    assert.ok(
      events.some((e) => e.name === 'dropped' && (e.args[0] as { reason: string }).reason === 'bad-response-authenticator'),
      'no forged reply was dropped',
    );
    assert.ok(logged.some((l) => l.includes('passport-radius:client')), 'debug logging was not captured');
    assert.ok(logged.some((l) => l.includes('passport-radius:probe')), 'probe debug logging was not captured');

    const haystack = [
      ...events.map((e) => `${e.name} ${text(e.args)}`),
      ...logged,
      ...seen.map((s) => (isResponse(s) ? `${s.status} ${JSON.stringify(s.headers)} ${s.text}` : text(s))),
    ].join('\n');
    assertClean(haystack, secretsOf(), 'the events, logs and responses');
  });

  it('the CLI with DEBUG=passport-radius:* prints no password, code, secret or State', async () => {
    const runs = await Promise.all([
      runCli(['login', '-a', strict.address, '-n', 'x', '-u', USERS.carol.name, '--password-stdin', '--verbose'], `${USERS.carol.password}\n${USERS.carol.code}\n`, strict.secret),
      runCli(['login', '-a', strict.address, '-n', 'x', '-u', USERS.alice.name, '--password-stdin', '--json'], `${WRONG_PASSWORD}\n`, strict.secret),
      runCli(['probe', '-a', lenient.address, '-n', 'x', '--timeout', '900', '--verbose'], '', WRONG_SECRET),
      runCli(['login', '-a', lenient.address, '-n', 'x', '-u', USERS.alice.name, '--password-stdin', '--timeout', '600', '--verbose'], `${USERS.alice.password}\n`, WRONG_SECRET),
    ]);
    assert.deepEqual(
      runs.map((r) => r.code),
      [0, 1, 1, 1],
      runs.map((r) => r.output).join('\n----\n'),
    );
    assert.match(runs[0]!.output, /passport-radius:client/);
    assert.match(runs[2]!.output, /bad-secret/);
    assert.match(runs[2]!.output, /dropped replies: bad-response-authenticator ×1/);
    assert.match(runs[3]!.output, /no valid reply in time/);
    assertClean(runs.map((r) => r.output).join('\n'), secretsOf(), 'the CLI output');
  });

  function secretsOf(): Array<string | Buffer> {
    return [
      USERS.alice.password,
      WRONG_PASSWORD,
      USERS.carol.password,
      USERS.carol.code,
      WRONG_CODE,
      USERS.carol.state,
      USERS.dave.password,
      ...USERS.dave.rounds.flatMap((r) => [r.code, r.state]),
      strict.secret,
      lenient.secret,
      WRONG_SECRET,
      'blackhole-secret',
      'dead-secret',
    ];
  }
});

function isResponse(value: unknown): value is { status: number; headers: unknown; text: string } {
  return typeof value === 'object' && value !== null && 'status' in value && 'text' in value && 'headers' in value;
}

function runCli(args: string[], input: string, secret: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve('lib/cli/index.ts'), ...args], {
      env: { ...process.env, DEBUG: 'passport-radius:*', RADIUS_SECRET: secret },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
    child.stdin.end(input);
  });
}
