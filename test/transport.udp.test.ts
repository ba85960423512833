/**
 * The UDP transport (lib/transport.ts) on its own: socket pool past 256 Identifiers, retransmission
 * timing, late and duplicate replies, hostile replies (verified before parsed, bounded work), ICMP errors
 * (per socket; a forged one sent from a raw socket), kernel drops, failed connects, close() and
 * process lifetime, following the rules in the header of lib/transport.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { DropReason } from '../lib/errors';
import { Attr, Code, encodeRequest, packetWork } from '../lib/protocol/packet';
import { RadiusTestServer } from '../lib/testing';
import { RadiusClient } from '../lib/client';
import type { AuthResult } from '../lib/result';
import { Destination, ExchangeError, type ExchangeRequest } from '../lib/transport';
import { papAttributes, signedReply } from './support/packets';
import { freeUdpPort as closedPort } from './support/ports';
import { describeRequiring } from './support/requirements';
import { sleep, until } from './support/time';

const SECRET = Buffer.from('testing123');
/** Waits until `condition()` holds; fails after `limitMs`. */
/** An Access-Request for `username`/`password` with a Message-Authenticator, ready for `exchange`. */
function accessRequest(
  username: string,
  password: string,
  options: { timeout?: number; retries?: number; onSend?: (attempt: number) => void } = {},
): ExchangeRequest {
  return {
    build(identifier) {
      const requestAuthenticator = randomBytes(16);
      const attributes = Buffer.concat(papAttributes(username, password, SECRET, requestAuthenticator, 'transport-test'));
      const packet = encodeRequest({ code: Code.AccessRequest, identifier, requestAuthenticator, attributes, secret: SECRET, messageAuthenticator: true });
      return { packet, requestAuthenticator };
    },
    secret: SECRET,
    requireMessageAuthenticator: true,
    expectCodes: [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge],
    timeout: options.timeout ?? 1000,
    retries: options.retries ?? 0,
    ...(options.onSend ? { onSend: options.onSend } : {}),
  };
}

interface Datagram {
  msg: Buffer;
  port: number;
  address: string;
  at: number;
}

/** A bare UDP responder on 127.0.0.1: records datagrams; `onMessage` decides what (if anything) to answer. */
class Responder {
  readonly socket: Socket = createSocket('udp4');
  readonly received: Datagram[] = [];
  onMessage: (d: Datagram, reply: (msg: Buffer) => void) => void = () => {};

  async listen(port = 0): Promise<number> {
    this.socket.on('message', (msg, rinfo) => {
      const d = { msg, port: rinfo.port, address: rinfo.address, at: performance.now() };
      this.received.push(d);
      this.onMessage(d, (reply) => this.socket.send(reply, rinfo.port, rinfo.address));
    });
    this.socket.bind(port, '127.0.0.1');
    await once(this.socket, 'listening');
    try {
      this.socket.setRecvBufferSize(1 << 20); // fewer losses in bursts (capped by net.core.rmem_max)
    } catch {
      // keep the default
    }
    return this.socket.address().port;
  }

  send(msg: Buffer, port: number): void {
    this.socket.send(msg, port, '127.0.0.1');
  }

  private closing: Promise<void> | undefined;

  /** Closes the socket; idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => this.socket.close(() => resolve()));
    return this.closing;
  }
}

async function expectExchangeError(promise: Promise<unknown>): Promise<ExchangeError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ExchangeError, `expected an ExchangeError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected the exchange to fail');
}

describe('UDP transport (Destination)', function () {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  function destination(host: string, port: number, drops?: DropReason[]): Destination {
    const d = new Destination(host, port, (reason) => drops?.push(reason));
    cleanups.push(() => d.close());
    return d;
  }

  async function responder(): Promise<{ r: Responder; port: number }> {
    const r = new Responder();
    const port = await r.listen();
    cleanups.push(() => r.close());
    return { r, port };
  }

  describe('more than 256 requests in flight', () => {
    it('spreads 600 over three source ports, never two outstanding on one (port, Identifier), and shrinks back to one socket', async () => {
      const srv = new RadiusTestServer({ secret: SECRET, users: { alice: { password: 'pw' } }, faults: { delayMs: 150 } });
      cleanups.push(() => srv.close());
      await srv.listen();
      const d = destination('127.0.0.1', srv.port);
      // The server shares this process's event loop, so a burst this size overflows its receive buffer:
      // the retransmissions (identical bytes, same Identifier and port) make up for the losses.
      const requests = Array.from({ length: 600 }, (_, i) =>
        d.exchange(accessRequest('alice', i % 2 === 0 ? 'pw' : 'wrong', { timeout: 3000, retries: 2 })),
      );
      assert.equal(d.inFlight, 600);
      assert.equal(d.sockets, 3);
      const results = await Promise.all(requests);
      results.forEach((r, i) => assert.equal(r.packet.code, i % 2 === 0 ? Code.AccessAccept : Code.AccessReject, `request ${i}`));

      // All 600 were outstanding together (every reply is delayed), so no (port, Identifier) may carry two
      // different requests (Request Authenticators).
      const byKey = new Map<string, Set<string>>();
      for (const q of srv.received) {
        const key = `${q.from.port}/${q.identifier}`;
        byKey.set(key, (byKey.get(key) ?? new Set()).add(q.authenticator.toString('hex')));
      }
      assert.equal(byKey.size, 600, 'distinct (source port, Identifier) pairs');
      for (const [key, authenticators] of byKey) assert.equal(authenticators.size, 1, `${key} carried two requests`);
      const perPort = new Map<number, Set<number>>();
      for (const q of srv.received) perPort.set(q.from.port, (perPort.get(q.from.port) ?? new Set()).add(q.identifier));
      assert.deepEqual([...perPort.values()].map((ids) => ids.size).sort((a, b) => b - a), [256, 256, 88]);
      assert.equal(d.sockets, 1, 'surplus sockets are closed once idle');
      assert.equal(d.inFlight, 0);
    });
  });

  describe('retransmission', () => {
    it('sends identical bytes from one port at timeout/(retries+1) intervals, then fails with timeout at `timeout`', async () => {
      const { r, port } = await responder();
      const d = destination('127.0.0.1', port);
      const attempts: number[] = [];
      const started = performance.now();
      const err = await expectExchangeError(d.exchange(accessRequest('alice', 'pw', { timeout: 600, retries: 3, onSend: (a) => attempts.push(a) })));
      const elapsed = performance.now() - started;
      assert.equal(err.reason, 'timeout');
      assert.deepEqual(attempts, [1, 2, 3, 4]);
      assert.equal(r.received.length, 4);
      for (const copy of r.received) {
        assert.deepEqual(copy.msg, r.received[0]!.msg, 'retransmissions are byte-identical');
        assert.equal(copy.port, r.received[0]!.port, 'retransmissions come from the same source port');
      }
      const first = r.received[0]!.at;
      r.received.forEach((copy, k) => {
        const offset = copy.at - first;
        assert.ok(Math.abs(offset - k * 150) < 60, `copy ${k} at +${offset.toFixed(1)} ms, expected +${k * 150} ms`);
      });
      assert.ok(elapsed >= 595 && elapsed < 800, `timed out after ${elapsed.toFixed(1)} ms`);
    });

    it('completes once on a reply to any copy; the reply to another copy is a counted duplicate', async () => {
      const { r, port } = await responder();
      // Answer each copy 250 ms after it arrives: the reply to copy 1 comes after copy 2 went out.
      r.onMessage = (dg, reply) => setTimeout(() => reply(signedReply(dg.msg, SECRET)), 250);
      const drops: DropReason[] = [];
      const d = destination('127.0.0.1', port, drops);
      let resolved = 0;
      const result = await d.exchange(accessRequest('alice', 'pw', { timeout: 600, retries: 2 })).then((x) => {
        resolved++;
        return x;
      });
      assert.equal(result.packet.code, Code.AccessAccept);
      assert.ok(result.rttMs >= 240 && result.rttMs < 400, `rtt ${result.rttMs}`);
      await sleep(300);
      assert.equal(resolved, 1);
      assert.equal(r.received.length, 2, 'no third copy after the reply');
      assert.deepEqual(drops, ['duplicate']);
      assert.deepEqual(result.dropped, {}, 'the duplicate is not charged to the completed request');
    });

    it('does not retransmit with retries: 0', async () => {
      const { r, port } = await responder();
      const d = destination('127.0.0.1', port);
      const err = await expectExchangeError(d.exchange(accessRequest('alice', 'pw', { timeout: 200, retries: 0 })));
      assert.equal(err.reason, 'timeout');
      assert.equal(r.received.length, 1);
    });
  });

  describe('late replies', () => {
    it('a late reply to an Identifier handed to a new request is counted late and leaves the new request alone', async () => {
      const { r, port } = await responder();
      const held: Datagram[] = [];
      // Keep the old and the new request unanswered; answer the 255 fillers at once.
      r.onMessage = (dg, reply) => {
        if (dg.msg.includes('old-request') || dg.msg.includes('new-request')) held.push(dg);
        else reply(signedReply(dg.msg, SECRET));
      };
      const drops: DropReason[] = [];
      const d = destination('127.0.0.1', port, drops);
      const old = await expectExchangeError(d.exchange(accessRequest('old-request', 'pw', { timeout: 60 })));
      assert.equal(old.reason, 'timeout');
      // 255 more allocations walk the Identifier cursor all the way round. (A burst this size can overflow
      // the responder's receive buffer in this same process: retransmissions make up for it.)
      await Promise.all(Array.from({ length: 255 }, () => d.exchange(accessRequest('filler', 'pw', { timeout: 3000, retries: 5 }))));
      const next = d.exchange(accessRequest('new-request', 'pw', { timeout: 2000 }));
      await until(() => held.length === 2);
      const [first, second] = held as [Datagram, Datagram];
      assert.equal(second.msg[1], first.msg[1], 'the Identifier was reused');
      assert.equal(second.port, first.port, 'on the same socket');

      let settled = false;
      void next.then(
        () => (settled = true),
        () => (settled = true),
      );
      r.send(signedReply(first.msg, SECRET, Code.AccessAccept), first.port); // the late reply to the old request
      await sleep(50);
      assert.equal(settled, false, 'the late reply did not complete the new request');
      assert.deepEqual(drops, ['late']);

      r.send(signedReply(second.msg, SECRET, Code.AccessReject), second.port);
      const result = await next;
      assert.equal(result.packet.code, Code.AccessReject);
      assert.deepEqual(result.dropped, {});
    });

    it('a reply after the request timed out is late however late; a reply for an Identifier never used is unknown-identifier', async () => {
      const { r, port } = await responder();
      const copies: Datagram[] = [];
      r.onMessage = (dg) => copies.push(dg);
      const drops: DropReason[] = [];
      const d = destination('127.0.0.1', port, drops);
      await expectExchangeError(d.exchange(accessRequest('alice', 'pw', { timeout: 80 })));
      const request = copies[0]!;
      r.send(signedReply(request.msg, SECRET), request.port);
      await until(() => drops.length === 1);
      await sleep(250); // well past the request's timeout
      r.send(signedReply(request.msg, SECRET), request.port);
      await until(() => drops.length === 2);
      const stray = Buffer.from(request.msg);
      stray[1] = (stray[1]! + 1) & 0xff; // an Identifier this socket has not used
      r.send(signedReply(stray, SECRET), request.port);
      await until(() => drops.length === 3);
      assert.deepEqual(drops, ['late', 'late', 'unknown-identifier']);
    });
  });

  describe('hostile replies: verified before they are parsed, bounded work per datagram', () => {
    /** The worst case of issue 16: 4096 bytes of 2-byte attributes, a wrong Response Authenticator. */
    function hostileReply(identifier: number, code: number = Code.AccessAccept): Buffer {
      const msg = Buffer.alloc(4096, 0);
      msg[0] = code;
      msg[1] = identifier;
      msg.writeUInt16BE(4096, 2);
      randomBytes(16).copy(msg, 4);
      for (let offset = 20; offset < 4096; offset += 2) {
        msg[offset] = Attr.ReplyMessage;
        msg[offset + 1] = 2;
      }
      return msg;
    }

    /** Work counted while `fn` runs and its datagrams are dropped. */
    async function work(fn: () => Promise<void>): Promise<{ digests: number; splits: number }> {
      const before = { ...packetWork };
      await fn();
      return { digests: packetWork.digests - before.digests, splits: packetWork.splits - before.splits };
    }

    it('drops a 4 KB reply of 2,038 attributes with a wrong authenticator and a pending Identifier after one MD5, without splitting it', async () => {
      const { r, port } = await responder();
      const drops: DropReason[] = [];
      const d = destination('127.0.0.1', port, drops);
      const pending = d.exchange(accessRequest('alice', 'pw', { timeout: 2000 }));
      await until(() => r.received.length === 1);
      const request = r.received[0]!;
      const cost = await work(async () => {
        r.send(hostileReply(request.msg[1]!), request.port);
        await until(() => drops.length === 1);
      });
      assert.deepEqual(drops, ['bad-response-authenticator']);
      assert.deepEqual(cost, { digests: 1, splits: 0 });

      // The genuine reply still completes the request, split exactly once, verified with two digests
      // (Response Authenticator, Message-Authenticator).
      const genuine = signedReply(request.msg, SECRET);
      const done = await work(async () => {
        r.send(genuine, request.port);
        assert.equal((await pending).packet.code, Code.AccessAccept);
      });
      assert.deepEqual(done, { digests: 2, splits: 1 });
    });

    it('checks the header, the Identifier and the packet code before any hashing', async () => {
      const { r, port } = await responder();
      const drops: DropReason[] = [];
      const d = destination('127.0.0.1', port, drops);
      const pending = d.exchange(accessRequest('alice', 'pw', { timeout: 2000 }));
      await until(() => r.received.length === 1);
      const request = r.received[0]!;
      const id = request.msg[1]!;
      const cost = await work(async () => {
        const overlong = hostileReply(id).subarray(0, 4000); // Length 4096 in a 4000-byte datagram
        r.send(overlong, request.port);
        r.send(hostileReply((id + 1) & 0xff), request.port); // no request ever held that Identifier
        r.send(hostileReply(id, 5), request.port); // Accounting-Response to an Access-Request
        await until(() => drops.length === 3);
      });
      assert.deepEqual(drops, ['malformed', 'unknown-identifier', 'unexpected-code']);
      assert.deepEqual(cost, { digests: 0, splits: 0 });
      r.send(signedReply(request.msg, SECRET), request.port);
      assert.equal((await pending).packet.code, Code.AccessAccept);
    });

    it('spends at most one MD5 per datagram on a flood at an Identifier that also had an earlier holder (late-reply checks rationed)', async function () {
      this.timeout(10_000);
      const { r, port } = await responder();
      const held: Datagram[] = [];
      r.onMessage = (dg, reply) => {
        if (dg.msg.includes('old-request') || dg.msg.includes('new-request')) held.push(dg);
        else reply(signedReply(dg.msg, SECRET));
      };
      const drops: DropReason[] = [];
      const d = destination('127.0.0.1', port, drops);
      await expectExchangeError(d.exchange(accessRequest('old-request', 'pw', { timeout: 60 })));
      await Promise.all(Array.from({ length: 255 }, () => d.exchange(accessRequest('filler', 'pw', { timeout: 3000, retries: 5 }))));
      const next = d.exchange(accessRequest('new-request', 'pw', { timeout: 5000 }));
      await until(() => held.length === 2);
      const [first, second] = held as [Datagram, Datagram];
      assert.equal(second.msg[1], first.msg[1], 'the Identifier was reused');
      drops.length = 0;

      const flood = 2000;
      const cost = await work(async () => {
        for (let i = 0; i < flood; i++) {
          r.send(hostileReply(second.msg[1]!), second.port);
          if (i % 200 === 199) await until(() => drops.length === i + 1);
        }
        await until(() => drops.length === flood);
      });
      assert.equal(cost.splits, 0);
      // One MD5 each, plus the late-reply checks the budget allows (64 at once, 64 a second).
      assert.ok(cost.digests >= flood && cost.digests <= flood + 64 + 64 * 5, `${cost.digests} digests for ${flood} datagrams`);
      assert.ok(drops.every((x) => x === 'bad-response-authenticator'));

      // A real late reply after the flood is still told apart once the budget refills, and the new request completes.
      await sleep(100);
      drops.length = 0;
      r.send(signedReply(first.msg, SECRET), first.port);
      await until(() => drops.length === 1);
      assert.deepEqual(drops, ['late']);
      r.send(signedReply(second.msg, SECRET, Code.AccessReject), second.port);
      assert.equal((await next).packet.code, Code.AccessReject);
    });
  });

  describe('unreachable servers and socket errors', () => {
    it('fails a burst of 300 requests on two sockets with unreachable at once (each socket hears its own ICMP port unreachable), and the socket keeps working', async () => {
      const port = await closedPort();
      const d = destination('127.0.0.1', port);
      const started = performance.now();
      const errors = await Promise.all(
        Array.from({ length: 300 }, () => expectExchangeError(d.exchange(accessRequest('alice', 'pw', { timeout: 5000, retries: 2 })))),
      );
      const elapsed = performance.now() - started;
      for (const err of errors) {
        assert.equal(err.reason, 'unreachable');
        assert.equal(err.detail, 'ECONNREFUSED');
      }
      assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms`);
      assert.equal(d.inFlight, 0);
      assert.equal(d.sockets, 1);

      // Stale ICMP errors from the burst must not linger: a server now listening on that port is reached.
      await sleep(50);
      const r = new Responder();
      await r.listen(port);
      cleanups.push(() => r.close());
      r.onMessage = (dg, reply) => reply(signedReply(dg.msg, SECRET));
      const result = await d.exchange(accessRequest('alice', 'pw', { timeout: 1000 }));
      assert.equal(result.packet.code, Code.AccessAccept);
    });

    it('fails with socket when connect() is refused (broadcast address) and retries on a fresh socket', async () => {
      const d = destination('255.255.255.255', 1812);
      const err = await expectExchangeError(d.exchange(accessRequest('alice', 'pw', { timeout: 5000 })));
      assert.equal(err.reason, 'socket');
      assert.equal(err.detail, 'EACCES');
      assert.equal(d.sockets, 0, 'the broken socket is retired');
      const again = await expectExchangeError(d.exchange(accessRequest('alice', 'pw', { timeout: 5000 })));
      assert.equal(again.detail, 'EACCES');
    });

    it('fails with socket (EINVAL) for a link-local IPv6 address without a scope, without waiting', async () => {
      const d = destination('fe80::1', 1812);
      const started = performance.now();
      const err = await expectExchangeError(d.exchange(accessRequest('alice', 'pw', { timeout: 5000 })));
      assert.ok(err.reason === 'socket' || err.reason === 'unreachable', err.message);
      assert.ok(performance.now() - started < 1000);
    });
  });

  describe('kernel drops', () => {
    /**
     * Another process sends 3000 datagrams of 4000 bytes from 127.0.0.1:`from` to `to` while this one is
     * blocked (spawnSync), so that nothing reads the socket: its receive buffer overflows.
     */
    function floodFrom(from: number, to: number): void {
      const flood = `const s = require('node:dgram').createSocket('udp4');
        s.bind(${from}, '127.0.0.1', () => { let n = 0; const b = Buffer.alloc(4000);
          for (let i = 0; i < 3000; i++) s.send(b, ${to}, '127.0.0.1', () => { if (++n === 3000) s.close(); }); });`;
      const child = spawnSync(process.execPath, ['-e', flood], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(child.status, 0, child.stderr);
    }

    it('counts datagrams the kernel dropped on a full receive buffer (/proc/net/udp drops) and reports them after a retransmission', async function () {
      if (!existsSync('/proc/net/udp')) this.skip();
      this.timeout(15_000);
      const { r, port } = await responder();
      const reported: number[] = [];
      const d = new Destination('127.0.0.1', port, () => {}, (count) => reported.push(count));
      cleanups.push(() => d.close());
      const pending = expectExchangeError(d.exchange(accessRequest('alice', 'pw', { timeout: 1500, retries: 1 })));
      await until(() => r.received.length === 1);
      const clientPort = r.received[0]!.port;
      assert.equal(d.readKernelDrops(), 0);
      // The server's port now sends junk from another process (the responder makes way).
      await r.close();
      floodFrom(port, clientPort);
      // The retransmission (at 750 ms) makes the transport look; nobody asked it to.
      await until(() => reported.length > 0, 'the kernel drops are reported', 5000);
      const total = reported.reduce((a, b) => a + b, 0);
      assert.ok(total > 500 && total < 3000, `${total} reported`);
      assert.equal(d.readKernelDrops(), total, 'read on demand: the same count, nothing new');
      // (The server's port is closed by now: the retransmission draws an ICMP port unreachable.)
      assert.ok(['timeout', 'unreachable'].includes((await pending).reason));
    });

    it("shows them as the server status's kernelDropped counter of RadiusClient", async function () {
      if (!existsSync('/proc/net/udp')) this.skip();
      this.timeout(15_000);
      const { r, port } = await responder();
      const client = new RadiusClient({
        holdDown: 0,
        servers: [{ name: 'flooded', address: `127.0.0.1:${port}`, secret: SECRET.toString(), attributes: { 'NAS-Identifier': 'transport-test' }, timeout: 1500, retries: 1 }],
      });
      cleanups.push(() => client.close());
      const pending = client.authenticate({ username: 'alice', password: 'pw' }).catch(() => undefined);
      await until(() => r.received.length === 1);
      const clientPort = r.received[0]!.port;
      await r.close();
      floodFrom(port, clientPort);
      await until(() => client.serverStatus()[0]!.counters.kernelDropped > 500, 'more than 500 kernel drops are counted', 5000);
      await pending;
    });
  });

  describe('close()', () => {
    it('fails pending requests with closed, closes every socket and refuses new requests', async () => {
      const { r, port } = await responder();
      const d = destination('127.0.0.1', port);
      const pending = Array.from({ length: 300 }, () => expectExchangeError(d.exchange(accessRequest('alice', 'pw', { timeout: 5000 }))));
      assert.equal(d.sockets, 2);
      await until(() => r.received.length > 0);
      d.close();
      const errors = await Promise.all(pending);
      assert.ok(errors.every((e) => e.reason === 'closed'));
      assert.equal(d.sockets, 0);
      assert.equal(d.inFlight, 0);
      assert.equal((await expectExchangeError(d.exchange(accessRequest('alice', 'pw')))).reason, 'closed');
      // Replies to closed sockets go nowhere and throw nothing.
      for (const dg of r.received.slice(0, 5)) r.send(signedReply(dg.msg, SECRET), dg.port);
      await sleep(30);
      d.close(); // idempotent
    });

    it('closes cleanly before the socket has even connected', async () => {
      const { r, port } = await responder();
      const d = destination('127.0.0.1', port);
      const pending = expectExchangeError(d.exchange(accessRequest('alice', 'pw')));
      d.close();
      assert.equal((await pending).reason, 'closed');
      await sleep(30);
      assert.equal(r.received.length, 0);
    });
  });

  describe('process lifetime', () => {
    /** Runs TypeScript in a child process; resolves with its stdout and exit code. */
    async function runChild(code: string, limitMs: number): Promise<{ out: string; code: number | null; ms: number }> {
      const started = performance.now();
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
      const [exitCode] = (await once(child, 'exit')) as [number | null];
      clearTimeout(killer);
      return { out, code: exitCode, ms: performance.now() - started };
    }

    it('lets the process exit without close() once nothing is pending, and stays alive while a request is', async function () {
      this.timeout(15_000);
      const lib = JSON.stringify(require.resolve('../lib/client'));
      const testing = JSON.stringify(require.resolve('../lib/testing'));
      const code = `
        const { RadiusClient } = require(${lib});
        const { RadiusTestServer } = require(${testing});
        (async () => {
          const srv = new RadiusTestServer({ secret: 's', users: { alice: { password: 'pw' } } }).unref();
          await srv.listen();
          const client = new RadiusClient({ holdDown: 0, servers: [
            { name: 'up', address: srv.address, secret: 's', attributes: { 'NAS-Identifier': 'x' }, timeout: 700 } ] });
          const ok = await client.authenticate({ username: 'alice', password: 'pw', servers: ['up'] });
          console.log('result', ok.type);
          // A request that waits out its timeout keeps the process alive until it ends.
          srv.faults = { dropFirst: 1000 };
          client.authenticate({ username: 'alice', password: 'pw', servers: ['up'] }).catch((e) => console.log('later', e.code));
        })();`;
      const { out, code: exitCode, ms } = await runChild(code, 10_000);
      assert.equal(exitCode, 0, out);
      assert.match(out, /result accept\s+later ERR_RADIUS_UNAVAILABLE/);
      assert.ok(ms < 8000, `exited after ${ms.toFixed(0)} ms`);
    });
  });
});

/** The forger: python3 with a raw ICMP socket (root or CAP_NET_RAW). */
const FORGER = require.resolve('./support/forge-icmp.py');
const rawIcmp = spawnSync('python3', [FORGER, '--check'], { stdio: 'ignore' }).status === 0;

describeRequiring(
  {
    available: rawIcmp,
    what: 'a raw ICMP socket (python3, run as root)',
    requireVar: 'REQUIRE_RAW_SOCKET',
    install: 'run the tests as root with python3 installed',
    skipping: 'the forged-ICMP test',
  },
  'UDP transport under a forged ICMP port unreachable (issue 16)',
  function () {
    const cleanups: Array<() => unknown> = [];
    afterEach(async () => {
      for (const fn of cleanups.splice(0).reverse()) await fn();
    });

    it('fails only the requests pending on the socket the ICMP names; requests on the other sockets complete', async function () {
      this.timeout(15_000);
      const r = new Responder();
      const port = await r.listen();
      cleanups.push(() => r.close());
      const drops: DropReason[] = [];
      const d = new Destination('127.0.0.1', port, (reason) => drops.push(reason));
      cleanups.push(() => d.close());
      // 300 sign-ins pending together: 256 on the first socket, 44 on a second (another source port).
      const outcomes = Array.from({ length: 300 }, (_, i) =>
        d.exchange(accessRequest(`user-${i}`, 'pw', { timeout: 8000, retries: 3 })).then(
          (result) => ({ ok: true as const, code: result.packet.code }),
          (err: unknown) => ({ ok: false as const, reason: err instanceof ExchangeError ? err.reason : String(err) }),
        ),
      );
      // (A burst this size can overflow the responder's receive buffer in this same process: the
      // retransmissions, every 2 s, make up for it.)
      const distinct = (): number => new Set(r.received.map((dg) => `${dg.port}/${dg.msg[1]}`)).size;
      await until(() => distinct() === 300, 'the responder has all 300 requests', 7000);
      assert.equal(d.sockets, 2);
      const ports = [...new Set(r.received.map((dg) => dg.port))];
      assert.equal(ports.length, 2);
      const byPort = (p: number): number => new Set(r.received.filter((dg) => dg.port === p).map((dg) => dg.msg[1])).size;
      const [forgedPort, otherPort] = byPort(ports[0]!) === 256 ? [ports[0]!, ports[1]!] : [ports[1]!, ports[0]!];

      // The attacker's one datagram: "port unreachable" for the first socket's datagrams to the server.
      const forged = spawnSync('python3', [FORGER, String(forgedPort), String(port)], { encoding: 'utf8' });
      assert.equal(forged.status, 0, forged.stderr);

      // The first socket's requests move on at once (as a timeout would, only sooner)…
      const settled = await Promise.race([Promise.all(outcomes.slice(0, 256)), sleep(3000).then(() => undefined)]);
      assert.ok(settled, "the forged socket's requests did not move on within 3 s");
      assert.ok(settled.every((o) => !o.ok && o.reason === 'unreachable'), JSON.stringify(settled.slice(0, 3)));
      // …and the server now answers everything it received: the other socket's sign-ins complete.
      for (const dg of r.received.filter((x) => x.port === otherPort)) r.send(signedReply(dg.msg, SECRET), dg.port);
      const others = await Promise.all(outcomes.slice(256));
      assert.deepEqual(
        others.map((o) => (o.ok ? o.code : o.reason)),
        others.map(() => Code.AccessAccept),
        'every request pending on the other socket completed with its Access-Accept',
      );
      assert.equal(d.sockets, 1, 'the surplus socket closed once idle; the forged one stays in use');

      // The socket the ICMP named keeps working.
      r.onMessage = (dg, reply) => reply(signedReply(dg.msg, SECRET));
      assert.equal((await d.exchange(accessRequest('after', 'pw', { timeout: 2000 }))).packet.code, Code.AccessAccept);
    });

    it('RadiusClient: every pending sign-in completes (the forged socket\'s at the backup) and the primary is not held down', async function () {
      this.timeout(20_000);
      const users = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`user-${i}`, { password: 'pw' }]));
      // The primary answers each request 1.5 s late, so that all 300 are pending when the ICMP comes.
      const primary = new RadiusTestServer({ secret: SECRET, users, faults: { delayMs: 1500 } });
      const backup = new RadiusTestServer({ secret: SECRET, users });
      cleanups.push(() => primary.close(), () => backup.close());
      await Promise.all([primary.listen(), backup.listen()]);
      const server = (name: string, address: string): { name: string; address: string; secret: string; attributes: Record<string, string>; timeout: number; retries: number } => ({
        name,
        address,
        secret: SECRET.toString(),
        attributes: { 'NAS-Identifier': 'transport-test' },
        timeout: 10_000,
        retries: 2,
      });
      const client = new RadiusClient({ holdDown: 30_000, servers: [server('primary', primary.address), server('backup', backup.address)] });
      cleanups.push(() => client.close());
      const downs: string[] = [];
      client.on('server-down', (e) => downs.push(e.server));
      const started = performance.now();
      const signIn = (i: number): Promise<AuthResult> => client.authenticate({ username: `user-${i}`, password: 'pw' });
      // 256 on the first socket, then 44 on a second once the in-process server has read the first burst
      // (one burst of 300 overflows its receive buffer; losses are retransmitted, but only after 3.3 s).
      const sourcePorts = (): number[] => [...new Set(primary.received.map((q) => q.from.port))];
      const signIns = Array.from({ length: 256 }, (_, i) => signIn(i));
      await until(() => sourcePorts().length === 1, 'the first requests arrive (one source port)', 5000);
      await sleep(20);
      signIns.push(...Array.from({ length: 44 }, (_, i) => signIn(256 + i)));
      await until(() => sourcePorts().length === 2, 'requests arrive from a second source port', 5000);
      const forgedAt = performance.now() - started;
      assert.ok(forgedAt < 1200, `the requests reached the primary only after ${forgedAt.toFixed(0)} ms`);
      const ports = sourcePorts();
      const perPort = (p: number): number => primary.received.filter((q) => q.from.port === p).length;
      const forgedPort = perPort(ports[0]!) >= perPort(ports[1]!) ? ports[0]! : ports[1]!;

      const forged = spawnSync('python3', [FORGER, String(forgedPort), String(primary.port)], { encoding: 'utf8' });
      assert.equal(forged.status, 0, forged.stderr);

      const results = await Promise.all(signIns);
      assert.ok(results.every((r) => r.type === 'accept'), 'every pending sign-in completed with an Access-Accept');
      const byServer = results.reduce<Record<string, number>>((n, r) => ({ ...n, [r.server]: (n[r.server] ?? 0) + 1 }), {});
      assert.ok((byServer.primary ?? 0) >= 44, `sign-ins on the other socket completed at the primary: ${JSON.stringify(byServer)}`);
      assert.ok((byServer.backup ?? 0) >= 1 && (byServer.backup ?? 0) <= 256, `only the forged socket's sign-ins moved on: ${JSON.stringify(byServer)}`);
      // The forged ICMP held nothing down, not even for a moment: the next sign-in goes to the primary.
      assert.deepEqual(downs, [], 'no server-down event');
      const [status] = client.serverStatus();
      assert.equal(status!.state, 'up', `primary ${JSON.stringify(status)}`);
      primary.faults = {};
      assert.equal((await client.authenticate({ username: 'user-0', password: 'pw' })).server, 'primary');
    });
  },
);
