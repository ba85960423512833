/**
 * Assertions on the client's errors.
 */
import assert from 'node:assert/strict';
import { RadiusUnavailableError } from '../../lib/errors';

/** Awaits `promise`, asserts that it rejects with a RadiusUnavailableError, and returns that error. */
export async function expectUnavailable(promise: Promise<unknown>): Promise<RadiusUnavailableError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (err) {
    assert.ok(err instanceof RadiusUnavailableError, `expected a RadiusUnavailableError, got ${String(err)}`);
    return err;
  }
  return assert.fail(`expected a RadiusUnavailableError, got ${JSON.stringify(result)}`);
}
