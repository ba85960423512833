/**
 * Test helper: headless Chromium (the Debian package) driven by playwright-core, which never downloads
 * a browser of its own.
 *
 *   const browser = await launchChromium();
 *   const page = await (await browser.newContext()).newPage();
 *   ...
 *   await browser.close();
 *
 * Use describeBrowser() instead of describe() so the suite is skipped with a visible notice when
 * Chromium is not installed (or fails when REQUIRE_BROWSER=1).
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Path of the Chromium binary (CHROMIUM_BIN, else /usr/bin/chromium), or undefined when missing. */
export const CHROMIUM_BIN: string | undefined = [process.env.CHROMIUM_BIN, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (file): file is string => file !== undefined && file !== '' && isExecutable(file),
);

/** Flags for a quiet, offline, throw-away headless Chromium. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium. playwright-core gives it a fresh temporary `--user-data-dir` of its own
 * (and removes it on `close()`); every `newContext()` is a further isolated profile (own cookies).
 */
export async function launchChromium(): Promise<Browser> {
  if (!CHROMIUM_BIN) throw new Error('Chromium is not installed');
  return chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: [...CHROMIUM_ARGS], timeout: 30_000 });
}

let warnedMissing = false;

/**
 * describe() for suites that need a real browser. When Chromium is missing the suite is skipped with a
 * console notice (once), or — with REQUIRE_BROWSER=1 — replaced by a failing test.
 */
export function describeBrowser(title: string, fn: (this: Mocha.Suite) => void): void {
  if (CHROMIUM_BIN) {
    describe(title, fn);
    return;
  }
  if (process.env.REQUIRE_BROWSER === '1') {
    describe(title, function () {
      it('requires Chromium', function () {
        throw new Error('REQUIRE_BROWSER=1 but Chromium was not found (install the chromium package or set CHROMIUM_BIN)');
      });
    });
    return;
  }
  if (!warnedMissing) {
    warnedMissing = true;
    console.warn('\n  [notice] Chromium is not installed: skipping the browser tests (install chromium, or set REQUIRE_BROWSER=1 to make this an error).\n');
  }
  describe.skip(title, fn);
}
