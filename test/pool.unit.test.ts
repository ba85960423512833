/**
 * The server pool (lib/pool.ts): order, failover choice and hold-down on an injected clock — no sockets,
 * no sleeping.
 */
import { strict as assert } from 'node:assert';
import { normalizeClientOptions } from '../lib/options';
import { ServerPool, type PoolEvents } from '../lib/pool';

function pool(names: Array<string | { name: string; final: boolean }>, holdDown = 30_000) {
  let now = 1_000_000;
  const events: Array<[string, unknown]> = [];
  const { servers } = normalizeClientOptions(
    {
      servers: names.map((n) => ({
        name: typeof n === 'string' ? n : n.name,
        final: typeof n === 'string' ? false : n.final,
        address: '127.0.0.1',
        secret: 's',
        attributes: { 'NAS-Identifier': 'pool-test' },
      })),
    },
    'test',
  );
  const hooks: PoolEvents = {
    'server-down': (p) => events.push(['server-down', p]),
    'server-up': (p) => events.push(['server-up', p]),
  };
  const p = new ServerPool(servers, holdDown, hooks, () => now);
  return { p, events, advance: (ms: number) => (now += ms), at: () => now };
}

const order = (p: ServerPool, names?: string[]): string[] => p.choose(names).chosen.map((r) => r.config.name);

describe('ServerPool', () => {
  it('keeps the configured order while nothing is held down', () => {
    const { p } = pool(['a', 'b', 'c']);
    assert.deepEqual(order(p), ['a', 'b', 'c']);
    assert.deepEqual(order(p, ['c', 'a']), ['c', 'a']);
    assert.equal(p.choose().lastResort.size, 0);
  });

  it('moves a held-down server last for holdDown ms, then puts it back, with server-down then server-up', () => {
    const { p, events, advance, at } = pool(['a', 'b', 'c'], 30_000);
    const a = p.get('a');
    p.markDown(a, 'timeout');
    assert.deepEqual(order(p), ['b', 'c', 'a']);
    assert.ok(p.choose().lastResort.has(a));
    assert.deepEqual(events, [['server-down', { server: 'a', reason: 'timeout', until: at() + 30_000 }]]);
    assert.deepEqual(p.snapshot().map((s) => s.state), ['held-down', 'up', 'up']);

    advance(29_999);
    assert.deepEqual(order(p), ['b', 'c', 'a']);
    advance(1);
    assert.deepEqual(order(p), ['a', 'b', 'c']);
    assert.deepEqual(p.snapshot().map((s) => s.state), ['up', 'up', 'up']);

    p.markUp(a);
    assert.deepEqual(events.map(([name]) => name), ['server-down', 'server-up']);
  });

  it('does not repeat server-down while a server stays down, and extends the hold-down', () => {
    const { p, events, advance, at } = pool(['a', 'b'], 1000);
    p.markDown(p.get('a'), 'timeout');
    advance(500);
    p.markDown(p.get('a'), 'timeout');
    assert.equal(events.length, 1);
    assert.equal(p.snapshot()[0]!.heldDownUntil, at() + 1000);
  });

  it('tries every server in the given order when all are held down, none as a last resort', () => {
    const { p } = pool(['a', 'b']);
    p.markDown(p.get('a'), 'timeout');
    p.markDown(p.get('b'), 'timeout');
    assert.deepEqual(order(p), ['a', 'b']);
    assert.equal(p.choose().lastResort.size, 0);
  });

  it('keeps a final server in its place while held down', () => {
    const { p } = pool([{ name: 'mfa', final: true }, 'legacy']);
    p.markDown(p.get('mfa'), 'timeout');
    assert.deepEqual(order(p), ['mfa', 'legacy']);
    assert.deepEqual(p.snapshot().map((s) => s.state), ['held-down', 'up']);
  });

  it('skips last-resort servers once a server answered', () => {
    const { p } = pool(['a', 'b', 'c']);
    p.markDown(p.get('a'), 'timeout');
    const choice = p.choose();
    assert.equal(p.next(choice, 0, false)?.config.name, 'c');
    assert.equal(p.next(choice, 1, false)?.config.name, 'a');
    assert.equal(p.next(choice, 1, true), undefined);
  });

  it('holds nothing down with holdDown 0', () => {
    const { p, events } = pool(['a', 'b'], 0);
    p.markDown(p.get('a'), 'timeout');
    assert.deepEqual(order(p), ['a', 'b']);
    assert.equal(events.length, 0);
  });

  it('refuses an unknown server name', () => {
    const { p } = pool(['a']);
    assert.throws(() => p.choose(['nope']), /Unknown RADIUS server "nope"/);
  });
});
