/**
 * Suites that need a program installed on the machine (FreeRADIUS, redis-server, Chromium): find it,
 * and run the suite, skip it with a visible notice, or — when the environment asks for it (CI) — fail.
 */
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True when `file` exists and is executable. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a program: `process.env[envVar]` when set (and executable), else the first of `names` in PATH
 * and then in `extraDirs`.
 */
export function findProgram(envVar: string, names: readonly string[], extraDirs: readonly string[] = []): string | undefined {
  const fromEnv = process.env[envVar];
  if (fromEnv) return isExecutable(fromEnv) ? fromEnv : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/** What {@link describeRequiring} needs to know about the missing program. */
export interface Requirement {
  /** Whether the program was found. */
  available: boolean;
  /** Its name in messages, e.g. "FreeRADIUS". */
  what: string;
  /** The variable that turns a skip into a failure, e.g. "REQUIRE_FREERADIUS". */
  requireVar: string;
  /** How to install it, e.g. "install the freeradius package or set FREERADIUS_BIN". */
  install: string;
  /** Which tests are skipped, e.g. "the FreeRADIUS integration tests". */
  skipping: string;
}

const warned = new Set<string>();

/**
 * `describe()` when the program is available; otherwise a skipped suite with a console notice (once per
 * program), or, when `process.env[requireVar] === '1'`, a suite with one failing test that says why.
 */
export function describeRequiring(requirement: Requirement, title: string, fn: (this: Mocha.Suite) => void): void {
  const { available, what, requireVar, install, skipping } = requirement;
  if (available) {
    describe(title, fn);
    return;
  }
  if (process.env[requireVar] === '1') {
    describe(title, function () {
      it(`requires ${what}`, function () {
        throw new Error(`${requireVar}=1 but ${what} was not found (${install})`);
      });
    });
    return;
  }
  if (!warned.has(what)) {
    warned.add(what);
    console.warn(`\n  [notice] ${what} is not installed: skipping ${skipping} (${install}, or set ${requireVar}=1 to make this an error).\n`);
  }
  describe.skip(title, fn);
}

const children = new Set<ChildProcess>();

/**
 * Kills `child` with SIGKILL if this process exits while it still runs (a test that failed before its
 * `stop()`), and forgets it once it has exited.
 */
export function killOnExit(child: ChildProcess): void {
  if (children.size === 0 && !process.listeners('exit').includes(killChildren)) process.on('exit', killChildren);
  children.add(child);
  child.once('exit', () => children.delete(child));
}

function killChildren(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
