/**
 * The benchmark: runs the suites of bench/suites/index.ts (B1 client core, B1 against FreeRADIUS, B2 HTTP
 * sign-in, B3 scaling, CPU profiles, the junk-datagram cost…) and writes the report (bench/report.ts).
 *
 *   npm run bench          full run (~6 minutes on 2 cores); writes bench/results/latest.{md,json}
 *   npm run bench:smoke    seconds; tiny counts, every installed client; exits 1 if the harness is broken
 *
 * Options: --smoke, --out DIR (default bench/results; the smoke run writes nothing unless given),
 * --only b1,b2,… (suites by their `--only` word; default all), --render FILE.json (print the Markdown of a
 * saved run, and with --out rewrite it there, then exit).
 *
 * Every client runs in its own process against the same responder process (bench/responder.ts), which
 * checks each request's Message-Authenticator and User-Password; radclient and FreeRADIUS come from the
 * freeradius-utils and freeradius Debian packages and are skipped (and said so) when not installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './common';
import { freeradiusBin, freeradiusInstalled } from './freeradius';
import { radclientPath } from './radclient';
import { computeTargets, markdown, readReport } from './report';
import type { Report, SuiteContext } from './suite';
import { SUITES } from './suites';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    render: { type: 'string' },
  },
});
const smoke = values.smoke;
const optionOf = (s: { name: string; option?: string }): string => s.option ?? s.name;
const only = new Set(values.only ? values.only.split(',') : SUITES.map(optionOf));

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

function version(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return /version (\d+\.\d+\.\d+)/i.exec(text)?.[1];
}

function write(outDir: string, report: Report, md: string): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.md'), md);
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
}

async function main(): Promise<void> {
  if (values.render) {
    // Re-renders a saved latest.json (e.g. after a change to the report's layout), recomputing targets.
    const saved = readReport(JSON.parse(readFileSync(values.render, 'utf8')) as Record<string, unknown>);
    saved.targets = computeTargets(saved, SUITES);
    const text = markdown(saved, SUITES);
    process.stdout.write(text);
    if (values.out) write(values.out, saved, text);
    return;
  }
  for (const word of only) if (!SUITES.some((s) => optionOf(s) === word)) throw new Error(`--only: no suite "${word}" (suites: ${[...new Set(SUITES.map(optionOf))].join(', ')})`);
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
    config: {},
    results: {},
    targets: [],
    skipped,
  };

  const failures: string[] = [];
  const shared: Record<string, unknown> = {};
  for (const suite of SUITES) {
    const config = smoke ? suite.config.smoke : suite.config.full;
    report.config[suite.name] = config;
    const ctx: SuiteContext<unknown> = { smoke, config, log, radclient, results: report.results, shared, skip: (what) => skipped.push(what) };
    if (!only.has(optionOf(suite)) || (suite.enabled && !suite.enabled(ctx))) continue;
    const result = await suite.run(ctx);
    report.results[suite.name] = result;
    // Harness checks: every client produced results, and the correct clients produced no errors.
    if (suite.check) failures.push(...suite.check(result, { smoke }));
  }
  report.machine.loadAverageAfter = loadavg()[0]!;
  report.targets = computeTargets(report, SUITES);

  const md = markdown(report, SUITES);
  process.stdout.write(md);
  const outDir = values.out ?? (smoke ? undefined : join(ROOT, 'bench', 'results'));
  if (outDir) {
    write(outDir, report, md);
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
