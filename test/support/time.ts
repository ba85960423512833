/**
 * Waiting in tests: `sleep` for a fixed time (only where a test must let time pass, e.g. to show that
 * nothing happens), `until` for a condition with a deadline (everywhere else).
 */
import assert from 'node:assert/strict';

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves as soon as `condition()` is true (checked every `stepMs`); fails the test with
 * "timed out waiting until <what>" after `timeoutMs` (default 3000 ms). `what` defaults to the
 * condition's source text.
 */
export async function until(condition: () => boolean, what = String(condition), timeoutMs = 3000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what} (${timeoutMs} ms)`);
    await sleep(stepMs);
  }
}
