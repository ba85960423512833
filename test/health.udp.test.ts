/**
 * Push-aware health (lib/health.ts) against the in-process test server on loopback: a server is held down
 * only on evidence that it is dead — never because one sign-in waited for a user's phone — and an ICMP
 * error alone never holds a server down.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { RadiusClient, type RadiusClientEvents } from '../lib/client';
import { RadiusClosedError } from '../lib/errors';
import type { RadiusServerOptions } from '../lib/options';
import { accept, reject, RadiusTestServer, type HandlerRequest, type RadiusHandler } from '../lib/testing';
import { ExchangeError } from '../lib/transport';
import { sleep } from './support/time';

const SECRET = 'health-test-secret';

/** A handler that holds `push` for `holdMs` (a push waiting for approval), then accepts; answers `alice` at once. */
function pushHandler(holdMs: number): RadiusHandler & { timers: Set<NodeJS.Timeout> } {
  const timers = new Set<NodeJS.Timeout>();
  return {
    timers,
    handle(request: HandlerRequest) {
      if (request.username === 'alice') return request.proves(Buffer.from('pw')) ? accept() : reject();
      if (request.username !== 'push') return reject();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve(accept({ message: 'approved' }));
        }, holdMs);
        timers.add(timer);
        request.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(null);
        });
      });
    },
    close() {
      for (const t of timers) clearTimeout(t);
    },
  };
}

function names(client: RadiusClient): Array<[keyof RadiusClientEvents, unknown]> {
  const seen: Array<[keyof RadiusClientEvents, unknown]> = [];
  for (const name of ['server-down', 'server-up', 'failover', 'no-reply'] as const) {
    client.on(name, (payload: unknown) => seen.push([name, payload]));
  }
  return seen;
}

const signIns = (srv: RadiusTestServer, user: string): Buffer[] =>
  srv.received.filter((r) => r.code === 1 && r.username === user).map((r) => r.raw);

describe('Push-aware health', function () {
  this.timeout(20000);
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function server(options: { holdMs?: number; statusServer?: boolean } = {}): Promise<RadiusTestServer> {
    const srv = new RadiusTestServer({ secret: SECRET, handler: pushHandler(options.holdMs ?? 0), statusServer: options.statusServer ?? true });
    cleanups.push(() => srv.close());
    await srv.listen();
    return srv;
  }

  async function blackhole(): Promise<Socket> {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => s.close(() => resolve())));
    return s;
  }

  function client(servers: Array<Pick<RadiusServerOptions, 'name' | 'address'> & Partial<RadiusServerOptions>>, holdDown = 60_000): RadiusClient {
    const c = new RadiusClient({
      servers: servers.map((s) => ({ secret: SECRET, attributes: { 'NAS-Identifier': 'health-test' }, ...s })),
      holdDown,
    });
    cleanups.push(() => c.close());
    return c;
  }

  it('a push held 3.5 s (timeout 10 s) signs in at its server while another user is answered at once; nothing is held down', async () => {
    const push = await server({ holdMs: 3500 });
    const backup = await server();
    const c = client([
      { name: 'push', address: push.address, timeout: 10_000, retries: 2 },
      { name: 'backup', address: backup.address },
    ]);
    const events = names(c);
    const started = performance.now();
    const held = c.authenticate({ username: 'push', password: 'pw' });
    await sleep(300);
    const quick = await c.authenticate({ username: 'alice', password: 'pw' });
    assert.equal(quick.type, 'accept');
    assert.equal(quick.server, 'push');
    assert.ok(performance.now() - started < 2000, 'the other user was answered at once');
    const result = await held;
    assert.equal(result.type, 'accept');
    assert.equal(result.server, 'push');
    assert.equal(result.replyMessage, 'approved');
    assert.deepEqual(events, [], 'no timeout, failover or server-down');
    assert.deepEqual(c.serverStatus().map((s) => s.state), ['up', 'up']);
    assert.equal(backup.received.length, 0, 'the backup was never asked');
    // Retransmitted at 3.33 s: the identical bytes (the server drops it as a retransmission in progress).
    const sent = signIns(push, 'push');
    assert.equal(sent.length, 2);
    assert.ok(sent[0]!.equals(sent[1]!), 'retransmissions are byte-identical');
    // The watchdog asked while the push was pending, and the server answered it.
    assert.ok(push.received.some((r) => r.code === 12), 'a Status-Server watchdog was sent');
  });

  it('a server that answers nothing is held down within 5 s (timeout 60 s), and the sign-in there stays pending', async () => {
    const silent = await blackhole();
    const backup = await server();
    const c = client([
      { name: 'silent', address: `127.0.0.1:${silent.address().port}`, timeout: 60_000, retries: 2 },
      { name: 'backup', address: backup.address },
    ]);
    const started = performance.now();
    const pending = c.authenticate({ username: 'alice', password: 'pw' });
    const outcome = pending.then(
      () => 'settled',
      (err: unknown) => err,
    );
    const [down] = (await once(c, 'server-down')) as [{ server: string; reason: string }];
    const elapsed = performance.now() - started;
    assert.equal(down.server, 'silent');
    assert.equal(down.reason, 'timeout');
    assert.ok(elapsed < 5000, `held down after ${elapsed.toFixed(0)} ms`);
    assert.equal(c.serverStatus()[0]!.state, 'held-down');
    // Never fail over while a request is still pending there.
    await sleep(200);
    assert.equal(signIns(backup, 'alice').length, 0, 'no failover while the request is pending');
    // New sign-ins go to the backup first.
    const next = await c.authenticate({ username: 'alice', password: 'pw' });
    assert.equal(next.server, 'backup');
    await c.close();
    assert.ok((await outcome) instanceof RadiusClosedError);
  });

  it('keeps a server that does not answer Status-Server up through the Access-Request watchdog', async () => {
    const push = await server({ holdMs: 1500, statusServer: false });
    const c = client([{ name: 'push', address: push.address, timeout: 4000, retries: 0 }]);
    const events = names(c);
    const result = await c.authenticate({ username: 'push', password: 'pw' });
    assert.equal(result.type, 'accept');
    assert.deepEqual(events, []);
    assert.ok(
      push.received.some((r) => r.code === 1 && r.username?.startsWith('passport-radius-watchdog-')),
      'an Access-Request watchdog for a user that cannot exist was sent',
    );
  });

  it('holds nothing down for a timeout at a server that answered other requests meanwhile', async () => {
    const push = await server({ holdMs: 60_000 }); // never approved in time
    const c = client([{ name: 'push', address: push.address, timeout: 1200, retries: 0 }]);
    const events = names(c);
    const held = c.authenticate({ username: 'push', password: 'pw' }).catch((err: unknown) => err);
    for (let i = 0; i < 3; i++) {
      assert.equal((await c.authenticate({ username: 'alice', password: 'pw' })).type, 'accept');
      await sleep(200);
    }
    const err = (await held) as Error;
    assert.equal(err.name, 'RadiusUnavailableError');
    assert.deepEqual(events.map(([name]) => name), ['no-reply']);
    assert.equal(c.serverStatus()[0]!.state, 'up');
  });

  it('an ICMP error on the request socket alone holds nothing down: the watchdog from a fresh port hears the server', async () => {
    const a = await server();
    const b = await server();
    const c = client([
      { name: 'a', address: a.address, timeout: 5000 },
      { name: 'b', address: b.address },
    ]);
    const events = names(c);
    // The request socket reports port unreachable (as a forged ICMP would); the server itself is fine.
    const runtime = c.pool.get('a');
    runtime.transports.set('', {
      inFlight: 0,
      exchange: () => Promise.reject(new ExchangeError('unreachable', {}, 'ECONNREFUSED')),
      close: () => Promise.resolve(),
    });
    const result = await c.authenticate({ username: 'alice', password: 'pw' });
    assert.equal(result.server, 'b', 'the request on that socket moved on, as a timeout would');
    assert.ok(a.received.some((r) => r.code === 12), 'the watchdog asked a from a fresh socket');
    assert.equal(c.serverStatus()[0]!.state, 'up', 'a is not held down');
    assert.deepEqual(
      events.filter(([name]) => name === 'server-down'),
      [],
    );
    runtime.transports.clear();
    assert.equal((await c.authenticate({ username: 'alice', password: 'pw' })).server, 'a');
  });
});
