/**
 * B1 load child: one Node RADIUS client in its own process, at a fixed number of requests in flight.
 *
 *   node --import tsx bench/load.ts --client ours|ours-tls|limit|nrc --port N [--host H] --concurrency C
 *     [--duration MS] [--requests M] [--warmup MS] [--secret S] [--user U] [--password P] [--tls-dir DIR]
 *
 * After `--warmup` ms it measures until `--duration` ms pass or `--requests` complete, whichever is
 * first, then drains and prints one JSON line: a {@link LoadResult} (throughput, p50/p99, CPU µs per
 * request from process.cpuUsage, peak RSS, most open descriptors). Every reply that is not a verified
 * Access-Accept counts as an error.
 */
import { parseArgs } from 'node:util';
import { PASSWORD, percentile, runMain, SECRET, USERNAME, type LoadResult } from './common';
import { createDriver } from './drivers';
import { runLoop } from './loop';

const { values } = parseArgs({
  options: {
    client: { type: 'string', default: '' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '1' },
    duration: { type: 'string', default: '3000' },
    requests: { type: 'string', default: String(Number.MAX_SAFE_INTEGER) },
    warmup: { type: 'string', default: '500' },
    secret: { type: 'string', default: SECRET },
    user: { type: 'string', default: USERNAME },
    password: { type: 'string', default: PASSWORD },
    label: { type: 'string' },
    'tls-dir': { type: 'string' },
  },
});

async function main(): Promise<void> {
  const concurrency = Number(values.concurrency);
  const driver = createDriver(values.client, {
    host: values.host,
    port: Number(values.port),
    secret: values.secret,
    username: values.user,
    password: values.password,
    ...(values['tls-dir'] !== undefined ? { tlsDir: values['tls-dir'] } : {}),
  });
  const r = await runLoop(() => driver.send(), {
    concurrency,
    warmupMs: Number(values.warmup),
    durationMs: Number(values.duration),
    maxRequests: Number(values.requests),
  });
  const notes = [driver.notes?.(), r.warmupErrors ? `${r.warmupErrors} errors during warm-up` : undefined].filter(Boolean).join('; ');
  await driver.close();
  const result: LoadResult = {
    client: values.label ?? values.client,
    concurrency,
    requests: r.completed,
    errors: r.errors,
    warmupErrors: r.warmupErrors,
    errorSamples: r.errorSamples,
    wallMs: r.wallMs,
    rps: (r.completed * 1000) / r.wallMs,
    p50Ms: percentile(r.latencies, 0.5),
    p99Ms: percentile(r.latencies, 0.99),
    cpuUsPerRequest: r.completed > 0 ? r.cpuUs / r.completed : Number.NaN,
    peakRssKiB: process.resourceUsage().maxRSS,
    maxFds: r.maxFds,
    ...(notes ? { notes } : {}),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

runMain(main);
