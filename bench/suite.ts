/**
 * What a benchmark suite is, and the helpers several suites share. bench/run.ts runs the suites listed in
 * bench/suites/index.ts, in order; bench/report.ts renders what they return.
 *
 * Adding a suite: one file in bench/suites/ exporting a {@link Suite}, and one line in
 * bench/suites/index.ts. See /work/coord/CONTRACTS.md ("bench suites") and the existing suites.
 */
import { SECRET, startChild, type Child, type LoadResult } from './common';

/** One line of the targets table. */
export interface Target {
  name: string;
  goal: string;
  measured: string;
  /** undefined when the run could not tell. */
  met: boolean | undefined;
}

/** Facts about the machine, recorded with every run. */
export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  freeradius: string | undefined;
  radclient: string | undefined;
  timeBin: boolean;
  loadAverageBefore: number;
  loadAverageAfter?: number;
}

/** A whole run as saved in latest.json: each suite's configuration and result under its `name`. */
export interface Report {
  kind: 'full' | 'smoke';
  date: string;
  machine: Machine;
  /** Per suite name: the configuration it ran with (smoke or full). */
  config: Record<string, unknown>;
  /** Per suite name: what its `run` returned (absent when it did not run). */
  results: Record<string, unknown>;
  targets: Target[];
  skipped: string[];
}

/** What a suite's `run` gets. */
export interface SuiteContext<C> {
  smoke: boolean;
  /** The suite's configuration for this run (`config.smoke` or `config.full`). */
  config: C;
  /** Progress line on stderr, prefixed "bench: ". */
  log(line: string): void;
  /** Path of radclient (freeradius-utils), or undefined when not installed. */
  radclient: string | undefined;
  /** Results of the suites that ran before this one, by name (read-only by convention). */
  results: Readonly<Record<string, unknown>>;
  /** Values a suite leaves for later ones, e.g. radclient's start-up baseline from b1. */
  shared: Record<string, unknown>;
  /** Add a sentence to the report's "Skipped" line (e.g. a program that is not installed). */
  skip(what: string): void;
}

/**
 * One benchmark suite. `R` is what `run` returns (saved in latest.json, so plain JSON data); `C` is its
 * configuration. Every function but `run` is optional and pure (no I/O).
 */
export interface Suite<R = unknown, C = unknown> {
  /** Key of the result and configuration in latest.json, e.g. `'b2'`. */
  name: string;
  /** The word `--only` selects it by (default `name`); several suites may share one, e.g. `'b1'`. */
  option?: string;
  /** Configuration for `npm run bench:smoke` (tiny, seconds) and for the full run. */
  config: { smoke: C; full: C };
  /** False to skip the suite in this run (e.g. not in smoke runs). Default: runs. */
  enabled?(ctx: SuiteContext<C>): boolean;
  run(ctx: SuiteContext<C>): Promise<R>;
  /** Harness failures: what makes `npm run bench:smoke` exit 1 (nothing ran, a correct client erred…). */
  check?(result: R, ctx: { smoke: boolean }): string[];
  /** Lines of the target table (issue targets). */
  targets?(result: R, report: Report): Target[];
  /** Markdown lines for the summary, above the targets (ratios). */
  summary?(result: R, report: Report, config: C): string[];
  /** Markdown lines for the details, below the targets (absolute numbers). */
  details?(result: R, report: Report, config: C): string[];
}

/** Identity, for type inference: `export default defineSuite({ … })`. */
export function defineSuite<R, C>(suite: Suite<R, C>): Suite<R, C> {
  return suite;
}

/** Display names of the clients. */
export const NAMES: Record<string, string> = {
  ours: 'passport-radius RadiusClient',
  limit: 'limit (minimal correct Node client)',
  nrc: 'node-radius-client 1.0.0',
  radclient: 'radclient (FreeRADIUS 3, C)',
};

/** Median, ignoring NaN; NaN for none. */
export function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Starts the bench responder (bench/responder.ts) in its own process. */
export async function startResponder(extra: string[] = []): Promise<{ child: Child; port: number }> {
  const child = startChild('responder.ts', ['--secret', SECRET, ...extra]);
  const { port } = await child.firstJson<{ port: number }>();
  return { child, port };
}

/** The responder's counters. */
export type ResponderStats = { received: number; answered: number; bad: number; malformed: number };

/** Reads (and with `reset`, zeroes) the responder's counters. */
export async function responderStats(child: Child, reset: boolean): Promise<ResponderStats> {
  return (await child.ask<{ stats: ResponderStats }>({ cmd: reset ? 'reset' : 'stats' })).stats;
}

/** Runs one Node client (bench/load.ts) in its own process against `port`. */
export async function runNodeClient(kind: string, port: number, concurrency: number, durationMs: number, warmupMs: number, execArgv: string[] = []): Promise<LoadResult> {
  const child = startChild('load.ts', ['--client', kind, '--port', String(port), '--concurrency', String(concurrency), '--duration', String(durationMs), '--warmup', String(warmupMs)], execArgv);
  try {
    const result = await child.firstJson<LoadResult>(durationMs + warmupMs + 60_000);
    await child.exited;
    return result;
  } finally {
    await child.kill();
  }
}

/* Number formats for the report. */
export const f0 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : Math.round(x).toLocaleString('en-US'));
export const f1 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(1));
export const f2 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(2));
export const ratio = (a: number, b: number): string => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');
