/**
 * The closed-loop load generator shared by the Node clients: `concurrency` workers, each sending one
 * request after another, so exactly that many are in flight. Warm-up first, then a measured window.
 */
import { performance } from 'node:perf_hooks';
import { countFds } from './common';

/** What one window measured. */
export interface LoopResult {
  completed: number;
  errors: number;
  warmupErrors: number;
  errorSamples: string[];
  wallMs: number;
  /** CPU (user + system) of this process during the window, µs. */
  cpuUs: number;
  /** Latencies of the successful requests of the window, ms, sorted. */
  latencies: Float64Array;
  /** Most open descriptors seen (sampled every 100 ms and at the window's end). */
  maxFds: number;
  /** Descriptors open when the window started and when it ended. */
  fdsAtStart: number;
  fdsAtEnd: number;
}

/**
 * Runs `send` in a closed loop. The window ends after `durationMs` or `maxRequests` completions; then
 * the workers stop sending and the loop waits for the requests still in flight.
 */
export async function runLoop(
  send: () => Promise<void>,
  opts: { concurrency: number; warmupMs: number; durationMs: number; maxRequests?: number },
): Promise<LoopResult> {
  const maxRequests = opts.maxRequests ?? Number.MAX_SAFE_INTEGER;
  let measuring = false;
  let stopping = false;
  let completed = 0;
  let errors = 0;
  let warmupErrors = 0;
  const errorSamples = new Set<string>();
  const latencies: number[] = [];
  let maxFds = countFds();
  let fdsAtEnd = 0;
  let windowEnd = 0;
  let cpuStart = process.cpuUsage();
  let cpu = { user: 0, system: 0 };
  let endWindow: () => void = () => {};
  const windowDone = new Promise<void>((done) => (endWindow = done));
  const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

  const finishWindow = (): void => {
    if (!measuring) return;
    measuring = false;
    stopping = true;
    windowEnd = performance.now();
    cpu = process.cpuUsage(cpuStart);
    fdsAtEnd = countFds();
    maxFds = Math.max(maxFds, fdsAtEnd);
    endWindow();
  };

  const worker = async (): Promise<void> => {
    while (!stopping) {
      const t0 = performance.now();
      let failed: unknown;
      try {
        await send();
      } catch (err) {
        failed = err ?? new Error('rejected');
      }
      if (!measuring) {
        if (failed !== undefined) {
          warmupErrors++;
          if (errorSamples.size < 5) errorSamples.add(`warm-up: ${message(failed)}`);
          // A client that fails synchronously must not starve the timers.
          await new Promise((done) => setImmediate(done));
        }
        continue;
      }
      completed++;
      if (failed !== undefined) {
        errors++;
        if (errorSamples.size < 5) errorSamples.add(message(failed));
      } else {
        latencies.push(performance.now() - t0);
      }
      if (completed >= maxRequests) finishWindow();
    }
  };

  const sampler = setInterval(() => (maxFds = Math.max(maxFds, countFds())), 100);
  const workers = Array.from({ length: opts.concurrency }, () => worker());
  await new Promise((done) => setTimeout(done, opts.warmupMs));
  const fdsAtStart = countFds();
  const windowStart = performance.now();
  cpuStart = process.cpuUsage();
  measuring = true;
  const timer = setTimeout(finishWindow, opts.durationMs);
  await windowDone;
  clearTimeout(timer);
  clearInterval(sampler);
  await Promise.all(workers);
  return {
    completed,
    errors,
    warmupErrors,
    errorSamples: [...errorSamples],
    wallMs: windowEnd - windowStart,
    cpuUs: cpu.user + cpu.system,
    latencies: Float64Array.from(latencies).sort(),
    maxFds,
    fdsAtStart,
    fdsAtEnd,
  };
}
