/**
 * B1 (client core): every client in its own process against the bench responder (which checks each
 * request's Message-Authenticator and User-Password), closed loops at several concurrencies, repeated with
 * the order rotated; the median of the repetitions per client and concurrency.
 */
import type { LoadResult } from '../common';
import { PASSWORD, SECRET, USERNAME } from '../common';
import { radclientBaseline, runRadclient, type RadclientBaseline } from '../radclient';
import { defineSuite, f0, f1, f2, median, NAMES, ratio, responderStats, runNodeClient, startResponder, type Report, type Target } from '../suite';

/** One client at one concurrency. */
export interface B1Row extends LoadResult {
  /** Requests the responder found badly signed or with a wrong password during this run. */
  responderBad: number;
  runs: number;
}

interface B1Config {
  concurrency: number[];
  reps: number;
  durationMs: number;
  warmupMs: number;
  radclientMinRequests: number;
}

/** Key under which b1 leaves radclient's start-up baseline for later suites. */
export const RADCLIENT_BASELINE = 'radclientBaseline';

function aggregate(runs: B1Row[]): B1Row {
  const first = runs[0]!;
  return {
    ...first,
    runs: runs.length,
    requests: runs.reduce((n, r) => n + r.requests, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    warmupErrors: runs.reduce((n, r) => n + (r.warmupErrors ?? 0), 0),
    errorSamples: [...new Set(runs.flatMap((r) => r.errorSamples))].slice(0, 3),
    wallMs: runs.reduce((n, r) => n + r.wallMs, 0),
    rps: median(runs.map((r) => r.rps)),
    p50Ms: first.p50Ms === undefined ? undefined : median(runs.map((r) => r.p50Ms ?? Number.NaN)),
    p99Ms: first.p99Ms === undefined ? undefined : median(runs.map((r) => r.p99Ms ?? Number.NaN)),
    cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
    peakRssKiB: Math.max(...runs.map((r) => r.peakRssKiB)),
    maxFds: Math.max(...runs.map((r) => r.maxFds)),
    responderBad: runs.reduce((n, r) => n + r.responderBad, 0),
    notes: [...new Set(runs.map((r) => r.notes).filter(Boolean))].join('; ') || undefined,
  };
}

/** Harness failures of B1 rows (also used for the FreeRADIUS rows). */
export function checkB1Rows(rows: B1Row[], smoke: boolean): string[] {
  const failures: string[] = [];
  for (const x of rows) {
    if (x.requests === 0) failures.push(`${x.client} at ${x.concurrency}: no requests completed`);
    if (x.responderBad > 0) failures.push(`${x.client} at ${x.concurrency}: the responder saw ${x.responderBad} badly signed requests`);
    if (smoke && x.client !== 'nrc' && (x.errors > 0 || (x.warmupErrors ?? 0) > 0)) failures.push(`${x.client} at ${x.concurrency}: ${x.errors} errors (${x.errorSamples.join('; ')})`);
  }
  return failures;
}

/** The absolute table of B1 rows (also used for the FreeRADIUS rows). */
export function b1Table(rows: B1Row[], title: string): string[] {
  if (!rows.length) return [];
  const L = [title, '', '| client | in flight | req/s | p50 ms | p99 ms | CPU µs/req | peak RSS MiB | fds | errors | notes |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|'];
  for (const x of rows) {
    const err = `${x.errors}${x.requests ? ` (${((100 * x.errors) / x.requests).toFixed(2)}%)` : ''}`;
    const sample = x.errorSamples[0];
    const notes = [x.notes, x.responderBad ? `**${x.responderBad} bad packets**` : undefined, sample && sample.length > 90 ? `${sample.slice(0, 90)}…` : sample].filter(Boolean).join('; ');
    L.push(`| ${NAMES[x.client] ?? x.client} | ${x.concurrency} | ${f0(x.rps)} | ${f2(x.p50Ms)} | ${f2(x.p99Ms)} | ${f1(x.cpuUsPerRequest)} | ${f1(x.peakRssKiB / 1024)} | ${x.maxFds} | ${err} | ${notes} |`);
  }
  L.push('');
  return L;
}

export default defineSuite<B1Row[], B1Config>({
  name: 'b1',
  config: {
    smoke: { concurrency: [10], reps: 1, durationMs: 300, warmupMs: 100, radclientMinRequests: 200 },
    full: { concurrency: [1, 10, 100, 1000], reps: 3, durationMs: 3000, warmupMs: 500, radclientMinRequests: 5000 },
  },

  async run({ config: cfg, log, radclient, shared }) {
    const responder = await startResponder(['--verify', PASSWORD]);
    const clients = ['ours', 'limit', 'nrc', ...(radclient ? ['radclient'] : [])];
    const rows: B1Row[] = [];
    try {
      const baseline: RadclientBaseline | undefined = radclient ? await radclientBaseline(radclient, responder.port, SECRET, USERNAME, PASSWORD) : undefined;
      shared[RADCLIENT_BASELINE] = baseline;
      for (const concurrency of cfg.concurrency) {
        const runs = new Map<string, B1Row[]>();
        for (let rep = 0; rep < cfg.reps; rep++) {
          // Rotate the order so that no client always runs first or last.
          const order = clients.map((_, i) => clients[(i + rep) % clients.length]!);
          for (const kind of order) {
            await responderStats(responder.child, true);
            const r =
              kind === 'radclient'
                ? await runRadclient({ radclient: radclient!, port: responder.port, secret: SECRET, user: USERNAME, password: PASSWORD, concurrency, durationMs: cfg.durationMs, minRequests: cfg.radclientMinRequests, baseline: baseline! })
                : await runNodeClient(kind, responder.port, concurrency, cfg.durationMs, cfg.warmupMs);
            const stats = await responderStats(responder.child, false);
            const row: B1Row = { ...r, responderBad: stats.bad + stats.malformed, runs: 1 };
            log(`B1 ${kind} c=${concurrency}: ${Math.round(r.rps)} req/s, ${r.cpuUsPerRequest.toFixed(1)} µs CPU/req, ${r.errors} errors`);
            runs.set(kind, [...(runs.get(kind) ?? []), row]);
          }
        }
        for (const kind of clients) rows.push(aggregate(runs.get(kind)!));
      }
      return rows;
    } finally {
      await responder.child.kill();
    }
  },

  check: (rows, { smoke }) => checkB1Rows(rows, smoke),

  targets(rows): Target[] {
    const t: Target[] = [];
    const row = (client: string, c: number): B1Row | undefined => rows.find((x) => x.client === client && x.concurrency === c);
    const concs = [...new Set(rows.map((x) => x.concurrency))];
    if (concs.length === 0) return t;
    const tp = concs.map((c) => ({ c, v: (row('ours', c)?.rps ?? NaN) / (row('limit', c)?.rps ?? NaN) }));
    const worstTp = tp.reduce((a, b) => (b.v < a.v ? b : a));
    t.push({ name: 'B1 throughput ÷ limit', goal: '≥ 0.90× at every concurrency', measured: tp.map((x) => `${x.c}: ${f2(x.v)}×`).join(', '), met: worstTp.v >= 0.9 });
    const cpu = concs.map((c) => ({ c, v: (row('ours', c)?.cpuUsPerRequest ?? NaN) / (row('limit', c)?.cpuUsPerRequest ?? NaN) }));
    const worstCpu = cpu.reduce((a, b) => (b.v > a.v ? b : a));
    t.push({ name: 'B1 CPU per request ÷ limit', goal: '≤ 1.20× at every concurrency', measured: cpu.map((x) => `${x.c}: ${f2(x.v)}×`).join(', '), met: worstCpu.v <= 1.2 });
    const nrc = concs.map((c) => ({ c, v: (row('nrc', c)?.cpuUsPerRequest ?? NaN) / (row('ours', c)?.cpuUsPerRequest ?? NaN) }));
    t.push({ name: 'B1 CPU per request: node-radius-client ÷ ours', goal: '≥ 2×', measured: nrc.map((x) => `${x.c}: ${f2(x.v)}×`).join(', '), met: Math.min(...nrc.map((x) => x.v)) >= 2 });
    const at1000 = row('ours', 1000);
    if (at1000) {
      const warm = at1000.warmupErrors ?? 0;
      t.push({
        name: 'B1 errors at 1000 in flight',
        goal: '0',
        measured: `${at1000.errors} of ${f0(at1000.requests)} measured, ${warm} during warm-up${at1000.notes ? ` (${at1000.notes.replace(/; \d+ errors during warm-up/g, '')})` : ''}`,
        met: at1000.errors + warm === 0,
      });
    }
    const at100 = row('ours', 100);
    if (at100) t.push({ name: 'B1 p99 latency at 100 in flight', goal: '< 5 ms', measured: `${f2(at100.p99Ms)} ms (limit: ${f2(row('limit', 100)?.p99Ms)} ms)`, met: (at100.p99Ms ?? Infinity) < 5 });
    return t;
  },

  summary(rows) {
    const concs = [...new Set(rows.map((x) => x.concurrency))];
    if (!concs.length) return [];
    const row = (client: string, c: number): B1Row | undefined => rows.find((x) => x.client === client && x.concurrency === c);
    const L = ['#### B1 ratios: passport-radius RadiusClient ÷ each alternative (throughput: higher is better; CPU per request: lower is better)', ''];
    L.push('| in flight | req/s ÷ limit | CPU/req ÷ limit | req/s ÷ node-radius-client | CPU/req ÷ node-radius-client | req/s ÷ radclient | CPU/req ÷ radclient |');
    L.push('|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of concs) {
      const o = row('ours', c)!;
      const cell = (k: string): [string, string] => {
        const x = row(k, c);
        return x ? [ratio(o.rps, x.rps), ratio(o.cpuUsPerRequest, x.cpuUsPerRequest)] : ['n/a', 'n/a'];
      };
      L.push(`| ${c} | ${cell('limit').join(' | ')} | ${cell('nrc').join(' | ')} | ${cell('radclient').join(' | ')} |`);
    }
    L.push('');
    return L;
  },

  details: (rows, _report: Report, cfg) => b1Table(rows, `#### B1 absolute: against the bench responder (median of ${cfg.reps} run${cfg.reps > 1 ? 's' : ''} of ${cfg.durationMs / 1000} s; errors summed)`),
});
