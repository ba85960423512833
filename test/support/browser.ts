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
import { chromium, type Browser } from 'playwright-core';
import { describeRequiring, isExecutable } from './requirements';

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

/**
 * describe() for suites that need a real browser: skipped with a visible notice when Chromium is not
 * installed, or failing when REQUIRE_BROWSER=1.
 */
export function describeBrowser(title: string, fn: (this: Mocha.Suite) => void): void {
  describeRequiring(
    {
      available: CHROMIUM_BIN !== undefined,
      what: 'Chromium',
      requireVar: 'REQUIRE_BROWSER',
      install: 'install the chromium package or set CHROMIUM_BIN',
      skipping: 'the browser tests',
    },
    title,
    fn,
  );
}
