/**
 * Runs FreeRADIUS's `radclient` (freeradius-utils, C) as a B1 client: `-p C` packets in parallel from a
 * file of C identical Access-Requests (with Message-Authenticator), each sent `-c N` times. CPU time and
 * peak RSS come from `/usr/bin/time` (getrusage of the child) when it is installed, else from /proc
 * samples; descriptors from /proc/<pid>/fd while it runs. radclient's start-up (reading dictionaries) is
 * measured once with a single request and subtracted from wall and CPU time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { countFds, procSample, startCommand, type LoadResult } from './common';

const TIME_BIN = '/usr/bin/time';

/** Path of radclient, or undefined when freeradius-utils is not installed. */
export function radclientPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v radclient'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
}

/** One radclient process's raw numbers. */
interface RawRun {
  wallMs: number;
  cpuUs: number;
  peakRssKiB: number;
  maxFds: number;
  accepted: number;
  rejected: number;
  lost: number;
  exitCode: number | null;
  output: string;
}

/** Start-up cost of radclient (one request), subtracted from every run. */
export interface RadclientBaseline {
  wallMs: number;
  cpuUs: number;
}

function childPid(parent: number): number | undefined {
  try {
    const kids = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length > 0 ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

async function runOnce(args: { radclient: string; port: number; secret: string; concurrency: number; repeat: number; user: string; password: string }): Promise<RawRun> {
  const dir = await mkdtemp(join(tmpdir(), 'passport-radius-bench-radclient-'));
  try {
    const packet = `User-Name = "${args.user}"\nUser-Password = "${args.password}"\nNAS-Identifier = "bench"\nMessage-Authenticator = 0x00\n\n`;
    const file = join(dir, 'requests.txt');
    await writeFile(file, packet.repeat(args.concurrency));
    const timeFile = join(dir, 'time.txt');
    const rcArgs = ['-q', '-s', '-p', String(args.concurrency), '-c', String(args.repeat), '-r', '3', '-t', '5', '-f', file, `127.0.0.1:${args.port}`, 'auth', args.secret];
    const useTime = existsSync(TIME_BIN);
    const started = performance.now();
    const child = useTime
      ? startCommand(TIME_BIN, ['-f', '%U %S %M', '-o', timeFile, args.radclient, ...rcArgs])
      : startCommand(args.radclient, rcArgs);
    let maxFds = 0;
    let last: { cpuUs: number; hwmKiB: number } | undefined;
    const sample = (): void => {
      const pid = useTime ? childPid(child.proc.pid ?? -1) : child.proc.pid;
      if (pid === undefined) return;
      maxFds = Math.max(maxFds, countFds(pid));
      last = procSample(pid) ?? last;
    };
    const sampler = setInterval(sample, 20);
    const exitCode = await child.exited;
    const wallMs = performance.now() - started;
    clearInterval(sampler);
    await new Promise((done) => setImmediate(done));
    const text = child.output() + child.stderr();
    let cpuUs = last?.cpuUs ?? 0;
    let peakRssKiB = last?.hwmKiB ?? 0;
    if (useTime && existsSync(timeFile)) {
      const line = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
      const [u, s, m] = line.split(/\s+/).map(Number);
      if (u !== undefined && s !== undefined && m !== undefined && !Number.isNaN(u + s + m)) {
        cpuUs = (u + s) * 1e6;
        peakRssKiB = m;
      }
    }
    const count = (label: string): number => Number(new RegExp(`${label}\\s*:\\s*(\\d+)`).exec(child.output())?.[1] ?? 0);
    return { wallMs, cpuUs, peakRssKiB, maxFds, accepted: count('Accepted'), rejected: count('Rejected'), lost: count('Lost'), exitCode, output: text };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Measures radclient's start-up (one request), median of three. */
export async function radclientBaseline(radclient: string, port: number, secret: string, user: string, password: string): Promise<RadclientBaseline> {
  const runs: RawRun[] = [];
  for (let i = 0; i < 3; i++) runs.push(await runOnce({ radclient, port, secret, concurrency: 1, repeat: 1, user, password }));
  const mid = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { wallMs: mid(runs.map((r) => r.wallMs)), cpuUs: mid(runs.map((r) => r.cpuUs)) };
}

/**
 * Runs radclient at `concurrency` for about `durationMs` (the request count is calibrated by a short
 * run first, at least `minRequests`). Latency percentiles are not available from radclient.
 */
export async function runRadclient(args: {
  radclient: string;
  port: number;
  secret: string;
  user: string;
  password: string;
  concurrency: number;
  durationMs: number;
  minRequests: number;
  baseline: RadclientBaseline;
  label?: string;
}): Promise<LoadResult> {
  const base = { radclient: args.radclient, port: args.port, secret: args.secret, user: args.user, password: args.password, concurrency: args.concurrency };
  // Calibrate: how many requests fit in durationMs.
  const probeRepeat = Math.max(1, Math.ceil(Math.max(args.minRequests, 2000) / args.concurrency));
  const probe = await runOnce({ ...base, repeat: probeRepeat });
  const probeRate = (probeRepeat * args.concurrency) / Math.max(1, probe.wallMs - args.baseline.wallMs);
  const target = Math.max(args.minRequests, Math.round(probeRate * args.durationMs));
  const repeat = Math.max(1, Math.ceil(target / args.concurrency));
  const r = await runOnce({ ...base, repeat });
  const requests = repeat * args.concurrency;
  const wallMs = Math.max(1, r.wallMs - args.baseline.wallMs);
  const errors = r.rejected + r.lost + Math.max(0, requests - r.accepted - r.rejected - r.lost);
  const errorSamples: string[] = [];
  if (r.exitCode !== 0) errorSamples.push(`radclient exited ${r.exitCode}: ${r.output.trim().split('\n').slice(-3).join(' / ')}`);
  return {
    client: args.label ?? 'radclient',
    concurrency: args.concurrency,
    requests,
    errors,
    errorSamples,
    wallMs,
    rps: (requests * 1000) / wallMs,
    p50Ms: undefined,
    p99Ms: undefined,
    cpuUsPerRequest: Math.max(0, r.cpuUs - args.baseline.cpuUs) / requests,
    peakRssKiB: r.peakRssKiB,
    maxFds: r.maxFds,
    notes: existsSync(TIME_BIN) ? undefined : 'CPU and RSS from /proc samples (no /usr/bin/time)',
  };
}
