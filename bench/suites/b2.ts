/**
 * B2 (HTTP sign-in): POST /login through Express, express-session (memory store) and Passport,
 * RadiusStrategy against the bench responder vs passport-local with a fixed password; load from
 * autocannon; app CPU per sign-in from /proc.
 *
 * Two placements, each app measured the same way in both:
 * - **pinned** (the headline, when `taskset` works and there are 2 CPUs or more): the app under test alone
 *   on CPU 0; autocannon and the responder on the other CPUs. As deployed, the RADIUS server and the
 *   clients do not run on the app's core. Left to the scheduler on 2 cores, each Access-Request wakes the
 *   responder on the app's own core (wake-affine), and the app's throughput then pays for the responder.
 * - **shared**: everything on every CPU, as the scheduler places it (the measurement before pinning).
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { PASSWORD, pinProcess, procSample, ROOT, startChild, startCommand, USERNAME } from '../common';
import { defineSuite, f0, f1, f2, median, startResponder } from '../suite';

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

interface B2Placement {
  /** `pinned`: the app alone on CPU 0; `shared`: every process on every CPU. */
  placement: 'pinned' | 'shared';
  rows: B2Row[];
  ratio: number;
  cpuRatio: number;
}

interface B2Result extends B2Placement {
  /** Every placement measured; the result's own fields are the first one's (pinned when possible). */
  placements?: B2Placement[];
}

interface B2Config {
  connections: number;
  durationS: number;
  reps: number;
  warmupS: number;
}

/** Medians of repeated runs of one app (counts summed). */
function aggregate(rs: B2Row[]): B2Row {
  return {
    app: rs[0]!.app,
    rps: median(rs.map((r) => r.rps)),
    p50Ms: median(rs.map((r) => r.p50Ms)),
    p99Ms: median(rs.map((r) => r.p99Ms)),
    appCpuUsPerRequest: median(rs.map((r) => r.appCpuUsPerRequest)),
    requests: rs.reduce((n, r) => n + r.requests, 0),
    non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
    errors: rs.reduce((n, r) => n + r.errors, 0),
  };
}

export default defineSuite<B2Result, B2Config>({
  name: 'b2',
  config: {
    smoke: { connections: 5, durationS: 1, reps: 1, warmupS: 0 },
    full: { connections: 50, durationS: 8, reps: 2, warmupS: 1 },
  },

  async run({ config: cfg, log }) {
    const responder = await startResponder();
    const apps = {
      local: startChild('http-app.ts', ['--mode', 'local']),
      radius: startChild('http-app.ts', ['--mode', 'radius', '--radius-port', String(responder.port)]),
    };
    const autocannon = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
    const all = `0-${cpus().length - 1}`;
    const others = cpus().length > 2 ? `1-${cpus().length - 1}` : '1';
    const placements: B2Placement[] = [];
    try {
      const ports = { local: (await apps.local.firstJson<{ port: number }>()).port, radius: (await apps.radius.firstJson<{ port: number }>()).port };
      const place = (placement: B2Placement['placement']): boolean => {
        const pids = [apps.local.proc.pid!, apps.radius.proc.pid!, responder.child.proc.pid!];
        if (placement === 'shared') return pids.every((pid) => pinProcess(pid, all));
        return cpus().length >= 2 && pinProcess(apps.local.proc.pid!, '0') && pinProcess(apps.radius.proc.pid!, '0') && pinProcess(responder.child.proc.pid!, others);
      };
      const load = async (mode: 'local' | 'radius', seconds: number, placement: B2Placement['placement']): Promise<B2Row> => {
        const pid = apps[mode].proc.pid!;
        const before = procSample(pid)?.cpuUs ?? Number.NaN;
        const args = [
          autocannon,
          '-c', String(cfg.connections),
          '-d', String(seconds),
          '-m', 'POST',
          '-H', 'content-type=application/x-www-form-urlencoded',
          '-b', `username=${USERNAME}&password=${encodeURIComponent(PASSWORD)}`,
          '--json',
          `http://127.0.0.1:${ports[mode]}/login`,
        ];
        const child = placement === 'pinned' ? startCommand('taskset', ['-c', others, process.execPath, ...args]) : startCommand(process.execPath, args);
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
      for (const placement of ['pinned', 'shared'] as const) {
        if (!place(placement)) {
          log(`B2 ${placement}: cannot place the processes (taskset missing or one CPU): skipped`);
          continue;
        }
        const runs: Record<'local' | 'radius', B2Row[]> = { local: [], radius: [] };
        for (let rep = 0; rep < cfg.reps; rep++) {
          for (const mode of rep % 2 === 0 ? (['local', 'radius'] as const) : (['radius', 'local'] as const)) {
            if (cfg.warmupS > 0 && rep === 0) await load(mode, cfg.warmupS, placement);
            const row = await load(mode, cfg.durationS, placement);
            log(`B2 ${placement} ${mode}: ${Math.round(row.rps)} sign-ins/s, ${row.appCpuUsPerRequest.toFixed(0)} µs app CPU each, ${row.non2xx} non-2xx`);
            runs[mode].push(row);
          }
        }
        const local = aggregate(runs.local);
        const radius = aggregate(runs.radius);
        placements.push({ placement, rows: [radius, local], ratio: radius.rps / local.rps, cpuRatio: radius.appCpuUsPerRequest / local.appCpuUsPerRequest });
      }
    } finally {
      await Promise.all([apps.local.kill(), apps.radius.kill(), responder.child.kill()]);
    }
    const [first] = placements;
    if (!first) throw new Error('B2: no placement could be measured');
    return { ...first, placements };
  },

  check(result, { smoke }) {
    return (result.placements ?? [result])
      .flatMap((p) => p.rows.map((x) => ({ x, p: p.placement ?? 'shared' })))
      .filter(({ x }) => x.requests === 0 || (smoke && (x.non2xx > 0 || x.errors > 0)))
      .map(({ x, p }) => `B2 ${p} ${x.app}: ${x.requests} requests, ${x.non2xx} non-2xx, ${x.errors} errors`);
  },

  targets: (r) => [
    {
      name: 'B2 sign-ins/s ÷ passport-local',
      goal: '≥ 0.80×',
      measured: `${f2(r.ratio)}× ${r.placement ?? 'shared'} (app CPU per sign-in ${f2(r.cpuRatio)}×)${others(r)}`,
      met: r.ratio >= 0.8,
    },
  ],

  summary: (r) => [`#### B2 ratio: RadiusStrategy ÷ passport-local sign-ins per second = **${f2(r.ratio)}×** ${r.placement ?? 'shared'} (app CPU per sign-in ${f2(r.cpuRatio)}×)${others(r)}`, ''],

  details(r, _report, cfg) {
    const L: string[] = [];
    for (const p of r.placements ?? [r]) {
      const where = p.placement === 'pinned' ? 'the app alone on CPU 0, autocannon and the responder on the others' : 'every process on every CPU';
      L.push(`#### B2 absolute (${p.placement ?? 'shared'}: ${where}): POST /login, Express + express-session (memory store) + Passport; autocannon, ${cfg.connections} connections, ${cfg.durationS} s × ${cfg.reps}`, '');
      L.push('| strategy | sign-ins/s | p50 ms | p99 ms | app CPU µs/sign-in | non-2xx | errors |', '|---|---:|---:|---:|---:|---:|---:|');
      for (const x of p.rows) L.push(`| ${x.app === 'radius' ? 'RadiusStrategy → responder' : 'passport-local (fixed password)'} | ${f0(x.rps)} | ${f1(x.p50Ms)} | ${f1(x.p99Ms)} | ${f0(x.appCpuUsPerRequest)} | ${x.non2xx} | ${x.errors} |`);
      L.push('');
    }
    return L;
  },
});

/** The other placements' ratios, for the summary line. */
function others(r: B2Result): string {
  const rest = (r.placements ?? []).filter((p) => p.placement !== r.placement);
  return rest.map((p) => `; ${p.placement}: ${f2(p.ratio)}× (CPU ${f2(p.cpuRatio)}×)`).join('');
}
