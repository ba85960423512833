/**
 * RadiusClient over IPv6 against FreeRADIUS on [::1]: sign-in, and failover from a dead IPv6 port at once
 * (ICMPv6 port unreachable). The failover rules themselves: test/failover.udp.test.ts.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { RadiusClient } from '../lib/client';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { freeUdpPort as closedPort } from './support/ports';

const SECRET = 'testing123';

describeFreeRadius('RadiusClient over IPv6 against FreeRADIUS', function () {
  this.timeout(30_000);
  let fr: FreeRadiusServer;
  const clients: RadiusClient[] = [];
  before(async () => {
    fr = await startFreeRadius({ secret: SECRET });
  });
  after(async () => {
    await fr?.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });

  function client(servers: Array<{ name: string; address: string }>): RadiusClient {
    const c = new RadiusClient({
      servers: servers.map((s) => ({ ...s, secret: SECRET, attributes: { 'NAS-Identifier': 'failover-test' }, timeout: 3000, retries: 1 })),
    });
    clients.push(c);
    return c;
  }

  it('signs alice in and turns a wrong password away over [::1]', async () => {
    const c = client([{ name: 'v6', address: fr.address6 }]);
    const ok = await c.authenticate({ username: USERS.alice.name, password: USERS.alice.password });
    assert.equal(ok.type, 'accept');
    assert.equal(ok.replyMessage, USERS.alice.replyMessage);
    const no = await c.authenticate({ username: USERS.alice.name, password: 'wrong' });
    assert.equal(no.type, 'reject');
    await fr.waitForOutput(/Received Access-Request Id \d+ from ::1 port \d+|Received Access-Request Id \d+ from \[?::1\]?:\d+/);
  });

  it('fails over from a dead IPv6 port to FreeRADIUS on [::1] at once (ICMPv6 unreachable)', async () => {
    const dead = await closedPort();
    const c = client([
      { name: 'dead', address: `[::1]:${dead}` },
      { name: 'v6', address: fr.address6 },
    ]);
    const started = performance.now();
    const result = await c.authenticate({ username: USERS.alice.name, password: USERS.alice.password });
    assert.equal(result.type, 'accept');
    assert.equal(result.server, 'v6');
    assert.ok(performance.now() - started < 1500, 'far inside the 3000 ms timeout');
    assert.equal(c.serverStatus()[0]!.lastError, 'unreachable (ECONNREFUSED)');
  });
});
