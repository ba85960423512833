/**
 * The benchmark: B1 (client core), B2 (HTTP sign-in), B3 (scaling), and a CPU profile of the client.
 *
 *   npm run bench          full run (~6 minutes on 2 cores); writes bench/results/latest.{md,json}
 *   npm run bench:smoke    seconds; tiny counts, every installed client; exits 1 if the harness is broken
 *
 * Options: --smoke, --out DIR (default bench/results; the smoke run writes nothing unless given),
 * --only b1,b2,b3,profile, --render FILE.json (print the Markdown of a saved run, and with --out rewrite it there, then exit).
 *
 * Every client runs in its own process against the same responder process (bench/responder.ts), which
 * checks each request's Message-Authenticator and User-Password; radclient and FreeRADIUS come from the
 * freeradius-utils and freeradius Debian packages and are skipped (and said so) when not installed.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { PASSWORD, ROOT, SECRET, startChild, startCommand, USERNAME, procSample, type Child, type LoadResult } from './common';
import { freeradiusBin, freeradiusInstalled, startBenchFreeRadius } from './freeradius';
import { summariseProfile, type ProfileSummary } from './profile';
import { radclientBaseline, radclientPath, runRadclient, type RadclientBaseline } from './radclient';
import type { ScalingLevel } from './scaling';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string', default: 'b1,b2,b3,profile' },
    render: { type: 'string' },
  },
});
const smoke = values.smoke;
const only = new Set(values.only.split(','));

const CONFIG = smoke
  ? {
      b1: { concurrency: [10], reps: 1, durationMs: 300, warmupMs: 100, radclientMinRequests: 200 },
      fr: { clients: ['ours'], concurrency: [10], durationMs: 300 },
      b2: { connections: 5, durationS: 1, reps: 1, warmupS: 0 },
      b3: { levels: '1,50', delayMs: 100, durationMs: 300 },
      profile: false,
    }
  : {
      b1: { concurrency: [1, 10, 100, 1000], reps: 3, durationMs: 3000, warmupMs: 500, radclientMinRequests: 5000 },
      fr: { clients: ['ours', 'limit', 'radclient'], concurrency: [10, 100], durationMs: 3000 },
      b2: { connections: 50, durationS: 8, reps: 2, warmupS: 1 },
      b3: { levels: '1,10,100,1000,5000', delayMs: 1000, durationMs: 2000 },
      profile: true,
    };

/** Display names of the clients. */
const NAMES: Record<string, string> = {
  ours: 'passport-radius RadiusClient',
  limit: 'limit (minimal correct Node client)',
  nrc: 'node-radius-client 1.0.0',
  radclient: 'radclient (FreeRADIUS 3, C)',
};

interface B1Row extends LoadResult {
  /** Requests the responder found badly signed or with a wrong password during this run. */
  responderBad: number;
  runs: number;
}
interface B2Row {
  app: 'radius' | 'local';
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of the app process per sign-in, µs (user + system). */
  appCpuUsPerRequest: number;
  requests: number;
  non2xx: number;
  errors: number;
}
interface B3Result {
  client: string;
  delayMs: number;
  fdsBefore: number;
  fdsAfter: number;
  socketsAfter: number;
  levels: ScalingLevel[];
}
interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean | undefined;
}

const failures: string[] = [];
const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function startResponder(extra: string[] = []): Promise<{ child: Child; port: number }> {
  const child = startChild('responder.ts', ['--secret', SECRET, ...extra]);
  const { port } = await child.firstJson<{ port: number }>();
  return { child, port };
}

type Stats = { received: number; answered: number; bad: number; malformed: number };
async function responderStats(child: Child, reset: boolean): Promise<Stats> {
  return (await child.ask<{ stats: Stats }>({ cmd: reset ? 'reset' : 'stats' })).stats;
}

async function runNodeClient(kind: string, port: number, concurrency: number, durationMs: number, warmupMs: number, execArgv: string[] = []): Promise<LoadResult> {
  const child = startChild('load.ts', ['--client', kind, '--port', String(port), '--concurrency', String(concurrency), '--duration', String(durationMs), '--warmup', String(warmupMs)], execArgv);
  try {
    const result = await child.firstJson<LoadResult>(durationMs + warmupMs + 60_000);
    await child.exited;
    return result;
  } finally {
    await child.kill();
  }
}

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

/** B1 against the bench responder. */
async function b1(radclient: string | undefined): Promise<{ rows: B1Row[]; baseline: RadclientBaseline | undefined }> {
  const cfg = CONFIG.b1;
  const responder = await startResponder(['--verify', PASSWORD]);
  const clients = ['ours', 'limit', 'nrc', ...(radclient ? ['radclient'] : [])];
  const rows: B1Row[] = [];
  try {
    const baseline = radclient ? await radclientBaseline(radclient, responder.port, SECRET, USERNAME, PASSWORD) : undefined;
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
    return { rows, baseline };
  } finally {
    await responder.child.kill();
  }
}

/** B1 against FreeRADIUS started without debug output. */
async function b1FreeRadius(radclient: string | undefined, baseline: RadclientBaseline | undefined): Promise<B1Row[]> {
  const cfg = CONFIG.fr;
  const server = await startBenchFreeRadius(SECRET);
  const rows: B1Row[] = [];
  try {
    for (const concurrency of cfg.concurrency) {
      for (const kind of cfg.clients) {
        if (kind === 'radclient' && (!radclient || !baseline)) continue;
        const cpuBefore = procSample(server.pid)?.cpuUs ?? Number.NaN;
        const r =
          kind === 'radclient'
            ? await runRadclient({ radclient: radclient!, port: server.port, secret: SECRET, user: USERNAME, password: PASSWORD, concurrency, durationMs: cfg.durationMs, minRequests: 200, baseline: baseline! })
            : await runNodeClient(kind, server.port, concurrency, cfg.durationMs, 300);
        const cpuAfter = procSample(server.pid)?.cpuUs ?? Number.NaN;
        const serverCpu = (cpuAfter - cpuBefore) / Math.max(1, r.requests);
        log(`FreeRADIUS ${kind} c=${concurrency}: ${Math.round(r.rps)} req/s, ${r.errors} errors`);
        rows.push({ ...r, responderBad: 0, runs: 1, notes: [r.notes, `FreeRADIUS ≈${serverCpu.toFixed(0)} µs CPU/req (incl. warm-up)`].filter(Boolean).join('; ') });
      }
    }
  } finally {
    await server.stop();
  }
  return rows;
}

/** B2: HTTP sign-in through Passport, RadiusStrategy vs passport-local, load from autocannon. */
async function b2(): Promise<{ rows: B2Row[]; ratio: number; cpuRatio: number }> {
  const cfg = CONFIG.b2;
  const responder = await startResponder();
  const apps = {
    local: startChild('http-app.ts', ['--mode', 'local']),
    radius: startChild('http-app.ts', ['--mode', 'radius', '--radius-port', String(responder.port)]),
  };
  const autocannon = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
  const runs: Record<'local' | 'radius', B2Row[]> = { local: [], radius: [] };
  try {
    const ports = { local: (await apps.local.firstJson<{ port: number }>()).port, radius: (await apps.radius.firstJson<{ port: number }>()).port };
    const load = async (mode: 'local' | 'radius', seconds: number): Promise<B2Row> => {
      const pid = apps[mode].proc.pid!;
      const before = procSample(pid)?.cpuUs ?? Number.NaN;
      const child = startCommand(process.execPath, [
        autocannon,
        '-c', String(cfg.connections),
        '-d', String(seconds),
        '-m', 'POST',
        '-H', 'content-type=application/x-www-form-urlencoded',
        '-b', `username=${USERNAME}&password=${encodeURIComponent(PASSWORD)}`,
        '--json',
        `http://127.0.0.1:${ports[mode]}/login`,
      ]);
      const out = await child.firstJson<{
        requests: { average: number; total: number };
        latency: { p50: number; p99: number };
        non2xx: number;
        errors: number;
        timeouts: number;
        duration: number;
      }>(seconds * 1000 + 30_000);
      await child.exited;
      const after = procSample(pid)?.cpuUs ?? Number.NaN;
      const total = out.requests.total;
      return {
        app: mode,
        rps: total / out.duration,
        p50Ms: out.latency.p50,
        p99Ms: out.latency.p99,
        appCpuUsPerRequest: (after - before) / Math.max(1, total),
        requests: total,
        non2xx: out.non2xx,
        errors: out.errors + out.timeouts,
      };
    };
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (const mode of rep % 2 === 0 ? (['local', 'radius'] as const) : (['radius', 'local'] as const)) {
        if (cfg.warmupS > 0 && rep === 0) await load(mode, cfg.warmupS);
        const row = await load(mode, cfg.durationS);
        log(`B2 ${mode}: ${Math.round(row.rps)} sign-ins/s, ${row.appCpuUsPerRequest.toFixed(0)} µs app CPU each, ${row.non2xx} non-2xx`);
        runs[mode].push(row);
      }
    }
  } finally {
    await Promise.all([apps.local.kill(), apps.radius.kill(), responder.child.kill()]);
  }
  const agg = (rs: B2Row[]): B2Row => ({
    app: rs[0]!.app,
    rps: median(rs.map((r) => r.rps)),
    p50Ms: median(rs.map((r) => r.p50Ms)),
    p99Ms: median(rs.map((r) => r.p99Ms)),
    appCpuUsPerRequest: median(rs.map((r) => r.appCpuUsPerRequest)),
    requests: rs.reduce((n, r) => n + r.requests, 0),
    non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
    errors: rs.reduce((n, r) => n + r.errors, 0),
  });
  const local = agg(runs.local);
  const radius = agg(runs.radius);
  return { rows: [radius, local], ratio: radius.rps / local.rps, cpuRatio: radius.appCpuUsPerRequest / local.appCpuUsPerRequest };
}

/** B3: heap per request in flight, throughput, sockets and descriptors from 1 to 5000 in flight. */
async function b3(): Promise<B3Result[]> {
  const cfg = CONFIG.b3;
  const fast = await startResponder();
  const slow = await startResponder(['--delay', String(cfg.delayMs)]);
  const results: B3Result[] = [];
  try {
    for (const client of ['ours', 'limit']) {
      const child = startChild(
        'scaling.ts',
        ['--client', client, '--port', String(fast.port), '--delay-port', String(slow.port), '--delay', String(cfg.delayMs), '--levels', cfg.levels, '--duration', String(cfg.durationMs)],
        ['--expose-gc'],
      );
      try {
        const r = await child.firstJson<B3Result>(180_000);
        for (const l of r.levels) log(`B3 ${client} ${l.inFlight} in flight: ${Math.round(l.heapBytesPerInFlight)} B heap each, ${Math.round(l.rps)} req/s, ${l.sockets} sockets, ${l.fds} fds`);
        results.push(r);
      } finally {
        await child.kill();
      }
    }
  } finally {
    await Promise.all([fast.child.kill(), slow.child.kill()]);
  }
  return results;
}

/** CPU profiles (`node --cpu-prof`) of RadiusClient and the limit client at 100 in flight. */
async function profiles(): Promise<Record<string, ProfileSummary>> {
  const responder = await startResponder();
  const out: Record<string, ProfileSummary> = {};
  try {
    for (const kind of ['ours', 'limit']) {
      const dir = mkdtempSync(join(tmpdir(), 'passport-radius-bench-prof-'));
      try {
        await runNodeClient(kind, responder.port, 100, 3000, 500, ['--cpu-prof', '--cpu-prof-dir', dir]);
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        if (file) out[kind] = summariseProfile(join(dir, file), 15);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await responder.child.kill();
  }
  return out;
}

/* ------------------------------------------------------------------------------------------------ */
/* Report                                                                                           */
/* ------------------------------------------------------------------------------------------------ */

const f0 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : Math.round(x).toLocaleString('en-US'));
const f1 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(1));
const f2 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(2));
const ratio = (a: number, b: number): string => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');

function version(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return /version (\d+\.\d+\.\d+)/i.exec(text)?.[1];
}

interface Report {
  kind: 'full' | 'smoke';
  date: string;
  machine: { cores: number; cpu: string; memoryGiB: number; node: string; kernel: string; freeradius: string | undefined; radclient: string | undefined; timeBin: boolean; loadAverageBefore: number; loadAverageAfter?: number };
  config: typeof CONFIG;
  b1: B1Row[];
  b1FreeRadius: B1Row[];
  b2: { rows: B2Row[]; ratio: number; cpuRatio: number } | undefined;
  b3: B3Result[];
  profiles: Record<string, ProfileSummary>;
  targets: Target[];
  skipped: string[];
}

function targets(r: Report): Target[] {
  const t: Target[] = [];
  const row = (client: string, c: number): B1Row | undefined => r.b1.find((x) => x.client === client && x.concurrency === c);
  const concs = [...new Set(r.b1.map((x) => x.concurrency))];
  if (concs.length > 0) {
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
  }
  if (r.b2) t.push({ name: 'B2 sign-ins/s ÷ passport-local', goal: '≥ 0.70×', measured: `${f2(r.b2.ratio)}× (app CPU per sign-in ${f2(r.b2.cpuRatio)}×)`, met: r.b2.ratio >= 0.7 });
  const ours3 = r.b3.find((x) => x.client === 'ours');
  const top = ours3?.levels.at(-1);
  if (ours3 && top) {
    t.push({ name: `B3 heap per request in flight at ${top.inFlight}`, goal: '≤ 2048 B', measured: `${f0(top.heapBytesPerInFlight)} B (+${f0(top.externalBytesPerInFlight)} B buffers; limit ${f0(r.b3.find((x) => x.client === 'limit')?.levels.at(-1)?.heapBytesPerInFlight)} B)`, met: top.heapBytesPerInFlight <= 2048 });
    const grows = ours3.levels.some((l) => l.fdsWindowEnd > l.fdsWindowStart) || ours3.fdsAfter > ours3.fdsBefore;
    t.push({
      name: 'B3 descriptors independent of the request count',
      goal: 'no growth over a run; sockets ≤ ⌈in flight ÷ 256⌉',
      measured: `${top.windowRequests.toLocaleString('en-US')} requests: fds ${top.fdsWindowStart} → ${top.fdsWindowEnd}; ${top.sockets} sockets at ${top.inFlight}; idle after: ${ours3.socketsAfter} sockets`,
      met: !grows && ours3.levels.every((l) => l.sockets <= Math.ceil(l.inFlight / 256)),
    });
  }
  return t;
}

function markdown(r: Report): string {
  const L: string[] = [];
  const m = r.machine;
  L.push(`### Benchmark results (${r.kind === 'smoke' ? 'smoke run: tiny counts, not representative' : 'full run'}, ${r.date})`, '');
  L.push(`Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; FreeRADIUS ${m.freeradius ?? 'not installed'}, radclient ${m.radclient ?? 'not installed'}. Client, responder and load generator share these cores; 1-minute load average ${f2(m.loadAverageBefore)} before the run, ${f2(m.loadAverageAfter)} after (other work on the machine skews the numbers).`, '');
  const concs = [...new Set(r.b1.map((x) => x.concurrency))];
  const row = (client: string, c: number): B1Row | undefined => r.b1.find((x) => x.client === client && x.concurrency === c);
  if (concs.length) {
    L.push('#### B1 ratios: passport-radius RadiusClient ÷ each alternative (throughput: higher is better; CPU per request: lower is better)', '');
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
  }
  if (r.b2) L.push(`#### B2 ratio: RadiusStrategy ÷ passport-local sign-ins per second = **${f2(r.b2.ratio)}×** (app CPU per sign-in ${f2(r.b2.cpuRatio)}×)`, '');
  if (r.targets.length && r.kind === 'full') {
    L.push('#### Targets (issue 7)', '', '| target | goal | measured | met |', '|---|---|---|---|');
    for (const t of r.targets) L.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met === undefined ? '—' : t.met ? 'yes' : '**no**'} |`);
    L.push('');
  }
  const b1Table = (rows: B1Row[], title: string): void => {
    if (!rows.length) return;
    L.push(title, '', '| client | in flight | req/s | p50 ms | p99 ms | CPU µs/req | peak RSS MiB | fds | errors | notes |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const x of rows) {
      const err = `${x.errors}${x.requests ? ` (${((100 * x.errors) / x.requests).toFixed(2)}%)` : ''}`;
      const sample = x.errorSamples[0];
      const notes = [x.notes, x.responderBad ? `**${x.responderBad} bad packets**` : undefined, sample && sample.length > 90 ? `${sample.slice(0, 90)}…` : sample].filter(Boolean).join('; ');
      L.push(`| ${NAMES[x.client] ?? x.client} | ${x.concurrency} | ${f0(x.rps)} | ${f2(x.p50Ms)} | ${f2(x.p99Ms)} | ${f1(x.cpuUsPerRequest)} | ${f1(x.peakRssKiB / 1024)} | ${x.maxFds} | ${err} | ${notes} |`);
    }
    L.push('');
  };
  b1Table(r.b1, `#### B1 absolute: against the bench responder (median of ${r.config.b1.reps} run${r.config.b1.reps > 1 ? 's' : ''} of ${r.config.b1.durationMs / 1000} s; errors summed)`);
  b1Table(r.b1FreeRadius, '#### B1 against FreeRADIUS 3 without debug output (test config: one worker thread)');
  if (r.b2) {
    L.push(`#### B2 absolute: POST /login, Express + express-session (memory store) + Passport; autocannon, ${r.config.b2.connections} connections, ${r.config.b2.durationS} s × ${r.config.b2.reps}`, '');
    L.push('| strategy | sign-ins/s | p50 ms | p99 ms | app CPU µs/sign-in | non-2xx | errors |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const x of r.b2.rows) L.push(`| ${x.app === 'radius' ? 'RadiusStrategy → responder' : 'passport-local (fixed password)'} | ${f0(x.rps)} | ${f1(x.p50Ms)} | ${f1(x.p99Ms)} | ${f0(x.appCpuUsPerRequest)} | ${x.non2xx} | ${x.errors} |`);
    L.push('');
  }
  if (r.b3.length) {
    L.push(`#### B3 scaling (heap: responder answering ${r.config.b3.delayMs} ms late; throughput: undelayed, ${r.config.b3.durationMs / 1000} s)`, '');
    L.push('| client | in flight | heap B / in flight | buffers B / in flight | req/s | p99 ms | CPU µs/req | UDP sockets | fds | fds over the run | errors | notes |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
    for (const c of r.b3) {
      for (const l of c.levels) {
        const heap = l.inFlight < 1000 ? `(${f0(l.heapBytesPerInFlight)})` : f0(l.heapBytesPerInFlight);
        L.push(`| ${NAMES[c.client] ?? c.client} | ${l.inFlight} | ${heap} | ${f0(l.externalBytesPerInFlight)} | ${f0(l.rps)} | ${f2(l.p99Ms)} | ${f1(l.cpuUsPerRequest)} | ${l.sockets} | ${l.fds} | ${l.fdsWindowStart} → ${l.fdsWindowEnd} after ${l.windowRequests.toLocaleString('en-US')} req | ${l.errors} | ${l.notes ?? ''} |`);
      }
    }
    L.push('', 'Heap per request below 1000 in flight is within GC noise (a few hundred KB; shown in parentheses).', '');
  }
  for (const [kind, p] of Object.entries(r.profiles)) {
    L.push(`#### CPU profile: ${NAMES[kind] ?? kind}, 100 in flight (\`node --cpu-prof\`, self time, % of ${f0(p.sampledMs)} ms busy)`, '');
    L.push('| function | self % |', '|---|---:|');
    for (const x of p.functions.slice(0, 12)) L.push(`| \`${x.name}\` | ${f1(x.selfPercent)} |`);
    L.push('', `By file: ${p.files.slice(0, 8).map((x) => `${x.name} ${f1(x.selfPercent)}%`).join(', ')}`, '');
  }
  if (r.skipped.length) L.push(`Skipped: ${r.skipped.join('; ')}.`, '');
  L.push('Reproduce: `npm run bench` (full, ~6 min on 2 cores) or `npm run bench:smoke` (seconds). Needs `freeradius` and `freeradius-utils` (Debian) for the radclient and FreeRADIUS rows; `/usr/bin/time` (Debian `time`) for radclient\'s CPU and RSS.');
  return `${L.join('\n')}\n`;
}

/* ------------------------------------------------------------------------------------------------ */

async function main(): Promise<void> {
  if (values.render) {
    // Re-renders a saved latest.json (e.g. after a change to the report's layout), recomputing targets.
    const saved = JSON.parse(readFileSync(values.render, 'utf8')) as Report;
    saved.targets = targets(saved);
    const text = markdown(saved);
    process.stdout.write(text);
    if (values.out) {
      writeFileSync(join(values.out, 'latest.md'), text);
      writeFileSync(join(values.out, 'latest.json'), `${JSON.stringify(saved, null, 2)}\n`);
    }
    return;
  }
  const started = Date.now();
  const radclient = radclientPath();
  const skipped: string[] = [];
  if (!radclient) skipped.push('radclient (install freeradius-utils)');
  if (!freeradiusInstalled()) skipped.push('FreeRADIUS rows (install freeradius)');
  const report: Report = {
    kind: smoke ? 'smoke' : 'full',
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      kernel: release(),
      freeradius: freeradiusInstalled() ? version(freeradiusBin()!, ['-v']) : undefined,
      radclient: radclient ? version(radclient, ['-v']) : undefined,
      timeBin: spawnSync('sh', ['-c', 'test -x /usr/bin/time']).status === 0,
      loadAverageBefore: loadavg()[0]!,
    },
    config: CONFIG,
    b1: [],
    b1FreeRadius: [],
    b2: undefined,
    b3: [],
    profiles: {},
    targets: [],
    skipped,
  };
  let baseline: RadclientBaseline | undefined;
  if (only.has('b1')) ({ rows: report.b1, baseline } = await b1(radclient));
  if (only.has('b1') && freeradiusInstalled()) report.b1FreeRadius = await b1FreeRadius(radclient, baseline);
  if (only.has('b2')) report.b2 = await b2();
  if (only.has('b3')) report.b3 = await b3();
  if (only.has('profile') && CONFIG.profile) report.profiles = await profiles();
  report.machine.loadAverageAfter = loadavg()[0]!;
  report.targets = targets(report);

  // Harness checks: every client produced results, and the correct clients produced no errors.
  for (const x of [...report.b1, ...report.b1FreeRadius]) {
    if (x.requests === 0) failures.push(`${x.client} at ${x.concurrency}: no requests completed`);
    if (x.responderBad > 0) failures.push(`${x.client} at ${x.concurrency}: the responder saw ${x.responderBad} badly signed requests`);
    if (smoke && x.client !== 'nrc' && (x.errors > 0 || (x.warmupErrors ?? 0) > 0)) failures.push(`${x.client} at ${x.concurrency}: ${x.errors} errors (${x.errorSamples.join('; ')})`);
  }
  for (const x of report.b2?.rows ?? []) if (x.requests === 0 || (smoke && (x.non2xx > 0 || x.errors > 0))) failures.push(`B2 ${x.app}: ${x.requests} requests, ${x.non2xx} non-2xx, ${x.errors} errors`);
  for (const c of report.b3) for (const l of c.levels) if (l.windowRequests === 0 || (smoke && l.errors > 0)) failures.push(`B3 ${c.client} at ${l.inFlight}: ${l.windowRequests} requests, ${l.errors} errors`);

  const md = markdown(report);
  process.stdout.write(md);
  const outDir = values.out ?? (smoke ? undefined : join(ROOT, 'bench', 'results'));
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'latest.md'), md);
    writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${join(outDir, 'latest.md')} and latest.json`);
  }
  log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  if (failures.length) {
    for (const f of failures) log(`FAILED: ${f}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error('bench: harness failed:', err);
  process.exitCode = 1;
});
