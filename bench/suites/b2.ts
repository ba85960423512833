/**
 * B2 (HTTP sign-in): POST /login through Express, express-session (memory store) and Passport,
 * RadiusStrategy against the bench responder vs passport-local with a fixed password; load from
 * autocannon; app CPU per sign-in from /proc.
 */
import { join } from 'node:path';
import { PASSWORD, procSample, ROOT, startChild, startCommand, USERNAME } from '../common';
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

interface B2Result {
  rows: B2Row[];
  ratio: number;
  cpuRatio: number;
}

interface B2Config {
  connections: number;
  durationS: number;
  reps: number;
  warmupS: number;
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
  },

  check(result, { smoke }) {
    return result.rows
      .filter((x) => x.requests === 0 || (smoke && (x.non2xx > 0 || x.errors > 0)))
      .map((x) => `B2 ${x.app}: ${x.requests} requests, ${x.non2xx} non-2xx, ${x.errors} errors`);
  },

  targets: (r) => [{ name: 'B2 sign-ins/s ÷ passport-local', goal: '≥ 0.70×', measured: `${f2(r.ratio)}× (app CPU per sign-in ${f2(r.cpuRatio)}×)`, met: r.ratio >= 0.7 }],

  summary: (r) => [`#### B2 ratio: RadiusStrategy ÷ passport-local sign-ins per second = **${f2(r.ratio)}×** (app CPU per sign-in ${f2(r.cpuRatio)}×)`, ''],

  details(r, _report, cfg) {
    const L = [`#### B2 absolute: POST /login, Express + express-session (memory store) + Passport; autocannon, ${cfg.connections} connections, ${cfg.durationS} s × ${cfg.reps}`, ''];
    L.push('| strategy | sign-ins/s | p50 ms | p99 ms | app CPU µs/sign-in | non-2xx | errors |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const x of r.rows) L.push(`| ${x.app === 'radius' ? 'RadiusStrategy → responder' : 'passport-local (fixed password)'} | ${f0(x.rps)} | ${f1(x.p50Ms)} | ${f1(x.p99Ms)} | ${f0(x.appCpuUsPerRequest)} | ${x.non2xx} | ${x.errors} |`);
    L.push('');
    return L;
  },
});
