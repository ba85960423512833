/**
 * The benchmark report: latest.json (a {@link Report}) and its Markdown. The machine line, then each
 * suite's summary (ratios), the targets table, each suite's details, what was skipped, how to reproduce.
 */
import { f2, type Report, type Suite, type Target } from './suite';

/** The targets of every suite that has a result, in suite order. */
export function computeTargets(report: Report, suites: readonly Suite[]): Target[] {
  const targets: Target[] = [];
  for (const suite of suites) {
    const result = report.results[suite.name];
    if (result !== undefined && suite.targets) targets.push(...suite.targets(result, report));
  }
  return targets;
}

/** The Markdown of a run. */
export function markdown(report: Report, suites: readonly Suite[]): string {
  const L: string[] = [];
  const m = report.machine;
  L.push(`### Benchmark results (${report.kind === 'smoke' ? 'smoke run: tiny counts, not representative' : 'full run'}, ${report.date})`, '');
  L.push(`Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; FreeRADIUS ${m.freeradius ?? 'not installed'}, radclient ${m.radclient ?? 'not installed'}. Client, responder and load generator share these cores; 1-minute load average ${f2(m.loadAverageBefore)} before the run, ${f2(m.loadAverageAfter)} after (other work on the machine skews the numbers).`, '');
  const ran = suites.filter((s) => report.results[s.name] !== undefined);
  for (const s of ran) if (s.summary) L.push(...s.summary(report.results[s.name], report, report.config[s.name]));
  if (report.targets.length && report.kind === 'full') {
    L.push('#### Targets', '', '| target | goal | measured | met |', '|---|---|---|---|');
    for (const t of report.targets) L.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met === undefined ? '—' : t.met ? 'yes' : '**no**'} |`);
    L.push('');
  }
  for (const s of ran) if (s.details) L.push(...s.details(report.results[s.name], report, report.config[s.name]));
  if (report.skipped.length) L.push(`Skipped: ${report.skipped.join('; ')}.`, '');
  L.push('Reproduce: `npm run bench` (full, ~6 min on 2 cores) or `npm run bench:smoke` (seconds). Needs `freeradius` and `freeradius-utils` (Debian) for the radclient and FreeRADIUS rows; `/usr/bin/time` (Debian `time`) for radclient\'s CPU and RSS.');
  return `${L.join('\n')}\n`;
}

/**
 * A saved latest.json as a {@link Report}: files written before the split into suites kept each result at
 * the top level (`b1`, `b1FreeRadius`, `b2`, `b3`, `profiles`) and the configuration under other keys.
 */
export function readReport(saved: Record<string, unknown>): Report {
  if (saved.results !== undefined) return saved as unknown as Report;
  const config = (saved.config ?? {}) as Record<string, unknown>;
  const results: Record<string, unknown> = {};
  const nonEmpty = (x: unknown): boolean => x !== undefined && x !== null && !(Array.isArray(x) && x.length === 0) && !(typeof x === 'object' && !Array.isArray(x) && Object.keys(x as object).length === 0);
  for (const key of ['b1', 'b1FreeRadius', 'b2', 'b3', 'profiles']) if (nonEmpty(saved[key])) results[key] = saved[key];
  return {
    kind: saved.kind as Report['kind'],
    date: saved.date as string,
    machine: saved.machine as Report['machine'],
    config: { b1: config.b1, b1FreeRadius: config.fr, b2: config.b2, b3: config.b3, profiles: config.profile },
    results,
    targets: [],
    skipped: (saved.skipped ?? []) as string[],
  };
}
