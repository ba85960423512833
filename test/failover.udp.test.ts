/**
 * RadiusClient failover rules against the in-process test server: ICMP unreachable, late replies,
 * hold-down, DNS at use, close(). Over IPv6 against FreeRADIUS: test/failover.freeradius.test.ts.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { RadiusClient, type RadiusClientEvents } from '../lib/client';
import { RadiusClosedError } from '../lib/errors';
import type { RadiusClientOptions, RadiusServerOptions } from '../lib/options';
import { RadiusTestServer, type Faults } from '../lib/testing';
import { expectUnavailable } from './support/errors';
import { freeUdpPort as closedPort, openUdpSockets } from './support/ports';
import { sleep } from './support/time';

const SECRET = 'testing123';

/** Sign-in requests (Access-Requests for alice) a test server received, watchdog traffic left out. */
function signIns(srv: RadiusTestServer): number {
  return srv.received.filter((r) => r.code === 1 && r.username === 'alice').length;
}

/** Records every event of a client, in order, as `[name, payload]`. */
function recordEvents(client: RadiusClient): Array<[string, Record<string, unknown>]> {
  const seen: Array<[string, Record<string, unknown>]> = [];
  const names: Array<keyof RadiusClientEvents> = ['accept', 'reject', 'challenge', 'no-reply', 'failover', 'server-down', 'server-up', 'dropped'];
  for (const name of names) {
    client.on(name, (payload: object) => seen.push([name, payload as Record<string, unknown>]));
  }
  return seen;
}

describe('RadiusClient failover', function () {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function server(faults: Faults = {}, host = '127.0.0.1', port = 0): Promise<RadiusTestServer> {
    const srv = new RadiusTestServer({ secret: SECRET, host, port, users: { alice: { password: 'pw' } }, faults });
    cleanups.push(() => srv.close());
    await srv.listen();
    return srv;
  }

  function client(servers: Array<{ name: string; address: string } & Partial<RadiusServerOptions>>, options: Partial<RadiusClientOptions> = {}): RadiusClient {
    const c = new RadiusClient({
      servers: servers.map((s) => ({ secret: SECRET, attributes: { 'NAS-Identifier': 'failover-test' }, timeout: 150, retries: 0, ...s })),
      ...options,
    });
    cleanups.push(() => c.close());
    return c;
  }

  describe('ICMP port unreachable', () => {
    it('moves to the next server at once, far inside the timeout, and says why', async () => {
      const port = await closedPort();
      const b = await server();
      const c = client([
        { name: 'a', address: `127.0.0.1:${port}`, timeout: 5000, retries: 2 },
        { name: 'b', address: b.address },
      ]);
      const events = recordEvents(c);
      const started = performance.now();
      const result = await c.authenticate({ username: 'alice', password: 'pw' });
      const elapsed = performance.now() - started;
      assert.equal(result.type, 'accept');
      assert.equal(result.server, 'b');
      assert.ok(elapsed < 500, `took ${elapsed.toFixed(0)} ms with a 5000 ms timeout`);
      assert.deepEqual(
        events.filter(([name]) => name === 'failover').map(([, p]) => p),
        [{ from: 'a', to: 'b', reason: 'unreachable' }],
      );
      const [a] = c.serverStatus();
      assert.equal(a!.counters.unreachable, 1);
      assert.equal(a!.counters.timeouts, 0);
      assert.equal(a!.counters.retransmissions, 0, 'no retransmission to a server known to be unreachable');
      assert.equal(a!.lastError, 'unreachable (ECONNREFUSED)');
      assert.equal(a!.state, 'held-down');
    });
  });

  describe('a final server (e.g. two-factor, with a single-factor server after it)', () => {
    it('ends the sign-in with its Access-Reject: the next server is never asked', async () => {
      const mfa = await server({ replyWith: 'reject' });
      const legacy = await server();
      const c = client([{ name: 'mfa', address: mfa.address, final: true }, { name: 'legacy', address: legacy.address }], { holdDown: 0 });
      const result = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(result.type, 'reject');
      assert.equal(result.server, 'mfa');
      assert.equal(legacy.received.length, 0);
    });

    it('ends the sign-in when it does not answer: no password-only sign-in at the next server', async () => {
      const mfa = await server({ dropFirst: 1000 });
      const legacy = await server();
      const c = client([{ name: 'mfa', address: mfa.address, final: true }, { name: 'legacy', address: legacy.address }], { holdDown: 0 });
      const err = await expectUnavailable(c.authenticate({ username: 'alice', password: 'pw' }));
      assert.deepEqual(err.attempts.map((a) => a.server), ['mfa']);
      assert.equal(legacy.received.length, 0);
    });

    it('keeps its place while held down, so a server after it cannot stand in for it', async () => {
      const mfa = await server({ dropFirst: 1_000_000 }); // silent, watchdog included: shown dead
      const legacy = await server();
      const c = client([{ name: 'mfa', address: mfa.address, final: true }, { name: 'legacy', address: legacy.address }], { holdDown: 60_000 });
      await expectUnavailable(c.authenticate({ username: 'alice', password: 'pw' }));
      assert.equal(c.serverStatus()[0]!.state, 'held-down');
      mfa.faults = {};
      const result = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(result.type, 'accept');
      assert.equal(result.server, 'mfa');
      assert.equal(legacy.received.length, 0);
    });

    it('still lets servers before it fail over to it', async () => {
      const first = await server({ replyWith: 'reject' });
      const mfa = await server();
      const c = client([{ name: 'first', address: first.address }, { name: 'mfa', address: mfa.address, final: true }], { holdDown: 0 });
      const result = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(result.type, 'accept');
      assert.equal(result.server, 'mfa');
    });
  });

  describe('late replies', () => {
    it('a late Access-Accept from the server the exchange left never completes the next attempt or a later sign-in', async () => {
      const a = await server({ replyWith: 'accept', delayMs: 300 }); // answers, but after the client gave up
      const b = await server({ replyWith: 'reject' });
      const c = client(
        [
          { name: 'a', address: a.address, timeout: 200 },
          { name: 'b', address: b.address },
        ],
        { holdDown: 0 },
      );
      const events = recordEvents(c);
      let aReplies = 0;
      a.on('reply', () => aReplies++);

      const first = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(first.type, 'reject');
      assert.equal(first.server, 'b');
      // The second sign-in goes to a again (no hold-down) while a's reply to the first is on its way.
      const second = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(second.type, 'reject');
      assert.equal(second.server, 'b');
      const deadline = performance.now() + 2000;
      while (aReplies < 2 && performance.now() < deadline) await sleep(10);
      await sleep(30);
      assert.equal(aReplies, 2, 'a did send both (late) Access-Accepts');

      const [sa] = c.serverStatus();
      assert.equal(sa!.counters.accepts, 0);
      assert.equal(sa!.counters.timeouts, 2);
      assert.deepEqual(sa!.counters.dropped, { late: 2 });
      assert.equal(events.filter(([name]) => name === 'accept').length, 0);
      assert.deepEqual(
        events.filter(([name]) => name === 'dropped').map(([, p]) => p),
        [
          { server: 'a', reason: 'late' },
          { server: 'a', reason: 'late' },
        ],
      );
    });
  });

  describe('hold-down', () => {
    it('skips a server that did not answer for holdDown ms, tries it again after, and emits server-down then server-up', async () => {
      const a = await server({ dropFirst: 1_000_000 }); // silent
      const b = await server();
      const c = client(
        [
          { name: 'a', address: a.address },
          { name: 'b', address: b.address },
        ],
        { holdDown: 200 },
      );
      const events = recordEvents(c);

      const t0 = Date.now();
      assert.equal((await c.authenticate({ username: 'alice', password: 'pw' })).server, 'b');
      assert.equal(signIns(a), 1);
      const down = events.find(([name]) => name === 'server-down');
      assert.ok(down, 'server-down emitted');
      assert.equal(down[1].server, 'a');
      assert.equal(down[1].reason, 'timeout');
      const until = down[1].until as number;
      assert.ok(until >= t0 + 200 && until <= Date.now() + 200, `until ${until - t0} ms after start`);
      const [sa] = c.serverStatus();
      assert.equal(sa!.state, 'held-down');
      assert.equal(sa!.heldDownUntil, until);
      assert.equal(sa!.lastError, 'timeout');

      // While held down: straight to b, a gets nothing.
      assert.equal((await c.authenticate({ username: 'alice', password: 'pw' })).server, 'b');
      assert.equal(signIns(a), 1);

      // a comes back; once holdDown has passed it is first again.
      a.faults = {};
      await sleep(Math.max(0, until - Date.now()) + 20);
      assert.equal(c.serverStatus()[0]!.state, 'up');
      const back = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(back.server, 'a');
      assert.equal(back.type, 'accept');
      assert.equal(signIns(a), 2);
      assert.deepEqual(
        events.filter(([name]) => name === 'server-down' || name === 'server-up').map(([name, p]) => [name, p.server]),
        [
          ['server-down', 'a'],
          ['server-up', 'a'],
        ],
      );
      assert.equal(c.serverStatus()[0]!.lastError, undefined);
    });

    it('tries every server, in order, when all are held down, and server-down is not repeated while down', async () => {
      const a = await server({ dropFirst: 1_000_000 });
      const b = await server({ dropFirst: 1_000_000 });
      const c = client(
        [
          { name: 'a', address: a.address },
          { name: 'b', address: b.address },
        ],
        { holdDown: 60_000 },
      );
      const events = recordEvents(c);
      const err = await expectUnavailable(c.authenticate({ username: 'alice', password: 'pw' }));
      assert.deepEqual(
        err.attempts.map((x) => [x.server, x.reason]),
        [
          ['a', 'timeout'],
          ['b', 'timeout'],
        ],
      );
      assert.deepEqual(c.serverStatus().map((s) => s.state), ['held-down', 'held-down']);

      // Both held down: both are still tried, a first.
      const again = await expectUnavailable(c.authenticate({ username: 'alice', password: 'pw' }));
      assert.deepEqual(again.attempts.map((x) => x.server), ['a', 'b']);
      assert.equal(signIns(a), 2);
      assert.equal(signIns(b), 2);

      b.faults = {};
      const result = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(result.server, 'b');
      assert.equal(signIns(a), 3, 'a was tried first although held down');
      assert.deepEqual(
        events.filter(([name]) => name === 'server-down' || name === 'server-up').map(([name, p]) => [name, p.server]),
        [
          ['server-down', 'a'],
          ['server-down', 'b'],
          ['server-up', 'b'],
        ],
      );
      assert.deepEqual(c.serverStatus().map((s) => s.state), ['held-down', 'up']);
    });

    it('puts held-down servers last and tries them only while no server has answered', async () => {
      const a = await server();
      const b = await server({ dropFirst: 1_000_000 });
      const c = client(
        [
          { name: 'a', address: a.address },
          { name: 'b', address: b.address },
        ],
        { holdDown: 60_000 },
      );
      // Hold b down.
      await expectUnavailable(c.authenticate({ username: 'alice', password: 'pw', servers: ['b'] }));
      assert.deepEqual(c.serverStatus().map((s) => s.state), ['up', 'held-down']);

      // Listing b first does not matter: a (up) goes first and its answer is final...
      const first = await c.authenticate({ username: 'alice', password: 'pw', servers: ['b', 'a'] });
      assert.equal(first.server, 'a');
      a.faults = { replyWith: 'reject' };
      const rejected = await c.authenticate({ username: 'alice', password: 'pw', servers: ['b', 'a'] });
      assert.equal(rejected.type, 'reject');
      assert.equal(rejected.server, 'a');
      assert.equal(signIns(b), 1, 'a Reject from an up server is not followed by a held-down one');

      // ...but when a does not answer, the held-down b is the last resort.
      a.faults = { dropFirst: 1_000_000 };
      b.faults = {};
      const rescued = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(rescued.server, 'b');
      assert.equal(rescued.type, 'accept');
      assert.deepEqual(c.serverStatus().map((s) => s.state), ['held-down', 'up']);
    });

    it('never holds a server down for an Access-Reject or an Access-Challenge', async () => {
      const a = await server({ replyWith: 'reject' });
      const b = await server({ replyWith: 'challenge' });
      const c = client(
        [
          { name: 'a', address: a.address },
          { name: 'b', address: b.address },
        ],
        { holdDown: 60_000 },
      );
      const events = recordEvents(c);
      const result = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(result.type, 'challenge');
      assert.equal(result.server, 'b');
      const again = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(again.type, 'challenge');
      assert.equal(a.received.length, 2, 'a was asked both times');
      assert.deepEqual(c.serverStatus().map((s) => [s.state, s.lastError]), [
        ['up', undefined],
        ['up', undefined],
      ]);
      assert.equal(events.filter(([name]) => name === 'server-down').length, 0);
    });

    it('holds nothing down with holdDown: 0', async () => {
      const a = await server({ dropFirst: 1_000_000 });
      const b = await server();
      const c = client(
        [
          { name: 'a', address: a.address },
          { name: 'b', address: b.address },
        ],
        { holdDown: 0 },
      );
      const events = recordEvents(c);
      await c.authenticate({ username: 'alice', password: 'pw' });
      await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(a.received.length, 2);
      assert.equal(c.serverStatus()[0]!.state, 'up');
      assert.equal(c.serverStatus()[0]!.counters.timeouts, 2);
      assert.equal(events.filter(([name]) => name === 'server-down').length, 0);
    });
  });

  describe('host names', () => {
    it('resolves localhost when used', async () => {
      const { address } = await process.getBuiltinModule('node:dns/promises').lookup('localhost');
      const srv = await server({}, address);
      const c = client([{ name: 'local', address: `localhost:${srv.port}` }]);
      const result = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(result.type, 'accept');
      assert.equal(srv.received.length, 1);
    });

    it('looks the name up at every use and follows a changed address', async () => {
      const one = await server({}, '127.0.0.1');
      const two = await server({}, '127.0.0.2', one.port);
      const dns = process.getBuiltinModule('node:dns/promises');
      const original = dns.lookup;
      let target = '127.0.0.1';
      const asked: string[] = [];
      const fake = async (host: string): Promise<{ address: string; family: number }> => {
        asked.push(host);
        return { address: target, family: 4 };
      };
      (dns as { lookup: unknown }).lookup = fake;
      cleanups.push(() => ((dns as { lookup: unknown }).lookup = original));

      const c = client([{ name: 'named', address: `radius.example.test:${one.port}` }]);
      assert.deepEqual(asked, [], 'nothing is looked up at construction');
      assert.equal((await c.authenticate({ username: 'alice', password: 'pw' })).type, 'accept');
      target = '127.0.0.2';
      assert.equal((await c.authenticate({ username: 'alice', password: 'pw' })).type, 'accept');
      assert.deepEqual(asked, ['radius.example.test', 'radius.example.test']);
      assert.equal(one.received.length, 1);
      assert.equal(two.received.length, 1);
    });

    it('counts a name that does not resolve as a failed server (reason dns) and never throws at construction', async () => {
      const b = await server();
      const c = client([
        { name: 'nowhere', address: 'no-such-host.invalid:1812' },
        { name: 'b', address: b.address },
      ]);
      const events = recordEvents(c);
      const result = await c.authenticate({ username: 'alice', password: 'pw' });
      assert.equal(result.server, 'b');
      assert.deepEqual(
        events.filter(([name]) => name === 'failover').map(([, p]) => p),
        [{ from: 'nowhere', to: 'b', reason: 'dns' }],
      );
      const [nowhere] = c.serverStatus();
      assert.match(nowhere!.lastError ?? '', /^dns \((ENOTFOUND|EAI_AGAIN|EAI_NONAME|ESERVFAIL)\)$/);
      assert.equal(nowhere!.state, 'held-down');
      assert.equal(nowhere!.counters.requests, 0, 'nothing was sent');

      const alone = client([{ name: 'nowhere', address: 'no-such-host.invalid' }]);
      const err = await expectUnavailable(alone.authenticate({ username: 'alice', password: 'pw' }));
      assert.equal(err.attempts.length, 1);
      assert.equal(err.attempts[0]!.reason, 'dns');
      assert.match(err.message, /nowhere/);
    });
  });

  describe('close()', () => {
    it('rejects pending sign-ins with RadiusClosedError, resolves, leaves no socket open and refuses new sign-ins', async () => {
      const before = openUdpSockets();
      const silent = await server({ dropFirst: 1_000_000 });
      const withServer = openUdpSockets();
      const c = client([{ name: 'silent', address: silent.address, timeout: 10_000, retries: 2 }]);
      const pending = Array.from({ length: 300 }, () => c.authenticate({ username: 'alice', password: 'pw' }));
      const deadline = performance.now() + 2000;
      while (silent.received.length === 0 && performance.now() < deadline) await sleep(5);
      assert.equal(openUdpSockets(), withServer + 2, 'two sockets for 300 requests in flight');

      const started = performance.now();
      await c.close();
      const outcomes = await Promise.allSettled(pending);
      assert.ok(performance.now() - started < 200);
      for (const o of outcomes) {
        assert.equal(o.status, 'rejected');
        assert.ok(o.reason instanceof RadiusClosedError, String(o.reason));
      }
      assert.equal(openUdpSockets(), withServer);
      await assert.rejects(c.authenticate({ username: 'alice', password: 'pw' }), RadiusClosedError);
      await c.close(); // idempotent
      await silent.close();
      assert.equal(openUdpSockets(), before);
    });

    it('rejects a sign-in that is waiting for DNS with RadiusClosedError and sends nothing', async () => {
      const srv = await server();
      const dns = process.getBuiltinModule('node:dns/promises');
      const original = dns.lookup;
      (dns as { lookup: unknown }).lookup = async (): Promise<{ address: string; family: number }> => {
        await sleep(100);
        return { address: '127.0.0.1', family: 4 };
      };
      cleanups.push(() => ((dns as { lookup: unknown }).lookup = original));
      const c = client([{ name: 'named', address: `radius.example.test:${srv.port}` }]);
      const pending = c.authenticate({ username: 'alice', password: 'pw' });
      await sleep(10);
      await c.close();
      await assert.rejects(pending, RadiusClosedError);
      await sleep(20);
      assert.equal(srv.received.length, 0);
    });
  });
});
