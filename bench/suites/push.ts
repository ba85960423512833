/**
 * B4: sign-ins held by a push server (issue 12). `count` concurrent sign-ins through HTTP (Express +
 * express-session + Passport, bench/push-app.ts) against the bench responder answering every
 * Access-Request `holdMs` late, as a two-factor server holds the request until the user approves on the
 * phone. Side by side: RadiusStrategy (timeout 60 s) and the same app with a minimal strategy around the
 * limit client (bench/limit-client.ts), held the same way.
 *
 * For each app: memory after a full GC when idle, then with every sign-in held (all Access-Requests
 * received by the responder, none answered yet): (heapUsed + external) growth ÷ count and RSS growth ÷
 * count; event-loop delay (how much later than due a 10 ms timer fired: p50, p99, max) while the sign-ins
 * arrive and while they are answered, leaving out the forced GC of the memory sample; errors (anything but
 * 200, socket errors, requests the responder found badly signed); and the sign-ins' latency.
 *
 *   npm run bench:push     the full B4 alone (10,000 held 20 s, about 1.5 minutes); writes bench/results/push/
 */
import { Agent, request } from 'node:http';
import { PASSWORD, percentile, sleep, startChild, type Child } from '../common';
import { defineSuite, responderStats, startResponder } from '../suite';

interface PushConfig {
  /** Concurrent sign-ins. */
  count: number;
  /** How long the responder holds each Access-Request, ms. */
  holdMs: number;
}

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

/** Sends one sign-in; resolves with its status (or an error code) and its latency. */
function signIn(port: number, agent: Agent, i: number, holdMs: number): Promise<{ outcome: string; ms: number }> {
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
    req.setTimeout(holdMs + 60_000);
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ outcome: err.code ?? err.message, ms: performance.now() - started }));
    req.end(body);
  });
}

async function runApp(mode: 'radius' | 'limit', responder: Child, radiusPort: number, config: PushConfig): Promise<PushRow> {
  const { count: COUNT, holdMs: HOLD_MS } = config;
  const app = startChild('push-app.ts', ['--mode', mode, '--radius-port', String(radiusPort)], ['--expose-gc']);
  try {
    const { port } = await app.firstJson<{ port: number }>();
    // Warm up: a few sign-ins so that code is compiled and sockets exist before measuring.
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(port, agent, i, HOLD_MS)));
    await responderStats(responder, true);
    const idle = await app.ask<Memory>({ cmd: 'sample' }, 30_000);
    await app.ask({ cmd: 'loop-reset' });

    const started = performance.now();
    const pending = Array.from({ length: COUNT }, (_, i) => signIn(port, agent, i, HOLD_MS));
    let rampMs = Number.NaN;
    for (;;) {
      const stats = await responderStats(responder, false);
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
    const stats = await responderStats(responder, false);
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
function renderPush(rows: readonly PushRow[]): string[] {
  const kib = (b: number): string => (b / 1024).toFixed(1);
  const lines = [
    `#### B4: ${rows[0]?.count ?? 0} concurrent sign-ins through HTTP held ${((rows[0]?.holdMs ?? 0) / 1000).toFixed(0)} s by a push-like responder`,
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
  return lines;
}

export default defineSuite<PushRow[], PushConfig>({
  name: 'push',
  config: { smoke: { count: 200, holdMs: 1000 }, full: { count: 10_000, holdMs: 20_000 } },
  async run({ config, log }) {
    const { child, port } = await startResponder(['--delay', String(config.holdMs), '--verify', PASSWORD]);
    try {
      const rows: PushRow[] = [];
      for (const mode of ['radius', 'limit'] as const) {
        log(`push: ${config.count} sign-ins held ${config.holdMs} ms through ${mode}`);
        rows.push(await runApp(mode, child, port, config));
      }
      return rows;
    } finally {
      await child.kill();
    }
  },
  check(rows) {
    return rows.filter((r) => r.errors > 0).map((r) => `push: ${r.app} had ${r.errors} errors (${JSON.stringify(r.errorKinds)})`);
  },
  details(rows) {
    return renderPush(rows);
  },
});
