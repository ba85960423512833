/**
 * RadiusClient.account against small UDP responders written here: new Identifier and Acct-Delay-Time on
 * each retransmission (RFC 5080 §2.2.1), Response Authenticator and Message-Authenticator checks, failover,
 * and the `accounting-error` event. The packets themselves: test/accounting.unit.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { RadiusClient, RadiusConfigError, RadiusUnavailableError, type RadiusClientEvents } from '../lib';
import { accountingServer as server, attributesOf, SECRET } from './support/accounting';
import { freeUdpPort } from './support/ports';

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

  it('refuses a user name with a control character as authenticate does (RadiusConfigError), sending nothing', async () => {
    const r = await responder((request) => accountingResponse(request));
    closers.push(r.close);
    const c = client([server('a', r.port)]);
    for (const username of ['trudy\0@globex.example', 'eve\r\nforged', 'del\u007f', 'c1\u0085']) {
      const refused = (err: unknown): boolean => err instanceof RadiusConfigError && /username must not contain control characters/.test(err.message);
      await assert.rejects(c.authenticate({ username, password: 'pw' }), refused, `authenticate ${JSON.stringify(username)}`);
      await assert.rejects(c.account({ statusType: 'Start', sessionId: 'S5', username }), refused, `account ${JSON.stringify(username)}`);
    }
    assert.equal(r.received.length, 0, 'no Accounting-Request (nor Access-Request) was sent');
    await c.account({ statusType: 'Start', sessionId: 'S5', username: 'trudy@globex.example' });
    assert.equal(r.received.length, 1, 'a plain user name is still sent');
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
});
