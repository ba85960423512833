/**
 * Shared bits of the benchmark: the credentials every client sends, child-process plumbing, and
 * measurement helpers (percentiles, descriptor counts, /proc sampling).
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Repository root (children are started there so `--import tsx` resolves). */
export const ROOT = resolve(__dirname, '..');
/** Shared secret between every bench client and the responder. */
export const SECRET = 'bench-secret';
/** User-Name sent by every client (FreeRADIUS's test users file knows it). */
export const USERNAME = 'alice';
/** User-Password sent by every client; the responder checks it with `--verify`. */
export const PASSWORD = 'alice-password';

/** One client's measurement at one concurrency (B1). Times in ms, CPU in µs, memory in KiB. */
export interface LoadResult {
  client: string;
  concurrency: number;
  /** Requests completed (accepted or failed) in the measured phase. */
  requests: number;
  errors: number;
  /** Errors before the measured window (a healthy client has none). */
  warmupErrors?: number;
  /** A few distinct error messages, for the report. */
  errorSamples: string[];
  /** Measured phase, milliseconds. */
  wallMs: number;
  rps: number;
  /** undefined when the client gives no per-request timing (radclient). */
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  /** (user + system) CPU µs per completed request. */
  cpuUsPerRequest: number;
  /** Peak resident set, KiB. */
  peakRssKiB: number;
  /** Most open descriptors seen while running. */
  maxFds: number;
  /** Extra facts (e.g. retransmissions). */
  notes?: string;
}

/** Value at fraction `q` (0..1) of sorted numbers; NaN for none. */
export function percentile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Open descriptors of a process (default: this one), or -1 when /proc is unavailable. */
export function countFds(pid: number | 'self' = 'self'): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

/** utime + stime (µs) and VmHWM (KiB) of a running process from /proc, or undefined once it is gone. */
export function procSample(pid: number): { cpuUs: number; hwmKiB: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+)/.exec(status);
    return { cpuUs: (ticks * 1e6) / 100, hwmKiB: hwm ? Number(hwm[1]) : 0 };
  } catch {
    return undefined;
  }
}

/** Node arguments for a TypeScript child: the tsx loader, plus any extra flags. */
export function nodeArgs(extra: string[] = []): string[] {
  return ['--import', 'tsx', ...extra];
}

/** A forked TypeScript child with an IPC channel; `line()` resolves with its first JSON stdout line. */
export interface Child {
  proc: ChildProcess;
  /** Resolves with the first stdout line that parses as JSON; rejects if the child exits first. */
  firstJson<T>(timeoutMs?: number): Promise<T>;
  /** Sends a message and resolves with the next message back. */
  ask<T>(message: object, timeoutMs?: number): Promise<T>;
  /** Everything on stdout so far. */
  output(): string;
  /** Everything on stderr so far. */
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

/**
 * Starts `bench/<script>` in its own Node process (cwd = repository root), with an IPC channel.
 * @param script - file name under bench/.
 */
export function startChild(script: string, args: string[], execArgv: string[] = []): Child {
  const proc = fork(join(ROOT, 'bench', script), args, {
    cwd: ROOT,
    execArgv: nodeArgs(execArgv),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, DEBUG: '' },
  });
  return wrap(proc);
}

/** Like {@link startChild} for any command, without IPC. */
export function startCommand(command: string, args: string[], options: { stdin?: string } = {}): Child {
  const proc = spawn(command, args, { cwd: ROOT, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (options.stdin !== undefined) proc.stdin?.end(options.stdin);
  return wrap(proc);
}

function wrap(proc: ChildProcess): Child {
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((done) => {
    proc.once('close', (code) => done(code));
    proc.once('error', (e) => {
      err += `\n[spawn error] ${e.message}`;
      done(-1);
    });
  });
  proc.stdout?.setEncoding('utf8');
  proc.stderr?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => (out += chunk));
  proc.stderr?.on('data', (chunk: string) => (err += chunk));
  const firstJson = <T>(timeoutMs = 30_000): Promise<T> =>
    new Promise<T>((done, fail) => {
      const check = (): boolean => {
        for (const line of out.split('\n')) {
          if (!line.startsWith('{')) continue;
          try {
            done(JSON.parse(line) as T);
            return true;
          } catch {
            // incomplete line
          }
        }
        return false;
      };
      if (check()) return;
      const onData = (): void => {
        if (check()) cleanup();
      };
      const timer = setTimeout(() => {
        cleanup();
        fail(new Error(`no JSON from ${proc.spawnfile} within ${timeoutMs} ms; stderr:\n${err}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
      };
      proc.stdout?.on('data', onData);
      void exited.then((code) => {
        setImmediate(() => {
          if (check()) return cleanup();
          cleanup();
          fail(new Error(`${proc.spawnfile} exited (${code}) without a result; stderr:\n${err}\nstdout:\n${out}`));
        });
      });
    });
  const ask = <T>(message: object, timeoutMs = 10_000): Promise<T> =>
    new Promise<T>((done, fail) => {
      const timer = setTimeout(() => fail(new Error('no answer from child')), timeoutMs);
      proc.once('message', (m) => {
        clearTimeout(timer);
        done(m as T);
      });
      proc.send?.(message);
    });
  const kill = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  return { proc, firstJson, ask, output: () => out, stderr: () => err, exited, kill };
}

/**
 * Pins every thread of process `pid` to the CPUs `cpus` (e.g. "0" or "1-3") with util-linux `taskset`.
 * Returns false (and pins nothing) when `taskset` is missing or refuses.
 */
export function pinProcess(pid: number, cpus: string): boolean {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  return r.status === 0;
}

/** Promise that resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Runs a bench child script's `main`: exit 0 when it resolves, print the error and exit 1 when it fails. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
