/**
 * Names fixed while 0.x (issue 17), over UDP: the client event 'no-reply' (and the deprecated 'timeout')
 * for a server behind a closed port, and serverStatus() (and the deprecated servers()).
 */
import assert from 'node:assert/strict';
import * as api from '../lib/index';
import { freeUdpPort } from './support/ports';

describe('Renamed APIs (old names kept as deprecated aliases)', () => {
  it("emits 'no-reply' (and the deprecated 'timeout') with the same payload; serverStatus() and servers() agree", async () => {
    const port = await freeUdpPort();
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
});
