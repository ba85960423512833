/**
 * The RADIUS over TLS transport's rules (lib/transport-tls.ts), one by one, against a TLS peer in this
 * process that frames packets and answers (or misbehaves) on demand: stream framing, a bad Length, no
 * retransmission on a connection, Protocol-Error, forged replies, ALPN and TLS versions, TLS-PSK, a second
 * connection past 256 in flight, the Status-Server watchdog and the idle close; and option validation.
 */
import { strict as assert } from 'node:assert';
import { probe, RadiusClient, RadiusUnavailableError, type RadiusServerOptions } from '../lib';
import { normalizeServer } from '../lib/options';
import { Attr, Code } from '../lib/protocol/packet';
import { buildAccessRequest } from '../lib/request';
import { encodeReply } from '../lib/testing/reply';
import { TlsDestination } from '../lib/transport-tls';
import { signedReply } from './support/packets';
import { makePki, startTlsResponder, type Pki, type TlsReceived, type TlsResponder } from './support/tls';
import { sleep, until } from './support/time';

const SECRET = Buffer.from('radsec');
const NAS = { 'NAS-Identifier': 'tls-unit' };

/** A signed reply (Message-Authenticator first, then the Response Authenticator) to `request`. */
const reply = (request: Buffer, code: number = Code.AccessAccept, attributes: Buffer[] = []): Buffer => signedReply(request, SECRET, code, attributes);

describe('RADIUS over TLS transport (TlsDestination)', function () {
  this.timeout(10000);
  let pki: Pki;
  const responders: TlsResponder[] = [];
  const clients: RadiusClient[] = [];

  before(async function () {
    this.timeout(20000);
    pki = await makePki();
  });
  after(() => pki?.remove());
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(responders.splice(0).map((r) => r.close()));
  });

  async function responder(handle: (r: TlsReceived) => void, tlsOptions = {}): Promise<TlsResponder> {
    const r = await startTlsResponder(pki, handle, tlsOptions);
    responders.push(r);
    return r;
  }
  function server(r: TlsResponder, extra: Partial<RadiusServerOptions> = {}): RadiusServerOptions {
    return {
      name: 'tls',
      address: r.address,
      transport: 'tls',
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
      attributes: NAS,
      timeout: 2000,
      ...extra,
    };
  }
  function client(r: TlsResponder, extra: Partial<RadiusServerOptions> = {}): RadiusClient {
    const c = new RadiusClient({ servers: [server(r, extra)], holdDown: 0 });
    clients.push(c);
    return c;
  }
  const signIn = (c: RadiusClient) => c.authenticate({ username: 'alice', password: 'alice-password' });

  it('frames replies by their Length field: one split across writes, two in one write', async () => {
    const pending: TlsReceived[] = [];
    const r = await responder((got) => {
      pending.push(got);
      if (pending.length < 3) return;
      const [a, b, c] = pending.map((p) => reply(p.packet));
      const socket = pending[0]!.socket;
      socket.write(a!.subarray(0, 7));
      setTimeout(() => {
        socket.write(a!.subarray(7));
        socket.write(Buffer.concat([b!, c!]));
      }, 20);
    });
    const c = client(r);
    const results = await Promise.all([signIn(c), signIn(c), signIn(c)]);
    assert.deepEqual(results.map((x) => x.type), ['accept', 'accept', 'accept']);
    assert.equal(r.sockets.length, 1);
  });

  it('sends every request once, as one whole packet per TLS record', async () => {
    const r = await responder((got) => got.socket.write(reply(got.packet)));
    const c = client(r);
    await Promise.all(Array.from({ length: 20 }, () => signIn(c)));
    const requests = r.received.filter((x) => x.packet[0] === Code.AccessRequest);
    assert.equal(requests.length, 20);
    assert.equal(new Set(requests.map((x) => x.packet[1])).size, 20, 'Identifiers are unique on the connection');
    // The first attribute is the Message-Authenticator (RFC 3579 §3.2).
    for (const x of requests) assert.equal(x.packet[20], Attr.MessageAuthenticator);
  });

  it('never retransmits on the same connection; after no reply it asks with Status-Server', async () => {
    const r = await responder(() => {});
    const c = client(r, { timeout: 400, retries: 3 });
    await assert.rejects(signIn(c), (err: unknown) => err instanceof RadiusUnavailableError && err.attempts[0]!.reason === 'timeout');
    await until(() => r.received.some((x) => x.packet[0] === Code.StatusServer));
    assert.equal(r.received.filter((x) => x.packet[0] === Code.AccessRequest).length, 1);
    const status = r.received.find((x) => x.packet[0] === Code.StatusServer)!;
    assert.equal(status.connection, 0);
    assert.equal(status.packet[20], Attr.MessageAuthenticator, 'Status-Server carries a Message-Authenticator (RFC 5997 §3)');
  });

  it('closes the connection on a bad Length, counts the drop, and sends the request again rebuilt on a new connection', async () => {
    const r = await responder((got) => {
      if (got.connection === 0) {
        const junk = Buffer.alloc(24);
        junk[0] = Code.AccessAccept;
        junk.writeUInt16BE(5000, 2); // over 4096: where the next packet starts is lost
        got.socket.write(junk);
      } else {
        got.socket.write(reply(got.packet));
      }
    });
    const c = client(r);
    const result = await signIn(c);
    assert.equal(result.type, 'accept');
    const [first, second] = r.received;
    assert.equal(r.received.length, 2);
    assert.equal(first!.connection, 0);
    assert.equal(second!.connection, 1);
    assert.notDeepEqual(first!.packet.subarray(4, 20), second!.packet.subarray(4, 20), 'a new Request Authenticator');
    assert.notDeepEqual(first!.packet.subarray(22, 38), second!.packet.subarray(22, 38), 'a new Message-Authenticator');
    const status = c.servers()[0]!;
    assert.equal(status.counters.dropped.malformed, 1);
    assert.equal(status.counters.retransmissions, 1);
    await until(() => r.sockets[0]!.destroyed || r.sockets[0]!.readableEnded);
  });

  it('drops a forged reply and takes the real one', async () => {
    const r = await responder((got) => {
      const forged = encodeReply({
        code: Code.AccessAccept,
        identifier: got.packet[1]!,
        requestAuthenticator: got.packet.subarray(4, 20),
        attributes: [],
        secret: Buffer.from('not-the-secret'),
        messageAuthenticator: 'valid',
      });
      got.socket.write(forged);
      setTimeout(() => got.socket.write(reply(got.packet, Code.AccessReject)), 20);
    });
    const c = client(r);
    const result = await signIn(c);
    assert.equal(result.type, 'reject');
    assert.equal(c.servers()[0]!.counters.dropped['bad-response-authenticator'], 1);
  });

  it('counts a reply after its request timed out as late, and a second reply to an answered request as duplicate', async () => {
    let requests = 0;
    const r = await responder((got) => {
      // The watchdog's Status-Server after the timeout is answered, so the connection stays up.
      if (got.packet[0] === Code.StatusServer) return void got.socket.write(reply(got.packet));
      if (++requests === 1) return void setTimeout(() => got.socket.write(reply(got.packet)), 400);
      got.socket.write(reply(got.packet));
      got.socket.write(reply(got.packet));
    });
    const c = client(r, { timeout: 200, retries: 0 });
    await assert.rejects(signIn(c), (err: unknown) => err instanceof RadiusUnavailableError && err.attempts[0]!.reason === 'timeout');
    await until(() => c.serverStatus()[0]!.counters.dropped.late === 1);
    assert.equal((await signIn(c)).type, 'accept');
    await until(() => c.serverStatus()[0]!.counters.dropped.duplicate === 1);
    assert.deepEqual(c.serverStatus()[0]!.counters.dropped, { late: 1, duplicate: 1 });
  });

  it('reports Protocol-Error (RFC 7930) with its Error-Cause, in the sign-in error and in probe()', async () => {
    const errorCause = Buffer.from([101, 6, 0, 0, 0x01, 0xf6]); // Error-Cause = 502 (Proxy-Request-Not-Routable)
    const r = await responder((got) => got.socket.write(reply(got.packet, 52, [errorCause])));
    const c = client(r);
    await assert.rejects(signIn(c), (err: unknown) => {
      assert.ok(err instanceof RadiusUnavailableError);
      assert.equal(err.attempts[0]!.reason, 'protocol-error');
      assert.equal(err.attempts[0]!.detail, 'Error-Cause 502');
      assert.match(err.message, /Protocol-Error/);
      return true;
    });
    const result = await probe(server(r));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'protocol-error');
  });

  it('probe(): an unexpected reply type over TLS is put on the server, not on a wrong port (one port carries every type)', async () => {
    const r = await responder((got) => got.socket.write(reply(got.packet, Code.AccountingResponse)));
    const result = await probe(server(r));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'unexpected-reply');
    assert.equal(result.detail, 'Accounting-Response');
    assert.match(result.message, /answered the Status-Server with Accounting-Response, which does not answer it: over RADIUS\/TLS every packet type shares one port/);
    assert.doesNotMatch(result.message, /UDP|accounting port/);
  });

  it('offers ALPN radius/1.0 and refuses a server that offers less than TLS 1.2', async () => {
    const r = await responder((got) => got.socket.write(reply(got.packet)));
    await signIn(client(r));
    assert.deepEqual(r.alpnOffered[0], ['radius/1.0']);
    const old = await responder(() => {}, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    const result = await probe(server(old));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'tls-handshake-failure');
    assert.equal(old.received.length, 0);
  });

  it('signs in with TLS-PSK instead of certificates', async () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    let identitySeen: string | undefined;
    const r = await responder((got) => got.socket.write(reply(got.packet)), {
      key: undefined,
      cert: undefined,
      requestCert: false,
      ciphers: 'PSK-AES128-GCM-SHA256',
      maxVersion: 'TLSv1.2',
      pskCallback: (_socket: unknown, identity: string) => {
        identitySeen = identity;
        return identity === 'console' ? key : null;
      },
    });
    const c = client(r, { tls: { psk: { identity: 'console', key: key.toString('hex') } } });
    assert.equal((await signIn(c)).type, 'accept');
    assert.equal(identitySeen, 'console');
  });

  it('opens a second connection only past 256 requests in flight', async () => {
    const held: TlsReceived[] = [];
    const r = await responder((got) => {
      held.push(got);
      if (held.length === 300) for (const h of held) h.socket.write(reply(h.packet));
    });
    const c = client(r, { timeout: 5000 });
    const results = await Promise.all(Array.from({ length: 300 }, () => signIn(c)));
    assert.ok(results.every((x) => x.type === 'accept'));
    assert.equal(r.sockets.length, 2);
    assert.equal(held.filter((h) => h.connection === 0).length, 256);
  });

  describe('timers', () => {
    function destination(r: TlsResponder, timers: ConstructorParameters<typeof TlsDestination>[0]['timers'], watchdogTimeout = 150): TlsDestination {
      const config = normalizeServer(server(r), 'test');
      return new TlsDestination({
        host: '127.0.0.1',
        port: config.port,
        tls: config.tls!,
        secret: config.secret,
        requireMessageAuthenticator: true,
        attributes: config.attributes,
        watchdogTimeout,
        timers,
      });
    }
    const accessRequest = (r: TlsResponder) => {
      const config = normalizeServer(server(r), 'test');
      return {
        build: (identifier: number) =>
          buildAccessRequest({ server: config, username: Buffer.from('alice'), password: Buffer.from('pw'), chap: false, messageAuthenticator: true }, identifier),
        secret: config.secret,
        requireMessageAuthenticator: true,
        expectCodes: [Code.AccessAccept, Code.AccessReject],
        timeout: 1000,
        retries: 0,
      };
    };

    it('sends a Status-Server watchdog on an idle connection and closes it when that goes unanswered', async () => {
      const r = await responder((got) => {
        if (got.packet[0] === Code.AccessRequest) got.socket.write(reply(got.packet));
      });
      const d = destination(r, { watchdogInterval: 100 });
      try {
        await d.exchange(accessRequest(r));
        await until(() => r.received.some((x) => x.packet[0] === Code.StatusServer));
        await until(() => d.connectionCount === 0);
      } finally {
        await d.close();
      }
    });

    it('keeps an idle connection whose watchdog is answered', async () => {
      const r = await responder((got) => got.socket.write(reply(got.packet)));
      const d = destination(r, { watchdogInterval: 80 });
      try {
        await d.exchange(accessRequest(r));
        await until(() => r.received.filter((x) => x.packet[0] === Code.StatusServer).length >= 3);
        assert.equal(d.connectionCount, 1);
        assert.equal(r.sockets.length, 1);
      } finally {
        await d.close();
      }
    });

    it('closes a connection that carried no request for idleTimeout', async () => {
      const r = await responder((got) => got.socket.write(reply(got.packet)));
      const d = destination(r, { idleTimeout: 100, watchdogInterval: 60_000 });
      try {
        await d.exchange(accessRequest(r));
        assert.equal(d.connectionCount, 1);
        await until(() => d.connectionCount === 0);
        // The next request reconnects.
        await d.exchange(accessRequest(r));
        assert.equal(r.sockets.length, 2);
      } finally {
        await d.close();
      }
    });

    it('fails at once with the last failure during the reconnect back-off, then tries again', async () => {
      const r = await responder(() => {});
      const port = r.port;
      await r.close();
      responders.splice(responders.indexOf(r), 1);
      const config = normalizeServer({ ...server(r), address: `127.0.0.1:${port}` }, 'test');
      const d = new TlsDestination({
        host: '127.0.0.1',
        port,
        tls: config.tls!,
        secret: config.secret,
        requireMessageAuthenticator: true,
        attributes: config.attributes,
        watchdogTimeout: 150,
        timers: { backoffMin: 300, backoffMax: 300 },
      });
      try {
        let sends = 0;
        const request = { ...accessRequest(r), onSend: () => sends++ };
        await assert.rejects(d.exchange(request), (err: Error & { reason?: string; detail?: string }) => err.reason === 'unreachable' && err.detail === 'ECONNREFUSED');
        assert.equal(sends, 1);
        await assert.rejects(d.exchange(request), (err: Error & { reason?: string }) => err.reason === 'unreachable');
        assert.equal(sends, 1, 'no new connection during the back-off');
        await sleep(320);
        await assert.rejects(d.exchange(request), (err: Error & { reason?: string }) => err.reason === 'unreachable');
        assert.equal(sends, 2, 'a new connection after it');
      } finally {
        await d.close();
      }
    });
  });

  describe('options', () => {
    const base = (): Record<string, unknown> => ({ name: 's', address: '127.0.0.1', attributes: NAS });
    const bad: Array<[string, Record<string, unknown>, RegExp]> = [
      ['an unknown transport', { transport: 'tcp' }, /servers\[0\]\.transport must be "udp" or "tls"/],
      ['tls without transport "tls"', { secret: 'x', tls: { psk: { identity: 'a', key: '00'.repeat(16) } } }, /servers\[0\]\.tls is set but transport is not "tls"/],
      ['transport "tls" without tls', { transport: 'tls' }, /servers\[0\]\.tls is required with transport "tls"/],
      ['no client certificate or PSK', { transport: 'tls', tls: { ca: 'x' } }, /servers\[0\]\.tls needs a client certificate \(cert and key\) or psk/],
      ['cert without key', { transport: 'tls', tls: { cert: 'x' } }, /servers\[0\]\.tls: cert and key go together/],
      ['a short PSK', { transport: 'tls', tls: { psk: { identity: 'a', key: '00'.repeat(8) } } }, /servers\[0\]\.tls\.psk\.key must be at least 16 bytes/],
      ['a PSK key that is not hex', { transport: 'tls', tls: { psk: { identity: 'a', key: 'not hex at all!!' } } }, /servers\[0\]\.tls\.psk\.key must be a Buffer or a string of hexadecimal digits/],
      ['PEM that is not PEM', { transport: 'tls', tls: { cert: 'nope', key: 'nope' } }, /servers\[0\]\.tls: ca, cert or key cannot be used/],
      ['an unknown tls option', { transport: 'tls', tls: { psk: { identity: 'a', key: '00'.repeat(16) }, verify: false } }, /servers\[0\]\.tls: unknown option "verify"/],
    ];
    for (const [what, extra, message] of bad) {
      it(`throws TypeError naming the option for ${what}`, () => {
        assert.throws(() => new RadiusClient({ servers: [{ ...base(), ...extra } as unknown as RadiusServerOptions] }), (err: unknown) => err instanceof TypeError && message.test(err.message));
      });
    }

    it('defaults the port to 2083, the secret to "radsec" and the server name to the host', () => {
      const s = normalizeServer({ name: 's', address: 'radius.example.org', transport: 'tls', tls: { psk: { identity: 'a', key: '00'.repeat(16) } }, attributes: NAS }, 'test');
      assert.equal(s.port, 2083);
      assert.equal(s.secret.toString(), 'radsec');
      assert.equal(s.tls!.servername, 'radius.example.org');
      const udp = normalizeServer({ name: 's', address: 'radius.example.org', secret: 'x', attributes: NAS }, 'test');
      assert.equal(udp.port, 1812);
      assert.throws(() => normalizeServer({ name: 's', address: '127.0.0.1', attributes: NAS }, 'test'), /secret must be a non-empty string or Buffer/);
    });
  });
});
