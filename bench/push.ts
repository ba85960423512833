/**
 * B4: sign-ins held by a push server. N concurrent sign-ins through HTTP (Express + express-session +
 * Passport, bench/push-app.ts) against a responder that answers every Access-Request HOLD ms late, as a
 * two-factor server holds the request until the user approves on the phone. Side by side: RadiusStrategy
 * and the limit client (bench/limit-client.ts) in the same app, held the same way.
 *
 *   node --import tsx bench/push.ts [--smoke] [--count 10000] [--hold 20000] [--out DIR]
 *
 * For each app: memory after a full GC when idle, then with every sign-in held (all N Access-Requests
 * received by the responder, none answered yet): (heapUsed + external) growth ÷ N and RSS growth ÷ N;
 * event-loop delay (how much later than due a 10 ms timer fired: p50, p99, max) while the sign-ins arrive
 * and while they are answered, leaving out the forced GC of the memory sample; errors (anything but 200,
 * socket errors, requests the responder found badly signed); and the sign-ins' latency.
 * Writes DIR/push.{md,json} (default bench/results; the smoke run writes nothing unless --out is given).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PASSWORD, ROOT, SECRET, percentile, runMain, sleep, startChild, type Child } from './common';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    count: { type: 'string' },
    hold: { type: 'string' },
    out: { type: 'string' },
  },
});
const smoke = values.smoke;
const COUNT = Number(values.count ?? (smoke ? 200 : 10_000));
const HOLD_MS = Number(values.hold ?? (smoke ? 1000 : 20_000));

/** One app's numbers: bytes, ms, counts. */
export interface PushRow {
  app: 'radius' | 'limit';
  count: number;
  holdMs: number;
  ok: number;
  errors: number;
  /** What the errors were, by status or error code. */
  errorKinds: Record<string, number>;
  /** (heapUsed + external) growth per held sign-in, bytes. */
  heapBytesPerSignIn: number;
  /** RSS growth per held sign-in, bytes. */
  rssBytesPerSignIn: number;
  /** Milliseconds from the first request sent to the last one held at the responder. */
  rampMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Event-loop delay while the sign-ins arrive (until all are held), ms beyond the 10 ms sampling interval. */
  loopRamp: Loop;
  /** Event-loop delay from the held state until every sign-in is answered (the replies arrive in a burst). */
  loopAnswer: Loop;
  responderBad: number;
}

interface Memory {
  heapUsed: number;
  external: number;
  rss: number;
}
interface Loop {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
interface Stats {
  received: number;
  answered: number;
  bad: number;
}

/** Sends one sign-in; resolves with its status (or an error code) and its latency. */
function signIn(port: number, agent: Agent, i: number): Promise<{ outcome: string; ms: number }> {
  const body = `username=user${i}&password=${encodeURIComponent(PASSWORD)}`;
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/login', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ outcome: String(res.statusCode), ms: performance.now() - started }));
      },
    );
    req.setTimeout(HOLD_MS + 60_000);
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ outcome: err.code ?? err.message, ms: performance.now() - started }));
    req.end(body);
  });
}

async function runApp(mode: 'radius' | 'limit', responder: Child, radiusPort: number): Promise<PushRow> {
  const app = startChild('push-app.ts', ['--mode', mode, '--radius-port', String(radiusPort)], ['--expose-gc']);
  try {
    const { port } = await app.firstJson<{ port: number }>();
    // Warm up: a few sign-ins so that code is compiled and sockets exist before measuring.
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(port, agent, i)));
    await responder.ask({ cmd: 'reset' });
    const idle = await app.ask<Memory>({ cmd: 'sample' }, 30_000);
    await app.ask({ cmd: 'loop-reset' });

    const started = performance.now();
    const pending = Array.from({ length: COUNT }, (_, i) => signIn(port, agent, i));
    let rampMs = Number.NaN;
    for (;;) {
      const { stats } = await responder.ask<{ stats: Stats }>({ cmd: 'stats' });
      if (stats.received >= COUNT) {
        rampMs = performance.now() - started;
        break;
      }
      if (performance.now() - started > HOLD_MS * 0.8) break; // some never arrived: counted as errors below
      await sleep(100);
    }
    // Event-loop delay in two windows, leaving out the forced GC of the memory sample between them.
    const rampLoop = await app.ask<Loop>({ cmd: 'loop' });
    const held = await app.ask<Memory>({ cmd: 'sample' }, 30_000);
    await app.ask({ cmd: 'loop-reset' });
    const results = await Promise.all(pending);
    const answerLoop = await app.ask<Loop>({ cmd: 'loop' });
    const { stats } = await responder.ask<{ stats: Stats }>({ cmd: 'stats' });
    agent.destroy();

    const errorKinds: Record<string, number> = {};
    let ok = 0;
    for (const r of results) {
      if (r.outcome === '200') ok++;
      else errorKinds[r.outcome] = (errorKinds[r.outcome] ?? 0) + 1;
    }
    const latencies = Float64Array.from(results.map((r) => r.ms)).sort();
    const beyond = (ms: number): number => Math.max(0, ms - 10); // the histogram's 10 ms sampling interval
    return {
      app: mode,
      count: COUNT,
      holdMs: HOLD_MS,
      ok,
      errors: COUNT - ok + stats.bad,
      errorKinds,
      heapBytesPerSignIn: Math.round((held.heapUsed + held.external - idle.heapUsed - idle.external) / COUNT),
      rssBytesPerSignIn: Math.round((held.rss - idle.rss) / COUNT),
      rampMs: Math.round(rampMs),
      p50Ms: Math.round(percentile(latencies, 0.5)),
      p99Ms: Math.round(percentile(latencies, 0.99)),
      maxMs: Math.round(latencies[latencies.length - 1] ?? 0),
      loopRamp: { p50Ms: Math.round(beyond(rampLoop.p50Ms) * 10) / 10, p99Ms: Math.round(beyond(rampLoop.p99Ms) * 10) / 10, maxMs: Math.round(beyond(rampLoop.maxMs)) },
      loopAnswer: { p50Ms: Math.round(beyond(answerLoop.p50Ms) * 10) / 10, p99Ms: Math.round(beyond(answerLoop.p99Ms) * 10) / 10, maxMs: Math.round(beyond(answerLoop.maxMs)) },
      responderBad: stats.bad,
    };
  } finally {
    await app.kill();
  }
}

/** The Markdown table of a run. */
export function renderPush(rows: readonly PushRow[], when: string): string {
  const kib = (b: number): string => (b / 1024).toFixed(1);
  const lines = [
    `#### B4: ${rows[0]?.count ?? 0} concurrent sign-ins through HTTP held ${((rows[0]?.holdMs ?? 0) / 1000).toFixed(0)} s by a push-like responder (${when})`,
    '',
    '| app | signed in | errors | memory per held sign-in (heap + external) | RSS per held sign-in | event-loop delay p50 / p99 / max: arriving | … answering | sign-in p50 / p99 / max | all held after |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const name = r.app === 'radius' ? 'RadiusStrategy (timeout 60 s)' : 'limit client in a minimal strategy';
    const errors = r.errors === 0 ? '0' : `${r.errors} (${Object.entries(r.errorKinds).map(([k, v]) => `${k}: ${v}`).join(', ')}${r.responderBad ? `, bad packets: ${r.responderBad}` : ''})`;
    lines.push(
      `| ${name} | ${r.ok} | ${errors} | ${kib(r.heapBytesPerSignIn)} KiB | ${kib(r.rssBytesPerSignIn)} KiB | ` +
        `${r.loopRamp.p50Ms} / ${r.loopRamp.p99Ms} / ${r.loopRamp.maxMs} ms | ${r.loopAnswer.p50Ms} / ${r.loopAnswer.p99Ms} / ${r.loopAnswer.maxMs} ms | ` +
        `${(r.p50Ms / 1000).toFixed(1)} / ${(r.p99Ms / 1000).toFixed(1)} / ${(r.maxMs / 1000).toFixed(1)} s | ${(r.rampMs / 1000).toFixed(1)} s |`,
    );
  }
  const [radius, limit] = [rows.find((r) => r.app === 'radius'), rows.find((r) => r.app === 'limit')];
  if (radius && limit && limit.heapBytesPerSignIn > 0) {
    lines.push('', `Memory per held sign-in, RadiusStrategy ÷ limit: **${(radius.heapBytesPerSignIn / limit.heapBytesPerSignIn).toFixed(2)}×** (both include Express, the session and the HTTP socket).`);
  }
  return lines.join('\n') + '\n';
}

/** Runs B4 for both apps and returns the rows. */
export async function runPushSuite(): Promise<PushRow[]> {
  const responder = startChild('responder.ts', ['--secret', SECRET, '--delay', String(HOLD_MS), '--verify', PASSWORD]);
  try {
    const { port } = await responder.firstJson<{ port: number }>();
    const rows: PushRow[] = [];
    for (const mode of ['radius', 'limit'] as const) rows.push(await runApp(mode, responder, port));
    return rows;
  } finally {
    await responder.kill();
  }
}

if (require.main === module) {
  runMain(async () => {
    const rows = await runPushSuite();
    const when = new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
    const md = renderPush(rows, when);
    process.stdout.write(md);
    const out = values.out ?? (smoke ? undefined : join(ROOT, 'bench', 'results'));
    if (out) {
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'push.md'), md);
      writeFileSync(join(out, 'push.json'), JSON.stringify({ when, rows }, null, 2) + '\n');
    }
    if (rows.some((r) => r.ok === 0)) throw new Error('B4: an app signed nobody in');
  });
}
