import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { RadiusClient } from '../lib/client';
import type { RadiusServerOptions } from '../lib/options';
import { Attr, Code, chapPassword, encodeAttribute, encodeRequest, parsePacket, verifyReply } from '../lib/protocol/packet';
import {
  DuoProxyProfile,
  NpsMfaProfile,
  OktaAgentProfile,
  PrivacyIdeaProfile,
  RadiusTestServer,
  RsaProfile,
  accept,
  reject,
  type Faults,
  type HandlerRequest,
  type RadiusHandler,
  type RadiusTestServerOptions,
} from '../lib/testing';
import { papAttributes } from './support/packets';
import { expectUnavailable } from './support/errors';
import { sleep } from './support/time';

const SECRET = 'testing123';
const NAS = encodeAttribute(Attr.NasIdentifier, Buffer.from('test'));

const openServers: RadiusTestServer[] = [];
const openClients: RadiusClient[] = [];

async function startServer(options: Partial<RadiusTestServerOptions> = {}): Promise<RadiusTestServer> {
  const srv = new RadiusTestServer({
    secret: SECRET,
    users: {
      alice: { password: 'wonderland', replyMessage: ['Welcome, ', 'Alice'], attributes: [[Attr.Class, Buffer.from('gold')]] },
      bob: { password: 'builder' },
    },
    ...options,
  });
  openServers.push(srv);
  await srv.listen();
  return srv;
}

function makeClient(
  srv: RadiusTestServer,
  server: Partial<RadiusServerOptions> = {},
  extra: Array<{ srv: RadiusTestServer; name: string }> = [],
): RadiusClient {
  const entry = (s: RadiusTestServer, name: string): RadiusServerOptions => ({
    name,
    address: s.address,
    secret: SECRET,
    attributes: { 'NAS-Identifier': 'test' },
    timeout: 400,
    retries: 0,
    ...server,
  });
  const client = new RadiusClient({ servers: [entry(srv, 'test'), ...extra.map((e) => entry(e.srv, e.name))], holdDown: 0 });
  openClients.push(client);
  return client;
}

/** Sends one datagram from a fresh socket; resolves with the first reply or undefined after `waitMs`. */
async function rawExchange(srv: RadiusTestServer, packet: Buffer, waitMs = 100): Promise<Buffer | undefined> {
  const host = srv.address.startsWith('[') ? '::1' : '127.0.0.1';
  const socket = createSocket(host === '::1' ? 'udp6' : 'udp4');
  return new Promise<Buffer | undefined>((resolve) => {
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, waitMs);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.send(packet, srv.port, host);
  });
}

function request(args: { code?: number; identifier?: number; attributes: Buffer[]; messageAuthenticator?: boolean; authenticator?: Buffer }): {
  packet: Buffer;
  authenticator: Buffer;
} {
  const authenticator = args.authenticator ?? randomBytes(16);
  const packet = encodeRequest({
    code: args.code ?? Code.AccessRequest,
    identifier: args.identifier ?? 42,
    requestAuthenticator: authenticator,
    attributes: Buffer.concat(args.attributes),
    secret: Buffer.from(SECRET),
    messageAuthenticator: args.messageAuthenticator ?? true,
  });
  return { packet, authenticator };
}

function papRequest(username: string, password: string, messageAuthenticator = true): { packet: Buffer; authenticator: Buffer } {
  const authenticator = randomBytes(16);
  return request({
    authenticator,
    messageAuthenticator,
    attributes: papAttributes(username, password, Buffer.from(SECRET), authenticator, 'test'),
  });
}

describe('RadiusTestServer', function () {
  this.timeout(5000);

  afterEach(async () => {
    await Promise.all(openClients.splice(0).map((c) => c.close()));
    await Promise.all(openServers.splice(0).map((s) => s.close()));
  });

  describe('options and lifecycle', () => {
    it('throws TypeError on bad options', () => {
      const bad: unknown[] = [
        undefined,
        {},
        { secret: '' },
        { secret: 'x', host: 'localhost' },
        { secret: 'x', port: -1 },
        { secret: 'x', port: 1.5 },
        { secret: 'x', signReplies: 'yes' },
        { secret: 'x', users: { a: { password: 1 } } },
        { secret: 'x', users: { a: { password: 'p', replyMessage: 'x'.repeat(254) } } },
        { secret: 'x', users: { a: { password: 'p', attributes: [[0, Buffer.alloc(1)]] } } },
        { secret: 'x', users: { a: { password: 'p', challenge: [{ code: '1', prompt: 'p', state: Buffer.alloc(0) }] } } },
        { secret: 'x', faults: { malformed: 'nope' } },
        { secret: 'x', faults: { dropFirst: -1 } },
        { secret: 'x', faults: { unknownSwitch: true } },
      ];
      for (const options of bad) {
        assert.throws(() => new RadiusTestServer(options as RadiusTestServerOptions), TypeError, JSON.stringify(options));
      }
      const srv = new RadiusTestServer({ secret: 'x' });
      assert.throws(() => srv.setFaults({ replyWith: 'maybe' } as unknown as Faults), TypeError);
      assert.throws(() => srv.address, /listen/);
    });

    it('listens on an ephemeral port, reports its address, refuses a second listen and closes idempotently', async () => {
      const srv = new RadiusTestServer({ secret: SECRET });
      openServers.push(srv);
      const info = await srv.listen();
      assert.equal(info.host, '127.0.0.1');
      assert.ok(info.port > 0);
      assert.equal(info.address, `127.0.0.1:${info.port}`);
      assert.equal(srv.address, info.address);
      assert.equal(srv.port, info.port);
      assert.equal(srv.listening, true);
      await assert.rejects(srv.listen(), /twice/);
      await srv.close();
      await srv.close();
      assert.equal(srv.listening, false);
      await assert.rejects(srv.listen(), /after close/);
    });

    it('rejects listen() when the port is taken', async () => {
      const first = await startServer();
      const second = new RadiusTestServer({ secret: SECRET, port: first.port });
      openServers.push(second);
      await assert.rejects(second.listen(), /EADDRINUSE/);
    });
  });

  describe('PAP and CHAP', () => {
    it('accepts PAP with the right password, with Reply-Message(s), extra attributes and a Message-Authenticator first', async () => {
      const srv = await startServer();
      const client = makeClient(srv);
      const replies: Array<{ code: number; identifier: number }> = [];
      srv.on('reply', (r) => replies.push(r));
      const result = await client.authenticate({ username: 'alice', password: 'wonderland' });
      assert.equal(result.type, 'accept');
      assert.equal(result.replyMessage, 'Welcome, Alice');
      assert.equal(result.rawAttributes[0]?.type, Attr.MessageAuthenticator);
      assert.deepEqual(
        result.rawAttributes.filter((a) => a.type === Attr.Class).map((a) => a.value.toString()),
        ['gold'],
      );
      assert.equal(srv.received.length, 1);
      const seen = srv.received[0]!;
      assert.equal(seen.code, Code.AccessRequest);
      assert.equal(seen.username, 'alice');
      assert.equal(seen.password, 'wonderland');
      assert.equal(seen.chap, undefined);
      assert.equal(seen.hasMessageAuthenticatorFirst, true);
      assert.equal(seen.from.address, '127.0.0.1');
      assert.equal(replies.length, 1);
      assert.deepEqual(replies[0], { code: Code.AccessAccept, identifier: seen.identifier });
    });

    it('rejects PAP with a wrong password or an unknown user', async () => {
      const srv = await startServer();
      const client = makeClient(srv);
      assert.equal((await client.authenticate({ username: 'alice', password: 'wrong' })).type, 'reject');
      assert.equal((await client.authenticate({ username: 'nobody', password: 'wonderland' })).type, 'reject');
      assert.equal(srv.received[0]!.password, 'wrong');
    });

    it('accepts CHAP with the right password and rejects a wrong one', async () => {
      const srv = await startServer();
      const client = makeClient(srv, { protocol: 'chap' });
      assert.equal((await client.authenticate({ username: 'bob', password: 'builder' })).type, 'accept');
      assert.equal((await client.authenticate({ username: 'bob', password: 'builderr' })).type, 'reject');
      assert.equal(srv.received[0]!.chap, true);
      assert.equal(srv.received[0]!.password, undefined);
    });

    it('checks CHAP against a CHAP-Challenge attribute when there is one', async () => {
      const srv = await startServer();
      const challenge = randomBytes(16);
      const build = (password: string): Buffer =>
        request({
          attributes: [
            encodeAttribute(Attr.UserName, Buffer.from('bob')),
            encodeAttribute(Attr.ChapPassword, chapPassword(9, Buffer.from(password), challenge)),
            encodeAttribute(Attr.ChapChallenge, challenge),
            NAS,
          ],
        }).packet;
      assert.equal(parsePacket((await rawExchange(srv, build('builder')))!)?.code, Code.AccessAccept);
      assert.equal(parsePacket((await rawExchange(srv, build('nope')))!)?.code, Code.AccessReject);
    });
  });

  describe('Access-Challenge', () => {
    it('runs a two-round challenge with State and Prompt, then rejects a replayed State', async () => {
      const srv = await startServer({
        users: {
          carol: {
            password: 'pw',
            replyMessage: 'done',
            challenge: [
              { code: '123456', prompt: 'Enter the code from your app', echo: false },
              { code: 'blue', prompt: ['Favourite ', 'colour?'], echo: true },
            ],
          },
        },
      });
      const client = makeClient(srv);
      const first = await client.authenticate({ username: 'carol', password: 'pw' });
      assert.equal(first.type, 'challenge');
      assert.ok(first.type === 'challenge');
      assert.equal(first.replyMessage, 'Enter the code from your app');
      assert.equal(first.echo, false);
      assert.equal(first.state?.length, 16);
      assert.ok(first.rawAttributes.some((a) => a.type === Attr.Prompt && a.value.equals(Buffer.of(0, 0, 0, 0))));

      const second = await client.respond({ server: 'test', username: 'carol', response: '123456', state: first.state! });
      assert.ok(second.type === 'challenge');
      assert.equal(second.replyMessage, 'Favourite colour?');
      assert.equal(second.echo, true);
      assert.ok(!second.state!.equals(first.state!));
      assert.deepEqual(srv.received[1]!.state, first.state);
      assert.equal(srv.received[1]!.password, '123456');

      const third = await client.respond({ server: 'test', username: 'carol', response: 'blue', state: second.state! });
      assert.equal(third.type, 'accept');
      assert.equal(third.replyMessage, 'done');

      // The State was used up.
      const replay = await client.respond({ server: 'test', username: 'carol', response: 'blue', state: second.state! });
      assert.equal(replay.type, 'reject');
    });

    it('rejects a wrong code, a wrong State and a State for another user', async () => {
      const srv = await startServer({
        users: {
          carol: { password: 'pw', challenge: [{ code: '111', prompt: 'Code?' }] },
          dave: { password: 'pw', challenge: [{ code: '111', prompt: 'Code?' }] },
        },
      });
      const client = makeClient(srv);
      const a = await client.authenticate({ username: 'carol', password: 'pw' });
      assert.ok(a.type === 'challenge');
      assert.equal((await client.respond({ server: 'test', username: 'carol', response: '222', state: a.state! })).type, 'reject');
      // The failed attempt consumed the challenge.
      assert.equal((await client.respond({ server: 'test', username: 'carol', response: '111', state: a.state! })).type, 'reject');

      const b = await client.authenticate({ username: 'carol', password: 'pw' });
      assert.ok(b.type === 'challenge');
      const tampered = Buffer.from(b.state!);
      tampered[0]! ^= 1;
      assert.equal((await client.respond({ server: 'test', username: 'carol', response: '111', state: tampered })).type, 'reject');

      const c = await client.authenticate({ username: 'carol', password: 'pw' });
      assert.ok(c.type === 'challenge');
      assert.equal((await client.respond({ server: 'test', username: 'dave', response: '111', state: c.state! })).type, 'reject');
    });

    it('round-trips a State with 0x00 0xff 0x0d 0x0a bytes and a 253-byte State byte for byte', async () => {
      const odd = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x00, 0x7f, 0x80, 0x00]);
      const long = Buffer.alloc(253);
      for (let i = 0; i < long.length; i++) long[i] = [0x00, 0xff, 0x0d, 0x0a][i % 4]!;
      const srv = await startServer({
        users: {
          erin: {
            password: 'pw',
            challenge: [
              { code: 'one', prompt: 'First', state: odd },
              { code: 'two', prompt: 'Second', state: long },
            ],
          },
        },
      });
      const client = makeClient(srv);
      const first = await client.authenticate({ username: 'erin', password: 'pw' });
      assert.ok(first.type === 'challenge');
      assert.deepEqual(first.state, odd);
      assert.equal(first.echo, false);
      assert.ok(!first.rawAttributes.some((a) => a.type === Attr.Prompt));
      const second = await client.respond({ server: 'test', username: 'erin', response: 'one', state: first.state! });
      assert.ok(second.type === 'challenge');
      assert.deepEqual(srv.received.at(-1)!.state, odd);
      assert.equal(second.state?.length, 253);
      assert.deepEqual(second.state, long);
      const third = await client.respond({ server: 'test', username: 'erin', response: 'two', state: second.state! });
      assert.equal(third.type, 'accept');
      assert.deepEqual(srv.received.at(-1)!.state, long);
    });

    it('runs a challenge without State (state: null), keyed by user name', async () => {
      const srv = await startServer({ users: { frank: { password: 'pw', challenge: [{ code: '9', prompt: 'Code?', state: null }] } } });
      const client = makeClient(srv);
      const first = await client.authenticate({ username: 'frank', password: 'pw' });
      assert.ok(first.type === 'challenge');
      assert.equal(first.state, undefined);
      assert.equal((await client.respond({ server: 'test', username: 'frank', response: '9' })).type, 'accept');
      assert.equal(srv.received.at(-1)!.state, undefined);
    });

    it('expires a challenge after challengeExpiryMs', async () => {
      const srv = await startServer({ challengeExpiryMs: 50, users: { gina: { password: 'pw', challenge: [{ code: '1', prompt: 'Code?' }] } } });
      const client = makeClient(srv);
      const first = await client.authenticate({ username: 'gina', password: 'pw' });
      assert.ok(first.type === 'challenge');
      await sleep(80);
      assert.equal((await client.respond({ server: 'test', username: 'gina', response: '1', state: first.state! })).type, 'reject');
    });
  });

  describe('IPv6 and Status-Server', () => {
    it('serves on ::1', async () => {
      const srv = await startServer({ host: '::1' });
      assert.match(srv.address, /^\[::1\]:\d+$/);
      const client = makeClient(srv);
      assert.equal((await client.authenticate({ username: 'alice', password: 'wonderland' })).type, 'accept');
      assert.equal(srv.received[0]!.from.address, '::1');
    });

    it('answers Status-Server with a signed Access-Accept', async () => {
      const srv = await startServer({ signReplies: false });
      const { packet, authenticator } = request({ code: Code.StatusServer, identifier: 7, attributes: [NAS] });
      const reply = await rawExchange(srv, packet);
      assert.ok(reply, 'no reply to Status-Server');
      const verdict = verifyReply(reply, authenticator, Buffer.from(SECRET), true);
      assert.ok(verdict.ok, JSON.stringify(verdict));
      assert.equal(verdict.packet.code, Code.AccessAccept);
      assert.equal(verdict.packet.identifier, 7);
      assert.equal(verdict.packet.attributes[0]?.type, Attr.MessageAuthenticator);
      assert.equal(srv.received[0]!.code, Code.StatusServer);
    });

    it('drops Status-Server without a Message-Authenticator, and all of it when statusServer is false', async () => {
      const srv = await startServer({ requireMessageAuthenticator: false });
      assert.equal(await rawExchange(srv, request({ code: Code.StatusServer, attributes: [NAS], messageAuthenticator: false }).packet), undefined);
      assert.equal(srv.drops['missing-message-authenticator'], 1);
      const off = await startServer({ statusServer: false });
      assert.equal(await rawExchange(off, request({ code: Code.StatusServer, attributes: [NAS] }).packet), undefined);
      assert.equal(off.drops['status-server-disabled'], 1);
    });
  });

  describe('request checks and garbage', () => {
    it('drops requests without a Message-Authenticator unless requireMessageAuthenticator is false', async () => {
      const strict = await startServer();
      assert.equal(await rawExchange(strict, papRequest('alice', 'wonderland', false).packet), undefined);
      assert.equal(strict.drops['missing-message-authenticator'], 1);
      assert.equal(strict.received[0]!.hasMessageAuthenticatorFirst, false);

      const lax = await startServer({ requireMessageAuthenticator: false });
      const { packet, authenticator } = papRequest('alice', 'wonderland', false);
      const reply = await rawExchange(lax, packet);
      assert.ok(reply);
      const verdict = verifyReply(reply, authenticator, Buffer.from(SECRET), true);
      assert.ok(verdict.ok && verdict.packet.code === Code.AccessAccept);
    });

    it('drops a request whose Message-Authenticator is wrong (even when not required)', async () => {
      const srv = await startServer({ requireMessageAuthenticator: false });
      const { packet } = papRequest('alice', 'wonderland');
      packet[25]! ^= 0x40; // inside the Message-Authenticator value (first attribute, bytes 22..37)
      assert.equal(await rawExchange(srv, packet), undefined);
      assert.equal(srv.drops['bad-message-authenticator'], 1);
    });

    it('never throws on garbage and keeps answering', async () => {
      const srv = await startServer();
      const dropped: string[] = [];
      srv.on('dropped', ({ reason }) => dropped.push(reason));
      const good = papRequest('alice', 'wonderland').packet;
      const garbage: Buffer[] = [
        Buffer.alloc(0),
        Buffer.from('hello'),
        randomBytes(19),
        Buffer.concat([good.subarray(0, 2), Buffer.of(0, 19), good.subarray(4)]), // Length 19
        Buffer.concat([good.subarray(0, 2), Buffer.of(0x0f, 0xff), good.subarray(4)]), // Length past the datagram
        Buffer.concat([Buffer.of(1, 1, 0, 22), randomBytes(16), Buffer.of(1, 0)]), // attribute Length 0
        Buffer.concat([Buffer.of(1, 1, 0, 26), randomBytes(16), Buffer.of(26, 6, 0, 0, 0, 9)]), // short VSA
        Buffer.concat([Buffer.of(4), good.subarray(1)]), // Accounting-Request
        request({ attributes: [NAS, encodeAttribute(Attr.MessageAuthenticator, Buffer.alloc(4))], messageAuthenticator: false }).packet,
      ];
      for (let i = 0; i < 50; i++) garbage.push(randomBytes(20 + (i % 40)));
      const socket = createSocket('udp4');
      let answered = 0;
      socket.on('message', () => answered++);
      for (const g of garbage) socket.send(g, srv.port, '127.0.0.1');
      await sleep(150);
      socket.close();
      assert.equal(answered, 0);
      // Every datagram was dropped exactly once, for a reason.
      assert.equal(dropped.length, garbage.length);
      assert.ok((srv.drops.malformed ?? 0) >= 7, JSON.stringify(srv.drops));
      assert.ok(srv.received.some((r) => r.attributes.some((a) => a.type === Attr.MessageAuthenticator && a.value.length === 4)));
      assert.equal(srv.drops['unsupported-code'] !== undefined, true);
      assert.equal(srv.drops['internal-error'], undefined);
      assert.equal(dropped.length, Object.values(srv.drops).reduce((n, v) => n + (v ?? 0), 0));
      const client = makeClient(srv);
      assert.equal((await client.authenticate({ username: 'alice', password: 'wonderland' })).type, 'accept');
    });

    it('answers a retransmission of the same request with the same reply', async () => {
      const srv = await startServer({ users: { carol: { password: 'pw', challenge: [{ code: '1', prompt: 'Code?' }] } } });
      const { packet } = papRequest('carol', 'pw');
      // Same source port, Identifier and Request Authenticator (RFC 5080 §2.2.2).
      const socket = createSocket('udp4');
      socket.connect(srv.port, '127.0.0.1');
      await once(socket, 'connect');
      const next = (): Promise<Buffer> => once(socket, 'message').then(([msg]) => msg as Buffer);
      let got = next();
      socket.send(packet);
      const a = await got;
      got = next();
      socket.send(packet);
      const b = await got;
      socket.close();
      assert.equal(srv.received.length, 2);
      assert.equal(a[0], Code.AccessChallenge);
      assert.deepEqual(a, b);
    });
  });

  describe('faults', () => {
    it('dropFirst: the client retransmits identical bytes and is accepted', async () => {
      const srv = await startServer({ faults: { dropFirst: 1 } });
      const client = makeClient(srv, { timeout: 600, retries: 2 });
      const result = await client.authenticate({ username: 'alice', password: 'wonderland' });
      assert.equal(result.type, 'accept');
      assert.equal(srv.received.length, 2);
      assert.deepEqual(srv.received[0]!.raw, srv.received[1]!.raw);
      assert.equal(srv.drops['fault-drop-first'], 1);
      assert.equal(client.servers()[0]!.counters.retransmissions, 1);
    });

    it('delayMs: the reply comes late but in time', async () => {
      const srv = await startServer({ faults: { delayMs: 150 } });
      const client = makeClient(srv, { timeout: 1000, retries: 0 });
      const result = await client.authenticate({ username: 'alice', password: 'wonderland' });
      assert.equal(result.type, 'accept');
      assert.ok(result.rttMs >= 140, `rtt ${result.rttMs}`);
    });

    it('delayMs longer than the timeout: timeout, and close() cancels the pending reply', async () => {
      const srv = await startServer({ faults: { delayMs: 500 } });
      const client = makeClient(srv, { timeout: 200, retries: 0 });
      let replies = 0;
      srv.on('reply', () => replies++);
      await expectUnavailable(client.authenticate({ username: 'alice', password: 'wonderland' }));
      await srv.close();
      await sleep(350);
      assert.equal(replies, 0);
    });

    it('duplicateReplies: accepted once, duplicates counted as dropped', async () => {
      const srv = await startServer({ faults: { duplicateReplies: 2 } });
      const client = makeClient(srv);
      const result = await client.authenticate({ username: 'alice', password: 'wonderland' });
      assert.equal(result.type, 'accept');
      await sleep(50);
      const { counters } = client.servers()[0]!;
      assert.equal(counters.accepts, 1);
      assert.equal(counters.dropped.duplicate, 2);
    });

    it('badResponseAuthenticator: timeout naming the Response Authenticator', async () => {
      const srv = await startServer({ faults: { badResponseAuthenticator: true } });
      const client = makeClient(srv, { timeout: 300, retries: 1 });
      const err = await expectUnavailable(client.authenticate({ username: 'alice', password: 'wonderland' }));
      assert.match(err.message, /Response Authenticator/);
      assert.equal(err.attempts[0]!.dropped['bad-response-authenticator'], 2);
      assert.equal(client.servers()[0]!.counters.dropped['bad-response-authenticator'], 2);
    });

    it('forgedThenReal: the forged reply is dropped, the real one accepted', async () => {
      const srv = await startServer({ faults: { forgedThenReal: true } });
      const client = makeClient(srv);
      assert.equal((await client.authenticate({ username: 'alice', password: 'wonderland' })).type, 'accept');
      assert.equal(client.servers()[0]!.counters.dropped['bad-response-authenticator'], 1);
    });

    it('wrongIdentifier: timeout, the reply counted as unknown-identifier', async () => {
      const srv = await startServer({ faults: { wrongIdentifier: true } });
      const client = makeClient(srv, { timeout: 300 });
      await expectUnavailable(client.authenticate({ username: 'alice', password: 'wonderland' }));
      assert.equal(client.servers()[0]!.counters.dropped['unknown-identifier'], 1);
    });

    it('fromOtherPort: the reply comes from another port and never reaches the connected client', async () => {
      const srv = await startServer({ faults: { fromOtherPort: true } });
      let replies = 0;
      srv.on('reply', () => replies++);
      const client = makeClient(srv, { timeout: 300 });
      const err = await expectUnavailable(client.authenticate({ username: 'alice', password: 'wonderland' }));
      assert.equal(replies, 1);
      assert.equal(client.servers()[0]!.counters.accepts, 0);
      assert.deepEqual(err.attempts[0]!.dropped, {});
      // An unconnected socket does get it, from a port other than the server's.
      const socket = createSocket('udp4');
      const got = once(socket, 'message');
      socket.send(papRequest('alice', 'wonderland').packet, srv.port, '127.0.0.1');
      const [msg, rinfo] = (await got) as [Buffer, { port: number }];
      socket.close();
      assert.equal(msg[0], Code.AccessAccept);
      assert.notEqual(rinfo.port, srv.port);
    });

    it('noMessageAuthenticator: timeout naming the Message-Authenticator; accepted with requireMessageAuthenticator: false', async () => {
      const srv = await startServer({ faults: { noMessageAuthenticator: true } });
      const strict = makeClient(srv, { timeout: 300 });
      const err = await expectUnavailable(strict.authenticate({ username: 'alice', password: 'wonderland' }));
      assert.match(err.message, /Message-Authenticator/);
      assert.equal(err.attempts[0]!.dropped['missing-message-authenticator'], 1);
      const lax = makeClient(srv, { requireMessageAuthenticator: false });
      const result = await lax.authenticate({ username: 'alice', password: 'wonderland' });
      assert.equal(result.type, 'accept');
      assert.ok(!result.rawAttributes.some((a) => a.type === Attr.MessageAuthenticator));
    });

    it('signReplies: false behaves like noMessageAuthenticator', async () => {
      const srv = await startServer({ signReplies: false });
      await expectUnavailable(makeClient(srv, { timeout: 300 }).authenticate({ username: 'alice', password: 'wonderland' }));
      const result = await makeClient(srv, { requireMessageAuthenticator: false }).authenticate({ username: 'alice', password: 'wonderland' });
      assert.equal(result.type, 'accept');
    });

    it('badMessageAuthenticator: dropped even by a client that does not require one', async () => {
      const srv = await startServer({ faults: { badMessageAuthenticator: true } });
      const client = makeClient(srv, { timeout: 300, requireMessageAuthenticator: false });
      const err = await expectUnavailable(client.authenticate({ username: 'alice', password: 'wonderland' }));
      assert.equal(err.attempts[0]!.dropped['bad-message-authenticator'], 1);
      assert.match(err.message, /Message-Authenticator/);
    });

    for (const kind of ['attr-length-0', 'attr-length-1', 'attr-overrun', 'length-under-20', 'short-vsa', 'truncated'] as const) {
      it(`malformed '${kind}': no success, no throw, counted as malformed`, async () => {
        const srv = await startServer({ faults: { malformed: kind } });
        const client = makeClient(srv, { timeout: 250 });
        const err = await expectUnavailable(client.authenticate({ username: 'alice', password: 'wonderland' }));
        assert.equal(err.attempts[0]!.dropped.malformed, 1);
        assert.equal(client.servers()[0]!.counters.dropped.malformed, 1);
        assert.equal(client.servers()[0]!.counters.accepts, 0);
        srv.faults = {};
        assert.equal((await client.authenticate({ username: 'alice', password: 'wonderland' })).type, 'accept');
      });
    }

    it('replyWith overrides the outcome, e.g. to exercise failover on reject', async () => {
      const first = await startServer({ faults: { replyWith: 'reject' } });
      const second = await startServer();
      const client = makeClient(first, {}, [{ srv: second, name: 'second' }]);
      const result = await client.authenticate({ username: 'alice', password: 'wonderland' });
      assert.equal(result.type, 'accept');
      assert.equal(result.server, 'second');

      first.setFaults({ replyWith: 'accept' });
      const forced = await client.authenticate({ username: 'alice', password: 'not the password' });
      assert.equal(forced.type, 'accept');
      assert.equal(forced.server, 'test');

      first.faults = { replyWith: 'challenge' };
      const challenged = await client.authenticate({ username: 'bob', password: 'builder' });
      assert.ok(challenged.type === 'challenge');
      assert.equal(challenged.state?.length, 16);
    });

    it('faults can be changed at run time and restart the dropFirst count', async () => {
      const srv = await startServer();
      const client = makeClient(srv, { timeout: 200, retries: 0 });
      assert.equal((await client.authenticate({ username: 'alice', password: 'wonderland' })).type, 'accept');
      srv.faults = { dropFirst: 1 };
      assert.equal(Object.isFrozen(srv.faults), true);
      await expectUnavailable(client.authenticate({ username: 'alice', password: 'wonderland' }));
      assert.equal((await client.authenticate({ username: 'alice', password: 'wonderland' })).type, 'accept');
      srv.setFaults();
      assert.deepEqual(srv.faults, {});
    });
  });

  describe('with a handler (decisions apart from sockets)', () => {
    it('asks the handler for each authentic Access-Request and sends what it decides', async () => {
      const seen: HandlerRequest[] = [];
      const handler: RadiusHandler = {
        handle(request) {
          seen.push(request);
          return request.proves(Buffer.from('pw')) ? accept({ message: `hi ${request.username}` }) : reject();
        },
      };
      const srv = new RadiusTestServer({ secret: SECRET, handler });
      openServers.push(srv);
      await srv.listen();
      const client = makeClient(srv);
      const ok = await client.authenticate({ username: 'carla', password: 'pw' });
      assert.equal(ok.type, 'accept');
      assert.equal(ok.replyMessage, 'hi carla');
      assert.equal((await client.authenticate({ username: 'carla', password: 'nope' })).type, 'reject');
      assert.equal(seen.length, 2);
      assert.equal(seen[0]!.text(Attr.NasIdentifier), 'test');
      assert.equal(seen[0]!.password?.toString(), 'pw');
    });

    it('holds a request while the handler decides, drops its retransmissions meanwhile, and answers them all from the cache after', async () => {
      let calls = 0;
      const handler: RadiusHandler = {
        async handle() {
          calls++;
          await sleep(250);
          return accept();
        },
      };
      const srv = new RadiusTestServer({ secret: SECRET, handler });
      openServers.push(srv);
      await srv.listen();
      const client = makeClient(srv, { timeout: 900, retries: 8 });
      assert.equal((await client.authenticate({ username: 'carla', password: 'pw' })).type, 'accept');
      assert.equal(calls, 1);
      assert.ok((srv.drops['in-progress'] ?? 0) >= 1, JSON.stringify(srv.drops));
    });

    it('sends nothing when the handler returns null or throws, counting why', async () => {
      const handler: RadiusHandler = {
        handle(request) {
          if (request.username === 'boom') throw new Error('bug');
          return null;
        },
      };
      const srv = new RadiusTestServer({ secret: SECRET, handler });
      openServers.push(srv);
      await srv.listen();
      const client = makeClient(srv, { timeout: 150, retries: 0 });
      await expectUnavailable(client.authenticate({ username: 'quiet', password: 'pw' }));
      await expectUnavailable(client.authenticate({ username: 'boom', password: 'pw' }));
      assert.equal(srv.drops['no-reply'], 1);
      assert.equal(srv.drops['internal-error'], 1);
    });

    it('closes a held request with the server: nothing is sent after close() and close() resolves', async () => {
      const nps = new NpsMfaProfile({ pushDelayMs: null, users: { alice: { password: 'pw', method: 'push' } } });
      const srv = new RadiusTestServer({ secret: SECRET, handler: nps });
      openServers.push(srv);
      await srv.listen();
      const client = makeClient(srv, { timeout: 300, retries: 0 });
      const attempt = client.authenticate({ username: 'alice', password: 'pw' });
      await sleep(50);
      assert.equal(nps.pushLog[0]?.outcome, 'pending');
      await srv.close();
      assert.equal(nps.pushLog[0]?.outcome, 'aborted');
      await expectUnavailable(attempt);
    });

    it('refuses bad handler and profile options with TypeError', () => {
      const bad: Array<() => unknown> = [
        () => new RadiusTestServer({ secret: 'x', handler: {} as RadiusHandler }),
        () => new RadiusTestServer({ secret: 'x', users: {}, handler: { handle: () => null } }),
        () => new RadiusTestServer({ secret: 'x', sekret: 'y' } as unknown as RadiusTestServerOptions),
        () => new NpsMfaProfile({ users: { a: { password: 'p', method: 'otp' } } }),
        () => new NpsMfaProfile({ users: { a: { password: 'p', method: 'sms' as 'otp' } } }),
        () => new NpsMfaProfile({ users: {}, pushDelayMs: -1 }),
        () => new DuoProxyProfile({ mode: 'push' as 'auto', users: {} }),
        () => new DuoProxyProfile({ mode: 'auto', users: { a: { password: 'p', passcodes: ['12'] } } }),
        () => new OktaAgentProfile({ users: { a: { password: 'p', factors: [] } } }),
        () => new RsaProfile({ users: { a: { pin: '12', tokencode: '111111', nextTokencode: '222222' } } }),
        () => new PrivacyIdeaProfile({ users: { a: { pin: 'p' } } }),
        () => new PrivacyIdeaProfile({ users: { a: { pin: 'p', otp: '1', colour: 'red' } as never } }),
      ];
      for (const make of bad) assert.throws(make, TypeError, make.toString());
    });
  });

});
