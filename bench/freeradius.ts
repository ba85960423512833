/**
 * Bench-only FreeRADIUS starter: the test config template (test/freeradius/) run WITHOUT debug output
 * (`freeradius -f`, logging to a file in its temp dir) so that the server is not slowed by printing every
 * packet as `-X` does. The test helper (test/support/freeradius.ts) is left as it is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FREERADIUS_BIN, freeTcpPort, freeUdpPort, tlsVars } from '../test/support/freeradius';
import { PASSWORD, ROOT, sleep, USERNAME } from './common';
import { LimitClient } from './limit-client';

/** A running bench FreeRADIUS. */
export interface BenchFreeRadius {
  port: number;
  /** RADIUS over TLS port (shared secret `radsec`), when started with `tls`. */
  tlsPort?: number;
  pid: number;
  stop(): Promise<void>;
}

function firstExisting(candidates: string[], marker: string): string | undefined {
  return candidates.find((dir) => existsSync(join(dir, marker)));
}

/** Path of the freeradius binary, or undefined. */
export function freeradiusBin(): string | undefined {
  return FREERADIUS_BIN;
}

/** Whether a freeradius binary is installed. */
export function freeradiusInstalled(): boolean {
  return FREERADIUS_BIN !== undefined;
}

/**
 * Starts FreeRADIUS (no debug output) on a free port of 127.0.0.1 with secret `secret`; resolves once it
 * answers an Access-Request for the bench user. Rejects after 15 s with the log.
 */
export async function startBenchFreeRadius(
  secret: string,
  tls?: { certFile: string; keyFile: string; caFile: string },
): Promise<BenchFreeRadius> {
  const bin = FREERADIUS_BIN;
  if (!bin) throw new Error('freeradius is not installed');
  const dictDir =
    process.env.FREERADIUS_DICTDIR ?? firstExisting(['/usr/share/freeradius', '/usr/local/share/freeradius'], 'dictionary') ?? '/usr/share/freeradius';
  const libDir =
    process.env.FREERADIUS_LIBDIR ??
    firstExisting(
      ['/usr/lib/freeradius', '/usr/lib64/freeradius', '/usr/local/lib/freeradius', '/usr/lib/x86_64-linux-gnu/freeradius', '/usr/lib/aarch64-linux-gnu/freeradius'],
      'rlm_pap.so',
    ) ??
    '/usr/lib/freeradius';
  const port = await freeUdpPort();
  const tlsPort = tls ? await freeTcpPort() : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'passport-radius-bench-freeradius-'));
  const vars: Record<string, string> = {
    DIR: dir,
    PORT: String(port),
    SECRET: `'${secret}'`,
    REQUIRE_MA: 'yes',
    STATUS_SERVER: 'no',
    SIGN_REPLIES: 'update reply {\n\t\t\t&Message-Authenticator := 0x00\n\t\t}',
    STATUS_SECTION: '# no Status-Server',
    DICTDIR: dictDir,
    LIBDIR: libDir,
    // A RadSec listener (FreeRADIUS 3.2 runs one only with threads, which -f without -X has).
    ...tlsVars(tls, tlsPort),
  };
  const templates = join(ROOT, 'test', 'freeradius');
  for (const entry of await readdir(templates, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    let text = await readFile(join(templates, entry.name), 'utf8');
    text = text.replace(/@@([A-Z_0-9]+)@@/g, (match, name: string) => vars[name] ?? match);
    if (entry.name === 'radiusd.conf') {
      text = text.replace(/destination = stdout/, `destination = files\n\tfile = ${join(dir, 'radius.log')}`);
    }
    await writeFile(join(dir, entry.name), text, { mode: 0o600 });
  }
  const child: ChildProcess = spawn(bin, ['-f', '-d', dir, '-n', 'radiusd'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  let exited = false;
  const exitPromise = new Promise<void>((done) => child.once('exit', () => ((exited = true), done())));
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exitPromise;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const probe = new LimitClient('127.0.0.1', port, Buffer.from(secret), 300);
  const deadline = Date.now() + 15_000;
  try {
    while (Date.now() < deadline && !exited) {
      try {
        const code = await probe.request(USERNAME, PASSWORD);
        if (code === 2) return { port, ...(tlsPort !== undefined ? { tlsPort } : {}), pid: child.pid ?? -1, stop };
        throw new Error(`FreeRADIUS answered code ${code} for the bench user`);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.message !== 'timeout' && e.code !== 'ECONNREFUSED') throw err;
        await sleep(100);
      }
    }
    const log = await readFile(join(dir, 'radius.log'), 'utf8').catch(() => '');
    throw new Error(`FreeRADIUS did not answer within 15 s; output:\n${out}\n${log}`);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    probe.close();
  }
}
