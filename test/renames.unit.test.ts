/**
 * Names fixed while 0.x (issue 17): the new names work and the old ones remain as deprecated aliases.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
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

  it("emits 'no-reply' (and the deprecated 'timeout') with the same payload; serverStatus() and servers() agree", async () => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    const { port } = s.address();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const client = new api.RadiusClient({
      servers: [{ name: 'closed', address: `127.0.0.1:${port}`, secret: 'renames-secret', attributes: { 'NAS-Identifier': 'renames' } }],
    });
    const seen: Array<[string, unknown]> = [];
    client.on('no-reply', (e) => seen.push(['no-reply', e]));
    client.on('timeout', (e) => seen.push(['timeout', e]));
    await assert.rejects(client.authenticate({ username: 'u', password: 'p' }), api.RadiusUnavailableError);
    const payload = { server: 'closed', username: 'u', reason: 'unreachable' };
    assert.deepEqual(seen, [
      ['no-reply', payload],
      ['timeout', payload],
    ]);
    assert.deepEqual(client.servers(), client.serverStatus());
    assert.equal(client.serverStatus()[0]!.state, 'held-down', 'a really closed port is confirmed by the watchdog');
    await client.close();
  });

  it('exports loadDictionaries, an explicit idempotent step', () => {
    assert.equal(typeof api.loadDictionaries, 'function');
    api.loadDictionaries([]);
    api.loadDictionaries([]);
  });
});
