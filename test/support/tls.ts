/**
 * Test helpers for RADIUS over TLS: certificates made with `openssl` for each run, a free TCP port, and
 * radsecproxy (a second RadSec implementation) started in the foreground on loopback.
 *
 *   const pki = await makePki();            // CA, server, client, expired, other CA…
 *   const proxy = await startRadsecproxy({ pki, upstream: freeradius });
 *   await proxy.stop(); await pki.remove();
 */
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { probe, RadiusClient, RadiusUnavailableError, type RadiusServerOptions } from '../../lib';
import { USERS } from './freeradius';
import { freeTcpPort } from './ports';
import { describeRequiring, findProgram, killOnExit } from './requirements';

const run = promisify(execFile);

/** A certificate (or CA) with its key: PEM bytes and the files they are in. */
export interface Issued {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
}

/** Everything a TLS test needs, made fresh in a temp directory. */
export interface Pki {
  dir: string;
  /** The CA that signs the servers and the client. */
  ca: Issued;
  /** Another CA: trusting it instead is "a wrong CA"; a client it signs is refused. */
  otherCa: Issued;
  /** Server certificate, subject alternative names IP 127.0.0.1, IP ::1, DNS localhost. */
  server: Issued;
  /** The same names, expired yesterday. */
  expired: Issued;
  /** Client certificate signed by `ca`. */
  client: Issued;
  /** Client certificate signed by `otherCa`. */
  foreignClient: Issued;
  /** Removes the directory. */
  remove(): Promise<void>;
}

const EXTENSIONS = `[server]
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost
[client]
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
`;

export const OPENSSL_BIN: string | undefined = findProgram('OPENSSL_BIN', ['openssl']);
export const RADSECPROXY_BIN: string | undefined = findProgram('RADSECPROXY_BIN', ['radsecproxy'], ['/usr/sbin', '/usr/local/sbin']);

async function openssl(dir: string, args: string[]): Promise<void> {
  await run(OPENSSL_BIN ?? 'openssl', args, { cwd: dir });
}

async function load(dir: string, name: string): Promise<Issued> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  return { cert: await readFile(certFile), key: await readFile(keyFile), certFile, keyFile };
}

/**
 * A RADIUS over TLS server entry trusting `pki`'s CA and presenting its client certificate, with a
 * 3000 ms timeout; `extra` and `tls` override any of it (e.g. another CA, server name or certificate).
 */
export function tlsServerOptions(
  pki: Pki,
  base: { name: string; address: string; attributes: Record<string, string> },
  extra: Partial<RadiusServerOptions> = {},
  tls: Partial<NonNullable<RadiusServerOptions['tls']>> = {},
): RadiusServerOptions {
  return {
    ...base,
    transport: 'tls',
    tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, ...tls },
    timeout: 3000,
    ...extra,
  };
}

/**
 * Asserts that `server` fails for a TLS reason, both ways a user meets it: probe() reports `probeReason`,
 * and alice's sign-in through RadiusClient rejects with a RadiusUnavailableError whose attempt says 'tls' with
 * a detail matching `detail`.
 */
export async function assertTlsFailure(server: RadiusServerOptions, probeReason: string, detail: RegExp): Promise<void> {
  const result = await probe(server);
  assert.equal(result.status, 'failed');
  assert.equal(result.reason, probeReason, result.message);
  const client = new RadiusClient({ servers: [server] });
  try {
    await assert.rejects(client.authenticate({ username: USERS.alice.name, password: USERS.alice.password }), (err: unknown) => {
      assert.ok(err instanceof RadiusUnavailableError);
      assert.equal(err.attempts[0]!.reason, 'tls');
      assert.match(err.attempts[0]!.detail ?? '', detail);
      return true;
    });
  } finally {
    await client.close();
  }
}

/** Makes the CAs and certificates (EC P-256) with openssl. */
export async function makePki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'passport-radius-pki-'));
  await writeFile(join(dir, 'ext.cnf'), EXTENSIONS);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const [name, cn] of [['ca', 'passport-radius test CA'], ['other-ca', 'some other CA']] as const) {
    await openssl(dir, ['req', '-x509', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  const issue = async (name: string, cn: string, ca: string, ext: 'server' | 'client', days: string): Promise<void> => {
    await openssl(dir, ['req', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
      '-out', `${name}.pem`, '-days', days, '-extfile', 'ext.cnf', '-extensions', ext]);
  };
  await issue('server', 'localhost', 'ca', 'server', '2');
  // -days -1: valid until a day ago (openssl 3.0 has no -not_before).
  await issue('expired', 'localhost', 'ca', 'server', '-1');
  await issue('client', 'passport-radius test client', 'ca', 'client', '2');
  await issue('foreign-client', 'foreign client', 'other-ca', 'client', '2');
  return {
    dir,
    ca: await load(dir, 'ca'),
    otherCa: await load(dir, 'other-ca'),
    server: await load(dir, 'server'),
    expired: await load(dir, 'expired'),
    client: await load(dir, 'client'),
    foreignClient: await load(dir, 'foreign-client'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A running radsecproxy. */
export interface Radsecproxy {
  /** TLS port on 127.0.0.1. */
  port: number;
  address: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts radsecproxy in the foreground: RadSec (TLS) on a free port of 127.0.0.1 with `pki.server`,
 * clients must present a certificate signed by `pki.ca`; every request goes to `upstream` over UDP.
 */
export async function startRadsecproxy(opts: { pki: Pki; upstreamPort: number; upstreamSecret: string }): Promise<Radsecproxy> {
  if (!RADSECPROXY_BIN) throw new Error('radsecproxy is not installed');
  const port = await freeTcpPort();
  const dir = await mkdtemp(join(tmpdir(), 'passport-radius-radsecproxy-'));
  const { pki } = opts;
  const conf = [
    `ListenTLS 127.0.0.1:${port}`,
    `tls default {`,
    `\tCACertificateFile ${pki.ca.certFile}`,
    `\tCertificateFile ${pki.server.certFile}`,
    `\tCertificateKeyFile ${pki.server.keyFile}`,
    '}',
    'client passport-radius {',
    '\thost 127.0.0.1',
    '\ttype tls',
    '\ttls default',
    '\tsecret radsec',
    // The test client certificate names no host; trust comes from the CA.
    '\tCertificateNameCheck off',
    '}',
    'server freeradius {',
    '\thost 127.0.0.1',
    `\tport ${opts.upstreamPort}`,
    '\ttype udp',
    `\tsecret ${opts.upstreamSecret}`,
    '}',
    'realm * {',
    '\tserver freeradius',
    '}',
    '',
  ].join('\n');
  await writeFile(join(dir, 'radsecproxy.conf'), conf, { mode: 0o600 });
  const child = spawn(RADSECPROXY_BIN, ['-f', '-d', '4', '-c', join(dir, 'radsecproxy.conf'), '-i', join(dir, 'pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  // Ready once the TLS port accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`radsecproxy exited:\n${out}`);
    }
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`radsecproxy did not listen on ${port}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, address: `127.0.0.1:${port}`, output: () => out, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** describe() for suites that need radsecproxy (REQUIRE_RADSECPROXY=1 makes a missing one an error). */
export function describeRadsecproxy(title: string, fn: (this: Mocha.Suite) => void): void {
  describeRequiring(
    {
      available: RADSECPROXY_BIN !== undefined && OPENSSL_BIN !== undefined,
      what: 'radsecproxy',
      requireVar: 'REQUIRE_RADSECPROXY',
      install: 'install the radsecproxy and openssl packages or set RADSECPROXY_BIN',
      skipping: 'the RADIUS over TLS tests through radsecproxy',
    },
    title,
    fn,
  );
}

/** One RADIUS packet a {@link TlsResponder} received, with the connection it came on. */
export interface TlsReceived {
  packet: Buffer;
  /** Index of the connection (in the order they were accepted). */
  connection: number;
  socket: TLSSocket;
}

/** A RADIUS/TLS peer in this process, for fault injection: `handle` decides what goes back. */
export interface TlsResponder {
  port: number;
  address: string;
  received: TlsReceived[];
  /** Every accepted connection, in order (destroyed ones included). */
  sockets: TLSSocket[];
  /** ALPN protocols each connection's client offered. */
  alpnOffered: string[][];
  close(): Promise<void>;
}

/**
 * Starts a TLS server on 127.0.0.1 that frames RADIUS packets by their Length field and calls `handle` for
 * each (answer with `reply(...)` bytes written to `socket`, or not at all). Clients need a certificate
 * signed by `pki.ca` unless `tlsOptions` says otherwise.
 */
export async function startTlsResponder(
  pki: Pki,
  handle: (received: TlsReceived) => void,
  tlsOptions: TlsOptions = {},
): Promise<TlsResponder> {
  const received: TlsReceived[] = [];
  const sockets: TLSSocket[] = [];
  const alpnOffered: string[][] = [];
  const server = createTlsServer({
    key: pki.server.key,
    cert: pki.server.cert,
    ca: pki.ca.cert,
    requestCert: true,
    rejectUnauthorized: true,
    // Selects radius/1.0 when offered, as a RADIUS/TLS server that speaks ALPN does (RFC 9765 §3.1).
    ALPNCallback: ({ protocols }) => {
      alpnOffered.push(protocols);
      return protocols.includes('radius/1.0') ? 'radius/1.0' : undefined;
    },
    ...tlsOptions,
  });
  server.on('secureConnection', (socket) => {
    const index = sockets.push(socket) - 1;
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= buffered.readUInt16BE(2)) {
        const length = buffered.readUInt16BE(2);
        const packet = Buffer.from(buffered.subarray(0, length));
        buffered = buffered.subarray(length);
        const r = { packet, connection: index, socket };
        received.push(r);
        handle(r);
      }
    });
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    address: `127.0.0.1:${port}`,
    received,
    sockets,
    alpnOffered,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
