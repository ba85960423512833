/**
 * 1,000 concurrent sign-ins against FreeRADIUS (-X, one thread): every one gets the right outcome,
 * retransmission recovering what its receive buffer drops. Against the test server and the leak check:
 * test/load.udp.test.ts.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { RadiusClient } from '../lib/client';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { assertMixedOutcomes, mixedSignIns } from './support/load';

const SECRET = 'testing123';
const NAS = { 'NAS-Identifier': 'load-test' };

describeFreeRadius('1,000 concurrent sign-ins against FreeRADIUS', function () {
  this.timeout(60_000);
  let fr: FreeRadiusServer;
  before(async () => {
    fr = await startFreeRadius({ secret: SECRET });
  });
  after(async () => {
    await fr?.stop();
  });

  it('all complete with the right outcome (alice and a wrong password, mixed)', async function () {
    // FreeRADIUS runs with -X (one thread, full debug output). A burst of 1,000 overflows its socket's
    // receive buffer (about 300 datagrams get in); the rest are recovered by retransmission. Measured here:
    // about 3 s and 1,100 to 1,400 retransmissions with a retransmission every second (10 s, 9 retries);
    // about 12 s with one every 4 s (20 s, 4 retries).
    const client = new RadiusClient({ servers: [{ name: 'fr', address: fr.address, secret: SECRET, attributes: NAS, timeout: 10_000, retries: 9 }] });
    try {
      const started = performance.now();
      const results = await Promise.all(mixedSignIns(client, 1000, USERS.alice.name, USERS.alice.password));
      const elapsed = performance.now() - started;
      assertMixedOutcomes(results);
      for (const r of results.filter((x) => x.type === 'accept')) assert.equal(r.replyMessage, USERS.alice.replyMessage);
      const [status] = client.servers();
      assert.equal(status!.counters.accepts, 500);
      assert.equal(status!.counters.rejects, 500);
      assert.ok(elapsed < 40_000, `took ${elapsed.toFixed(0)} ms`);
      // What it took, for the record (visible with --reporter spec).
      this.test!.title += ` [${elapsed.toFixed(0)} ms, ${status!.counters.retransmissions} retransmissions]`;
    } finally {
      await client.close();
    }
  });
});
