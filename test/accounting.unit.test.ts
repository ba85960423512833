/**
 * Accounting-Requests (RFC 2866) without FreeRADIUS: the bytes of a packet against a vector computed
 * independently (Python hashlib), the Request Authenticator, and RadiusClient.account against small UDP
 * responders written here: new Identifier and Acct-Delay-Time on each retransmission (RFC 5080 §2.2.1),
 * Response Authenticator checks, failover, and the `accounting-error` event.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { RadiusClient, RadiusStrategy, RadiusUnavailableError, type RadiusClientEvents } from '../lib';
import { encodeAccountingAttributes, encodeAccountingRequest } from '../lib/protocol/accounting';
import { normalizeServer } from '../lib/options';
import { encodeConfiguredAttributes } from '../lib/protocol/dictionary';
import { freeUdpPort } from './support/freeradius';

const SECRET = 'testing123';

/**
 * An Accounting-Request computed outside this project (Python: struct + hashlib.md5 over Code, Identifier
 * 42, Length, 16 zero octets, the attributes and "testing123"): Stop, Acct-Session-Id 0123456789ABCDEF,
 * User-Name frank, NAS-Identifier console, Calling-Station-Id 192.0.2.7, Class admins, Class ops,
 * Acct-Authentic RADIUS, Acct-Session-Time 125, Acct-Terminate-Cause User-Request, Event-Timestamp
 * 1700000000, Acct-Delay-Time 3.
 */
const STOP_VECTOR =
  '042a00728f93921ef8d462e4493d4f55456b9d3e2806000000022c123031323334353637383941424344454601076672616e6b2009636f6e736f6c651f0b3139322e302e322e37190861646d696e7319056f70732d06000000012e060000007d31060000000137066553f100290600000003';

/** Attributes of an Accounting-Request: type → values, in order. */
function attributesOf(packet: Buffer): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  for (let offset = 20; offset < packet.length; offset += packet[offset + 1]!) {
    const type = packet[offset]!;
    out.set(type, [...(out.get(type) ?? []), packet.subarray(offset + 2, offset + packet[offset + 1]!)]);
  }
  return out;
}

/** A UDP accounting server on 127.0.0.1 that records each request and answers as `answer` says. */
async function responder(answer: (request: Buffer, index: number) => Buffer | undefined): Promise<{ port: number; received: Buffer[]; close(): Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(msg);
    const reply = answer(msg, received.length - 1);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, received, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

/** An Accounting-Response to `request`: Response Authenticator = MD5(5 ‖ Id ‖ Length ‖ Request Authenticator ‖ secret). */
function accountingResponse(request: Buffer, secret = SECRET, withMessageAuthenticator = false): Buffer {
  const reply = Buffer.alloc(withMessageAuthenticator ? 38 : 20);
  reply[0] = 5;
  reply[1] = request[1]!;
  reply.writeUInt16BE(reply.length, 2);
  request.copy(reply, 4, 4, 20);
  if (withMessageAuthenticator) {
    reply[20] = 80;
    reply[21] = 18;
    createHmac('md5', secret).update(reply).digest().copy(reply, 22);
  }
  const auth = createHash('md5').update(reply).update(secret).digest();
  auth.copy(reply, 4);
  return reply;
}

function server(name: string, port: number, extra: Record<string, unknown> = {}): { name: string; address: string; secret: string; attributes: Record<string, string>; accountingAddress: string } {
  return { name, address: `127.0.0.1:${port}`, secret: SECRET, attributes: { 'NAS-Identifier': 'acct-test' }, accountingAddress: `127.0.0.1:${port}`, ...extra };
}

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

describe('RadiusClient.account', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });

  function client(servers: ReturnType<typeof server>[]): RadiusClient {
    const c = new RadiusClient({ servers });
    closers.push(() => c.close());
    return c;
  }

  it('sends each retransmission as a new packet: new Identifier, Acct-Delay-Time updated (RFC 5080 §2.2.1)', async () => {
    const r = await responder((request, i) => (i === 0 ? undefined : accountingResponse(request)));
    closers.push(r.close);
    const c = client([server('a', r.port, { timeout: 2400, retries: 1 })]);
    const result = await c.account({ statusType: 'Start', sessionId: 'S1', username: 'alice', eventTime: Date.now() - 5000 });
    assert.equal(result.server, 'a');
    assert.equal(r.received.length, 2);
    const [first, second] = r.received as [Buffer, Buffer];
    assert.notEqual(first[1], second[1], 'a new Identifier');
    const delay = (p: Buffer): number => attributesOf(p).get(41)![0]!.readUInt32BE(0);
    assert.ok(delay(first) >= 5, `Acct-Delay-Time counts from the event (${delay(first)})`);
    assert.ok(delay(second) > delay(first), `Acct-Delay-Time grows (${delay(first)} → ${delay(second)})`);
    for (const p of [first, second]) {
      const zeroed = Buffer.from(p);
      zeroed.fill(0, 4, 20);
      assert.deepEqual(p.subarray(4, 20), createHash('md5').update(zeroed).update(SECRET).digest(), 'Request Authenticator per RFC 2866 §3');
      assert.equal(attributesOf(p).get(80), undefined, 'no Message-Authenticator in the request');
    }
  });

  it('drops a reply with a wrong Response Authenticator and fails over to the next server', async () => {
    const forged = await responder((request) => accountingResponse(request, 'not-the-secret'));
    const good = await responder((request) => accountingResponse(request, SECRET, true));
    closers.push(forged.close, good.close);
    const c = client([server('forged', forged.port, { timeout: 300, retries: 0 }), server('good', good.port)]);
    const dropped: string[] = [];
    c.on('dropped', (e) => dropped.push(`${e.server}:${e.reason}`));
    const result = await c.account({ statusType: 'Stop', sessionId: 'S2', username: 'alice', sessionTime: 10, terminateCause: 'Admin-Reset' });
    assert.equal(result.server, 'good');
    assert.deepEqual(dropped, ['forged:bad-response-authenticator']);
    const stop = attributesOf(good.received[0]!);
    assert.equal(stop.get(49)![0]!.readUInt32BE(0), 6, 'Acct-Terminate-Cause Admin-Reset');
    assert.equal(stop.get(46)![0]!.readUInt32BE(0), 10, 'Acct-Session-Time');
  });

  it('drops an Accounting-Response whose Message-Authenticator does not verify, though its Response Authenticator does', async () => {
    const badMa = await responder((request) => {
      const reply = accountingResponse(request, SECRET, true);
      // Spoil the Message-Authenticator, then sign the packet again so that only the former is wrong.
      reply[25]! ^= 0xff;
      reply.fill(0, 4, 20);
      request.copy(reply, 4, 4, 20);
      createHash('md5').update(reply).update(SECRET).digest().copy(reply, 4);
      return reply;
    });
    const good = await responder((request) => accountingResponse(request));
    closers.push(badMa.close, good.close);
    const c = client([server('bad-ma', badMa.port, { timeout: 300, retries: 0 }), server('good', good.port)]);
    const dropped: string[] = [];
    c.on('dropped', (e) => dropped.push(`${e.server}:${e.reason}`));
    const result = await c.account({ statusType: 'Start', sessionId: 'S4', username: 'alice' });
    assert.equal(result.server, 'good', 'an unsigned reply is taken, a badly signed one is not');
    assert.deepEqual(dropped, ['bad-ma:bad-message-authenticator']);
  });

  it('rejects with RadiusUnavailableError and emits accounting-error when no server answers', async () => {
    const silent = await responder(() => undefined);
    closers.push(silent.close);
    const closed = await freeUdpPort();
    const c = client([server('silent', silent.port, { timeout: 200, retries: 1 }), server('closed', closed)]);
    const events: RadiusClientEvents['accounting-error'][0][] = [];
    c.on('accounting-error', (e) => events.push(e));
    await assert.rejects(c.account({ statusType: 'Start', sessionId: 'S3', username: 'alice' }), (err: unknown) => {
      assert.ok(err instanceof RadiusUnavailableError);
      assert.deepEqual(
        err.attempts.map((a) => [a.server, a.reason]),
        [
          ['silent', 'timeout'],
          ['closed', 'unreachable'],
        ],
      );
      return true;
    });
    assert.equal(silent.received.length, 2);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.sessionId, 'S3');
    assert.equal(events[0]!.statusType, 'Start');
    assert.ok(events[0]!.error instanceof RadiusUnavailableError);
  });

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
