/**
 * Names fixed while 0.x (issue 17): the new names work and the old ones remain as deprecated aliases.
 * The renamed client event and serverStatus() over UDP: test/renames.udp.test.ts.
 */
import assert from 'node:assert/strict';
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
