/**
 * B3 child: how one client scales with the number of requests in flight. Run with `--expose-gc`.
 *
 *   node --expose-gc --import tsx bench/scaling.ts --client ours|limit --port N --delay-port N2
 *     --delay MS [--levels 1,10,100,1000,5000] [--duration MS] [--warmup MS]
 *
 * For each level L: (1) heap — against the responder on `--delay-port`, which answers MS ms late, it
 * puts L requests in flight, collects garbage, and divides the growth of heapUsed (and of external +
 * ArrayBuffer memory) since the idle state by L; (2) throughput — against the undelayed responder on
 * `--port`, a closed loop of L workers for `--duration` ms. It also counts UDP sockets and descriptors
 * with L in flight, at the start and end of the throughput window (descriptors must not grow with the
 * number of requests), and after the client is idle again. Prints one JSON line.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { countFds, PASSWORD, percentile, runMain, SECRET, sleep, USERNAME } from './common';
import { createDriver, type Driver } from './drivers';
import { runLoop } from './loop';

const { values } = parseArgs({
  options: {
    client: { type: 'string', default: 'ours' },
    port: { type: 'string', default: '0' },
    'delay-port': { type: 'string', default: '0' },
    delay: { type: 'string', default: '1000' },
    levels: { type: 'string', default: '1,10,100,1000,5000' },
    duration: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '500' },
  },
});

/** One level's numbers. Bytes, ms, counts. */
export interface ScalingLevel {
  inFlight: number;
  /** heapUsed growth per request in flight, bytes. */
  heapBytesPerInFlight: number;
  /** external + arrayBuffers growth per request in flight (packet buffers live there), bytes. */
  externalBytesPerInFlight: number;
  /** UDP sockets open with `inFlight` requests in flight (beyond those open before the client). */
  sockets: number;
  /** Descriptors open with `inFlight` in flight (the whole process). */
  fds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  errors: number;
  /** Requests completed in the throughput window, and descriptors at its start and end. */
  windowRequests: number;
  fdsWindowStart: number;
  fdsWindowEnd: number;
  notes?: string;
}

const gc = (globalThis as { gc?: () => void }).gc;

function sockets(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    await sleep(20);
    gc!();
  }
  return process.memoryUsage();
}

function driver(port: string): Driver {
  return createDriver(values.client, { host: '127.0.0.1', port: Number(port), secret: SECRET, username: USERNAME, password: PASSWORD });
}

async function level(inFlight: number, delayMs: number, baseSockets: number): Promise<ScalingLevel> {
  // Heap: warm the client at this level once (JIT, sockets), then measure idle vs. all in flight.
  const slow = driver(values['delay-port']);
  await Promise.all(Array.from({ length: inFlight }, () => slow.send()));
  const idle = await settle();
  const pending = Array.from({ length: inFlight }, () => slow.send());
  const settled = Promise.allSettled(pending);
  await sleep(Math.min(100, delayMs / 4));
  const busy = await settle();
  const busySockets = sockets() - baseSockets;
  const busyFds = countFds();
  const outcomes = await settled;
  const heapErrors = outcomes.filter((o) => o.status === 'rejected').length;
  await slow.close();

  // Throughput with exactly `inFlight` in flight.
  const fast = driver(values.port);
  const r = await runLoop(() => fast.send(), {
    concurrency: inFlight,
    warmupMs: Number(values.warmup),
    durationMs: Number(values.duration),
  });
  const notes = [fast.notes?.(), heapErrors ? `${heapErrors} errors in the heap phase` : undefined].filter(Boolean).join('; ');
  await fast.close();
  return {
    inFlight,
    heapBytesPerInFlight: (busy.heapUsed - idle.heapUsed) / inFlight,
    externalBytesPerInFlight: (busy.external + busy.arrayBuffers - idle.external - idle.arrayBuffers) / inFlight,
    sockets: busySockets,
    fds: busyFds,
    rps: (r.completed * 1000) / r.wallMs,
    p50Ms: percentile(r.latencies, 0.5),
    p99Ms: percentile(r.latencies, 0.99),
    cpuUsPerRequest: r.cpuUs / Math.max(1, r.completed),
    errors: r.errors + r.warmupErrors + heapErrors,
    windowRequests: r.completed,
    fdsWindowStart: r.fdsAtStart,
    fdsWindowEnd: r.fdsAtEnd,
    ...(notes ? { notes } : {}),
  };
}

async function main(): Promise<void> {
  if (!gc) throw new Error('run with --expose-gc');
  const delayMs = Number(values.delay);
  const baseSockets = sockets();
  const fdsBefore = countFds();
  const levels: ScalingLevel[] = [];
  for (const l of values.levels.split(',').map(Number)) levels.push(await level(l, delayMs, baseSockets));
  await sleep(50);
  const result = { client: values.client, delayMs, fdsBefore, fdsAfter: countFds(), socketsAfter: sockets() - baseSockets, levels };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

runMain(main);
