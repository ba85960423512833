/**
 * Names fixed while 0.x (issue 17): the new names work and the old ones remain as deprecated aliases.
 * The renamed client event and serverStatus() over UDP: test/renames.udp.test.ts.
 */
import assert from 'node:assert/strict';
import type { Request } from 'express';
import * as api from '../lib/index';

describe('Renamed APIs (old names kept as deprecated aliases)', () => {
  it('RadiusUnavailableError is the error for "no server gave a valid reply"; RadiusTimeoutError is the same class', () => {
    const err = new api.RadiusUnavailableError([{ server: 'a', reason: 'dns', dropped: {}, detail: 'ENOTFOUND' }]);
    assert.equal(err.name, 'RadiusUnavailableError');
    assert.equal(err.code, 'ERR_RADIUS_UNAVAILABLE');
    assert.ok(err instanceof api.RadiusTimeoutError);
    assert.ok(err instanceof api.RadiusError);
    assert.equal(api.RadiusTimeoutError, api.RadiusUnavailableError);
  });

  it('exports loadDictionaries, an explicit idempotent step', () => {
    assert.equal(typeof api.loadDictionaries, 'function');
    api.loadDictionaries([]);
    api.loadDictionaries([]);
  });
});

describe('RadiusStrategy with a client of its own: serverStatus(), or the deprecated servers()', () => {
  const SERVERS = [{ name: 'a', address: '192.0.2.1' }];
  const accept: api.AuthResult = { type: 'accept', server: 'a', attributes: {}, rawAttributes: [], replyMessage: undefined, rttMs: 1 } as api.AuthResult;

  /** A client answering every request with an Access-Accept, its server list under `method`; records what it was sent. */
  function client(method: 'serverStatus' | 'servers' | 'none'): api.RadiusStrategyClient & { responded: string[] } {
    const responded: string[] = [];
    return {
      serverNames: ['a'],
      responded,
      ...(method === 'none' ? {} : { [method]: () => SERVERS }),
      authenticate: () => Promise.resolve(accept),
      respond: (r: api.ChallengeResponseRequest) => {
        responded.push(r.server);
        return Promise.resolve(accept);
      },
      close: () => Promise.resolve(),
    };
  }

  /** Sends the code step for a challenge of server a issued at `address`; resolves with the action taken and its status. */
  function answer(strategy: api.RadiusStrategy<api.RadiusStrategyClient>, address: string): Promise<string> {
    const session: Record<string, unknown> = {
      radius: { id: 'id-1', server: 'a', address, strategy: 'radius', username: 'carol', prompt: 'Code', echo: false, round: 1, expiresAt: Date.now() + 60_000 },
    };
    Object.defineProperty(session, 'save', { value: (done: () => void) => done() });
    Object.defineProperty(session, 'regenerate', { value: (done: () => void) => done() });
    return new Promise((resolve) => {
      const s = Object.create(strategy) as Record<string, unknown> & { authenticate(req: Request): void };
      s.success = () => resolve('success');
      s.fail = (_: unknown, status?: number) => resolve(`fail ${status}`);
      s.error = (err: Error) => resolve(`error ${err.message}`);
      s.redirect = (url: string) => resolve(`redirect ${url}`);
      s.pass = () => resolve('pass');
      s.authenticate({ body: { code: '123456' }, query: {}, session } as unknown as Request);
    });
  }

  for (const method of ['serverStatus', 'servers'] as const) {
    it(`checks the challenge's server address through ${method}()${method === 'servers' ? ' (deprecated, still honoured)' : ''}`, async () => {
      const c = client(method);
      const strategy = new api.RadiusStrategy({ client: c });
      assert.equal(await answer(strategy, '192.0.2.1'), 'success');
      assert.deepEqual(c.responded, ['a']);
      assert.equal(await answer(strategy, '192.0.2.99'), 'fail 403', 'a server moved to another address is refused');
      assert.deepEqual(c.responded, ['a'], 'nothing sent for the moved server');
    });
  }

  it('refuses a client with neither, naming serverStatus()', () => {
    assert.throws(() => new api.RadiusStrategy({ client: client('none') }), { name: 'TypeError', message: /serverNames, serverStatus\(\), authenticate\(\)/ });
  });
});

