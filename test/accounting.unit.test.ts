/**
 * Accounting-Requests (RFC 2866) without sockets: the bytes of a packet against a vector computed
 * independently (Python hashlib), the Request Authenticator, and the accounting options. RadiusClient.account
 * over UDP: test/accounting.udp.test.ts; against FreeRADIUS: test/accounting.freeradius.test.ts.
 */
import assert from 'node:assert/strict';
import { RadiusStrategy } from '../lib';
import { encodeAccountingAttributes, encodeAccountingRequest } from '../lib/protocol/accounting';
import { normalizeServer } from '../lib/options';
import { encodeConfiguredAttributes } from '../lib/protocol/dictionary';
import { accountingServer as server, attributesOf, SECRET } from './support/accounting';

/**
 * An Accounting-Request computed outside this project (Python: struct + hashlib.md5 over Code, Identifier
 * 42, Length, 16 zero octets, the attributes and "testing123"): Stop, Acct-Session-Id 0123456789ABCDEF,
 * User-Name frank, NAS-Identifier console, Calling-Station-Id 192.0.2.7, Class admins, Class ops,
 * Acct-Authentic RADIUS, Acct-Session-Time 125, Acct-Terminate-Cause User-Request, Event-Timestamp
 * 1700000000, Acct-Delay-Time 3.
 */
const STOP_VECTOR =
  '042a00728f93921ef8d462e4493d4f55456b9d3e2806000000022c123031323334353637383941424344454601076672616e6b2009636f6e736f6c651f0b3139322e302e322e37190861646d696e7319056f70732d06000000012e060000007d31060000000137066553f100290600000003';

describe('Accounting-Request packets (RFC 2866 §3)', () => {
  it('are byte for byte the independently computed vector, Request Authenticator included', () => {
    const attributes = encodeAccountingAttributes({
      statusType: 'Stop',
      sessionId: '0123456789ABCDEF',
      username: 'frank',
      delaySeconds: 3,
      eventTimestamp: 1_700_000_000,
      sessionTime: 125,
      terminateCause: 'User-Request',
      callingStationId: '192.0.2.7',
      classes: [Buffer.from('admins'), Buffer.from('ops')],
      nasAttributes: encodeConfiguredAttributes([['NAS-Identifier', 'console']], 'test'),
    });
    const { packet, requestAuthenticator } = encodeAccountingRequest(42, attributes, Buffer.from(SECRET));
    assert.equal(packet.toString('hex'), STOP_VECTOR);
    assert.deepEqual(requestAuthenticator, packet.subarray(4, 20));
  });

  it('keep a configured Calling-Station-Id instead of the browser address, and drop configured Acct-* attributes', () => {
    const attributes = encodeAccountingAttributes({
      statusType: 'Start',
      sessionId: 'S',
      username: 'u',
      delaySeconds: 0,
      eventTimestamp: 0,
      callingStationId: '192.0.2.7',
      nasAttributes: encodeConfiguredAttributes(
        [
          ['NAS-Identifier', 'console'],
          ['Calling-Station-Id', 'kiosk-1'],
          ['Acct-Session-Id', 'configured'],
        ],
        'test',
      ),
    });
    const attrs = attributesOf(encodeAccountingRequest(1, attributes, Buffer.from(SECRET)).packet);
    assert.deepEqual(attrs.get(31), [Buffer.from('kiosk-1')]);
    assert.deepEqual(attrs.get(44), [Buffer.from('S')]);
  });
});

describe('RadiusClient.account options', () => {
  it('takes accountingAddress as host[:port] with port 1813 by default, else the host of address and 1813', () => {
    const base = { name: 'x', secret: SECRET, attributes: { 'NAS-Identifier': 'n' } };
    const plain = normalizeServer({ ...base, address: 'radius.example.com:11812' }, 'test');
    assert.deepEqual([plain.accountingHost, plain.accountingPort], ['radius.example.com', 1813]);
    const v6 = normalizeServer({ ...base, address: '[::1]', accountingAddress: '[::1]' }, 'test');
    assert.deepEqual([v6.accountingHost, v6.accountingPort], ['::1', 1813]);
    const other = normalizeServer({ ...base, address: '10.0.0.5', accountingAddress: 'acct.example.com:1646' }, 'test');
    assert.deepEqual([other.accountingHost, other.accountingPort], ['acct.example.com', 1646]);
    assert.throws(() => normalizeServer({ ...base, address: '10.0.0.5', accountingAddress: 'no such host!' }, 'test'), /test\.accountingAddress must be host\[:port\]/);
    assert.throws(() => normalizeServer({ ...base, address: '10.0.0.5', accountingAddress: 1813 }, 'test'), TypeError);
  });
});

describe('RadiusStrategy accounting options', () => {
  const base = { servers: [server('x', 1812)] };

  it('refuses accountingInterim without accounting, and out-of-range values', () => {
    assert.throws(() => new RadiusStrategy({ ...base, accountingInterim: 60_000 }), /accountingInterim requires accounting: true/);
    assert.throws(() => new RadiusStrategy({ ...base, accounting: true, accountingInterim: 10 }), /accountingInterim must be a number from 1000 to 86400000/);
    assert.throws(() => new RadiusStrategy({ ...base, accounting: 'yes' as unknown as boolean }), /accounting must be true or false/);
  });

  it('endSession refuses an unknown cause, and does nothing without a record', async () => {
    const strategy = new RadiusStrategy({ ...base, accounting: true });
    try {
      const req = { session: {} } as unknown as Parameters<RadiusStrategy['endSession']>[0];
      assert.throws(() => strategy.endSession(req, { cause: 'Lost-Carrier' as 'User-Request' }), /cause must be one of User-Request, Idle-Timeout, Session-Timeout, Admin-Reset/);
      await strategy.endSession(req);
      assert.deepEqual((req as unknown as { session: object }).session, {});
    } finally {
      await strategy.close();
    }
  });
});
