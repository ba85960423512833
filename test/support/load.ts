/**
 * Bursts of sign-ins for the load tests (test/load.*.test.ts): half with the right password, half with a
 * wrong one, and the check that each got its own outcome.
 */
import assert from 'node:assert/strict';
import type { AuthResult, RadiusClient } from '../../lib/client';

/** `n` sign-ins at once: even ones with the right password, odd ones with a wrong one. */
export function mixedSignIns(client: RadiusClient, n: number, username: string, password: string): Array<Promise<AuthResult>> {
  return Array.from({ length: n }, (_, i) => client.authenticate({ username, password: i % 2 === 0 ? password : `${password}-wrong` }));
}

/** Even sign-ins accepted, odd ones rejected. */
export function assertMixedOutcomes(results: AuthResult[]): void {
  results.forEach((r, i) => assert.equal(r.type, i % 2 === 0 ? 'accept' : 'reject', `sign-in ${i}`));
}

