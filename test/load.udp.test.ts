/**
 * 1,000 concurrent sign-ins against the test server, and no leaks after 1,000 sign-ins of mixed outcomes.
 * The same burst against FreeRADIUS: test/load.freeradius.test.ts.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { RadiusClient } from '../lib/client';
import { RadiusUnavailableError } from '../lib/errors';
import { RadiusTestServer } from '../lib/testing';
import { assertMixedOutcomes, mixedSignIns } from './support/load';
import { freeUdpPort as closedPort, openUdpSockets } from './support/ports';

const SECRET = 'testing123';
const NAS = { 'NAS-Identifier': 'load-test' };

/** Timers and UDP sockets that keep the event loop alive (the client's sockets are unref'd: never counted). */
function refedResources(): { Timeout: number; UDPWrap: number } {
  const all = process.getActiveResourcesInfo();
  return { Timeout: all.filter((n) => n === 'Timeout').length, UDPWrap: all.filter((n) => n === 'UDPWrap').length };
}

describe('1,000 concurrent sign-ins against the test server', function () {
  this.timeout(30_000);
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('all complete with the right outcome, over four source ports, no (port, Identifier) carrying two requests', async () => {
    const srv = new RadiusTestServer({ secret: SECRET, users: { alice: { password: 'pw' } } });
    cleanups.push(() => srv.close());
    await srv.listen();
    // The server shares this event loop, so the burst overflows its receive buffer and retransmission
    // (identical bytes, same port and Identifier) recovers the losses.
    const client = new RadiusClient({ servers: [{ name: 'ts', address: srv.address, secret: SECRET, attributes: NAS, timeout: 5000, retries: 4 }] });
    cleanups.push(() => client.close());
    const started = performance.now();
    const results = await Promise.all(mixedSignIns(client, 1000, 'alice', 'pw'));
    const elapsed = performance.now() - started;
    assertMixedOutcomes(results);

    const [status] = client.servers();
    assert.equal(status!.counters.requests, 1000);
    assert.equal(status!.counters.accepts, 500);
    assert.equal(status!.counters.rejects, 500);
    assert.equal(status!.counters.timeouts, 0);
    // All 1,000 were allocated before any reply was read: every (source port, Identifier) carried one request.
    const byKey = new Map<string, Set<string>>();
    for (const q of srv.received) {
      const key = `${q.from.port}/${q.identifier}`;
      byKey.set(key, (byKey.get(key) ?? new Set()).add(q.authenticator.toString('hex')));
    }
    assert.equal(byKey.size, 1000);
    for (const [key, authenticators] of byKey) assert.equal(authenticators.size, 1, `${key} carried two requests`);
    assert.equal(new Set(srv.received.map((q) => q.from.port)).size, 4);
    assert.ok(elapsed < 15_000, `took ${elapsed.toFixed(0)} ms`);
  });
});

describe('no leaks', function () {
  this.timeout(30_000);
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('after 1,000 sign-ins of mixed outcomes nothing is left running, and close() gets back to the baseline', async () => {
    const answering = new RadiusTestServer({ secret: SECRET, users: { alice: { password: 'pw' } } });
    const silent = new RadiusTestServer({ secret: SECRET, faults: { dropFirst: Number.MAX_SAFE_INTEGER } });
    cleanups.push(() => answering.close(), () => silent.close());
    await Promise.all([answering.listen(), silent.listen()]);
    const dead = await closedPort();
    await new Promise((resolve) => setImmediate(resolve)); // let closed handles go

    const baselineUdp = openUdpSockets();
    const baselineRefed = refedResources();
    const client = new RadiusClient({
      holdDown: 0,
      servers: [
        { name: 'answering', address: answering.address, secret: SECRET, attributes: NAS, timeout: 5000, retries: 4 },
        { name: 'silent', address: silent.address, secret: SECRET, attributes: NAS, timeout: 300, retries: 1 },
        { name: 'dead', address: `127.0.0.1:${dead}`, secret: SECRET, attributes: NAS, timeout: 5000, retries: 2 },
      ],
    });
    cleanups.push(() => client.close());

    const kinds = ['accept', 'reject', 'timeout', 'unreachable'] as const;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) => {
        const kind = kinds[i % 4]!;
        if (kind === 'accept') return client.authenticate({ username: 'alice', password: 'pw', servers: ['answering'] });
        if (kind === 'reject') return client.authenticate({ username: 'alice', password: 'nope', servers: ['answering'] });
        return client.authenticate({ username: 'alice', password: 'pw', servers: [kind === 'timeout' ? 'silent' : 'dead'] });
      }),
    );
    outcomes.forEach((o, i) => {
      const kind = kinds[i % 4]!;
      if (kind === 'accept' || kind === 'reject') {
        assert.equal(o.status === 'fulfilled' && o.value.type, kind, `sign-in ${i}`);
      } else {
        assert.ok(o.status === 'rejected' && o.reason instanceof RadiusUnavailableError, `sign-in ${i}`);
        assert.equal((o.reason as RadiusUnavailableError).attempts[0]!.reason, kind);
      }
    });
    assert.deepEqual(
      client.servers().map((s) => [s.counters.accepts, s.counters.rejects, s.counters.timeouts, s.counters.unreachable]),
      [
        [250, 250, 0, 0],
        [0, 0, 250, 0],
        [0, 0, 0, 250],
      ],
    );

    // Settled: no timer left, and one (unref'd) socket per server address, the surplus ones closed.
    assert.deepEqual(refedResources(), baselineRefed);
    assert.equal(openUdpSockets(), baselineUdp + 3);

    await client.close();
    assert.equal(openUdpSockets(), baselineUdp);
    assert.deepEqual(refedResources(), baselineRefed);
  });
});
