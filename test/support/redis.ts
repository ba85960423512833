/**
 * Test helper: run a real redis-server on 127.0.0.1, on a free port, without persistence, in a temp dir.
 *
 *   const redis = await startRedis();
 *   // ... REDIS_URL = redis.url ...
 *   await redis.kill();      // crash it (SIGKILL)
 *   await redis.restart();   // same port again
 *   await redis.stop();
 *
 * Use describeRedis() instead of describe() so the suite is skipped with a visible notice when
 * redis-server is not installed (or fails when REQUIRE_REDIS=1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { freeTcpPort } from './ports';
import { describeRequiring, findProgram, killOnExit } from './requirements';

function findRedisServer(): string | undefined {
  return findProgram('REDIS_SERVER_BIN', ['redis-server'], ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/opt/homebrew/bin']);
}

/** Path of redis-server, or undefined when it is not installed. */
export const REDIS_SERVER_BIN: string | undefined = findRedisServer();

/** A running redis-server started by {@link startRedis}. */
export interface RedisServer {
  port: number;
  /** 'redis://127.0.0.1:PORT' */
  url: string;
  /** Everything the current process printed so far. */
  output(): string;
  /** Every key with its string value (KEYS * then GET; non-string values read as ''). */
  dump(): Promise<Map<string, string>>;
  /** Crashes the server (SIGKILL), as an outage would; resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after kill() or stop()); nothing survives (no persistence). */
  restart(): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL after 3 s) and removes its temp dir. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  isExited(): boolean;
}

async function spawnRedis(bin: string, port: number, dir: string, out: { text: string }): Promise<Proc> {
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'notice'],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir },
  );
  killOnExit(child);
  let exited = false;
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    out.text += chunk.toString('utf8');
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exitedPromise = new Promise<void>((resolve) => {
    const done = (): void => {
      exited = true;
      for (const w of [...waiters]) w();
      resolve();
    };
    child.once('exit', done);
    child.once('error', (err) => {
      out.text += `\n[spawn error] ${err.message}\n`;
      done();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms:\n${out.text}`));
    }, START_TIMEOUT_MS);
    const check = (): void => {
      if (/Ready to accept connections/.test(out.text)) {
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      } else if (exited) {
        clearTimeout(timer);
        waiters.delete(check);
        reject(new Error(`redis-server exited before it was ready:\n${out.text}`));
      }
    };
    waiters.add(check);
    check();
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exitedPromise;
    throw err;
  });
  return { child, exited: exitedPromise, isExited: () => exited };
}

async function endProc(proc: Proc | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!proc || proc.isExited()) return;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 3_000);
  await proc.exited;
  clearTimeout(timer);
  proc.child.stdout?.destroy();
  proc.child.stderr?.destroy();
}

/**
 * Starts redis-server on a free port of 127.0.0.1 with no RDB snapshots and no AOF, in a fresh temp
 * dir. Resolves when it accepts connections; rejects with its output otherwise (tries 3 ports).
 */
export async function startRedis(): Promise<RedisServer> {
  const bin = REDIS_SERVER_BIN;
  if (!bin) throw new Error('redis-server is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'passport-radius-redis-'));
  const out = { text: '' };
  let port = 0;
  let proc: Proc | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && !proc; attempt++) {
    port = await freeTcpPort();
    out.text = '';
    try {
      proc = await spawnRedis(bin, port, dir, out);
    } catch (err) {
      lastError = err;
      if (!/Address already in use/i.test(out.text)) break;
    }
  }
  if (!proc) {
    await rm(dir, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }
  const url = `redis://127.0.0.1:${port}`;
  return {
    port,
    url,
    output: () => out.text,
    async dump() {
      const client = createClient({ url, socket: { reconnectStrategy: false } });
      client.on('error', () => undefined);
      await client.connect();
      try {
        const result = new Map<string, string>();
        for (const key of (await client.keys('*')).sort()) {
          const type = await client.type(key);
          result.set(key, type === 'string' ? ((await client.get(key)) ?? '') : '');
        }
        return result;
      } finally {
        client.destroy();
      }
    },
    async kill() {
      await endProc(proc, 'SIGKILL');
    },
    async restart() {
      await endProc(proc, 'SIGTERM');
      out.text = '';
      proc = await spawnRedis(bin, port, dir, out);
    },
    async stop() {
      await endProc(proc, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * describe() for suites that need a real redis-server: skipped with a visible notice when it is not
 * installed, or failing when REQUIRE_REDIS=1.
 */
export function describeRedis(title: string, fn: (this: Mocha.Suite) => void): void {
  describeRequiring(
    {
      available: REDIS_SERVER_BIN !== undefined,
      what: 'redis-server',
      requireVar: 'REQUIRE_REDIS',
      install: 'install the redis-server package or set REDIS_SERVER_BIN',
      skipping: 'the shared-session tests',
    },
    title,
    fn,
  );
}
