/**
 * Test helper: the package as users get it. `packedTarball()` builds dist/ and runs `npm pack` once per
 * test run; `appWithPackage()` makes an app folder whose node_modules/passport-radius is that tarball's
 * content (other modules resolve from the repository's node_modules further up); `installedApp()` makes
 * an app folder outside the repository and `npm install`s the tarball there, as a user would.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository's root folder. */
export const ROOT = resolve(dirname(__filename), '..', '..');
const SCRATCH = join(ROOT, 'tmp');

let packing: Promise<string> | undefined;

/** Path of `passport-radius-<version>.tgz`, built from this tree once per test run. */
export function packedTarball(): Promise<string> {
  packing ??= (async () => {
    await run('npm', ['run', '-s', 'build'], { cwd: ROOT });
    mkdirSync(SCRATCH, { recursive: true });
    const out = mkdtempSync(join(SCRATCH, 'pack-'));
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', out], { cwd: ROOT });
    const name = stdout.trim().split('\n').pop()!;
    return join(out, name);
  })();
  return packing;
}

/** A folder made for one test; `remove()` deletes it. */
export interface AppFolder {
  /** Absolute path of the folder. */
  dir: string;
  /** Writes `files` (path relative to the folder → text). */
  write(files: Record<string, string>): void;
  /** Deletes the folder. */
  remove(): void;
}

function folder(dir: string): AppFolder {
  return {
    dir,
    write(files) {
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * An app folder under the repository's tmp/ whose `node_modules/passport-radius` is the packed tarball,
 * unpacked; every other module (express, @types/…, typescript) resolves from the repository's
 * node_modules, so nothing is downloaded.
 */
export async function appWithPackage(): Promise<AppFolder> {
  const tarball = await packedTarball();
  mkdirSync(SCRATCH, { recursive: true });
  const app = folder(mkdtempSync(join(SCRATCH, 'app-')));
  const target = join(app.dir, 'node_modules', 'passport-radius');
  mkdirSync(target, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  return app;
}

/**
 * An app folder outside the repository (so nothing resolves from it) with `package.json` = `pkg` and
 * `npm install <tarball> ...extra` done there, from npm's cache when it can.
 */
export async function installedApp(pkg: object, extra: string[] = []): Promise<AppFolder> {
  const tarball = await packedTarball();
  const app = folder(mkdtempSync(join(tmpdir(), 'passport-radius-app-')));
  app.write({ 'package.json': JSON.stringify({ name: 'app', version: '1.0.0', private: true, ...pkg }, null, 2) });
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', tarball, ...extra], { cwd: app.dir });
  return app;
}
