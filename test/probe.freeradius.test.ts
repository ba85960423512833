/**
 * The reachability probe (`probe()` and `RadiusClient.probe()`): Status-Server (RFC 5997) first, then an
 * Access-Request for a user that cannot exist, and a reason for every failure.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { probe, RadiusClient, RadiusClosedError, RadiusConfigError, type RadiusServerOptions } from '../lib';
import { Attr, Code, parsePacket } from '../lib/protocol/packet';
import { describeFreeRadius, startFreeRadius, waitForOutputSince, type FreeRadiusServer } from './support/freeradius';
import { freeUdpPort } from './support/ports';

const NAS = { 'NAS-Identifier': 'probe-test' };

function options(address: string, secret: string, extra: Partial<RadiusServerOptions> = {}): RadiusServerOptions {
  return { name: 'fr', address, secret, attributes: NAS, timeout: 1500, ...extra };
}

describeFreeRadius('probe() against FreeRADIUS', function () {
  let withStatus: FreeRadiusServer;
  let withoutStatus: FreeRadiusServer;
  let lenient: FreeRadiusServer;
  let unsigned: FreeRadiusServer;
  let unsignedStatus: FreeRadiusServer;

  before(async function () {
    this.timeout(40000);
    [withStatus, withoutStatus, lenient, unsigned, unsignedStatus] = await Promise.all([
      startFreeRadius({ statusServer: true, secret: 'status-secret' }),
      startFreeRadius({ statusServer: false, secret: 'plain-secret' }),
      startFreeRadius({ statusServer: false, requireMessageAuthenticator: false, secret: 'lenient-secret' }),
      startFreeRadius({ statusServer: true, signReplies: false, secret: 'unsigned-secret' }),
      // What an admin gets by signing replies in `authorize` only (the usual advice).
      startFreeRadius({ statusServer: true, signReplies: true, signStatusServer: false, secret: 'half-signed-secret' }),
    ]);
  });
  after(async () => {
    await Promise.all([withStatus, withoutStatus, lenient, unsigned, unsignedStatus].map((s) => s?.stop()));
  });

  it('reports reachable through Status-Server when the server answers it, with the NAS-Identifier sent', async () => {
    const mark = withStatus.output().length;
    const result = await probe(options(withStatus.address, withStatus.secret));
    assert.equal(result.status, 'reachable', result.message);
    assert.equal(result.method, 'status-server');
    assert.equal(result.reason, undefined);
    assert.ok(typeof result.rttMs === 'number' && result.rttMs >= 0 && result.rttMs < 1500);
    assert.match(result.message, /^Reachable \(\d+ ms, status-server\)$/);
    assert.deepEqual(result.warnings, []);
    // FreeRADIUS logs the reply after sending it: wait for that line before reading what it received.
    await waitForOutputSince(withStatus, mark, /Sent Access-Accept/);
    const seen = withStatus.output().slice(mark);
    assert.match(seen, /Received Status-Server Id/);
    assert.match(seen, /NAS-Identifier = "probe-test"/);
    assert.doesNotMatch(seen, /Received Access-Request/);
  });

  it('reports reachable over IPv6 too', async () => {
    const result = await probe(options(withStatus.address6, withStatus.secret));
    assert.equal(result.status, 'reachable', result.message);
    assert.equal(result.method, 'status-server');
  });

  it('falls back to an Access-Request for a random user when Status-Server is off, and proves it with the Reject', async () => {
    const mark = withoutStatus.output().length;
    const started = performance.now();
    const result = await probe(options(withoutStatus.address, withoutStatus.secret));
    assert.equal(result.status, 'reachable', result.message);
    assert.equal(result.method, 'access-request');
    assert.match(result.message, /^Reachable \(\d+ ms, access-request\)$/);
    assert.equal(result.status === 'reachable' && result.unsignedRequestAnswered, false);
    // Status-Server gets a third of the 1500 ms before the fallback.
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 490 && elapsed < 2500, `took ${elapsed} ms`);
    await waitForOutputSince(withoutStatus, mark, /Sent Access-Reject/);
    const seen = withoutStatus.output().slice(mark);
    assert.match(seen, /User-Name = "passport-radius-probe-[0-9a-f]{24}"/);
    assert.match(seen, /Sent Access-Reject/);
  });

  it('falls back the same way with CHAP', async () => {
    const mark = withoutStatus.output().length;
    const result = await probe(options(withoutStatus.address, withoutStatus.secret, { protocol: 'chap' }));
    assert.equal(result.status, 'reachable', result.message);
    assert.equal(result.method, 'access-request');
    await waitForOutputSince(withoutStatus, mark, /CHAP-Password = 0x/);
  });

  it("reports 'bad-secret' when a server that does not require Message-Authenticator answers a wrong secret", async () => {
    const mark = lenient.output().length;
    const result = await probe(options(lenient.address, 'not-the-secret'));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'bad-secret');
    assert.equal(result.method, 'access-request');
    assert.match(result.message, /shared secret/);
    assert.ok((result.dropped['bad-response-authenticator'] ?? 0) >= 1);
    await waitForOutputSince(lenient, mark, /Sent Access-Reject/);
    const seen = lenient.output().slice(mark);
    // The signed attempt was dropped by the server (invalid Message-Authenticator); the unsigned one answered.
    assert.match(seen, /invalid Message-Authenticator/i);
    assert.match(seen, /Sent Access-Reject/);
    assert.ok(!result.message.includes('not-the-secret') && !result.message.includes(lenient.secret));
  });

  it("reports 'timeout' for a wrong secret on a server that requires Message-Authenticator, naming the secret as a likely cause", async () => {
    const mark = withoutStatus.output().length;
    const started = performance.now();
    const result = await probe(options(withoutStatus.address, 'not-the-secret', { timeout: 900 }));
    const elapsed = performance.now() - started;
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'timeout');
    assert.equal(result.method, 'access-request');
    assert.match(result.message, /shared secret/);
    assert.match(result.message, /firewall/);
    assert.match(result.message, /client \(NAS\)/);
    assert.ok(elapsed >= 850 && elapsed < 3000, `took ${elapsed} ms`);
    await waitForOutputSince(withoutStatus, mark, /invalid Message-Authenticator/i);
  });

  it('is Reachable with a warning when Access replies are signed but Status-Server replies are not', async () => {
    const mark = unsignedStatus.output().length;
    const result = await probe(options(unsignedStatus.address, unsignedStatus.secret));
    assert.equal(result.status, 'reachable', result.message);
    assert.equal(result.method, 'access-request');
    assert.equal(result.unsignedRequestAnswered, false);
    assert.deepEqual(
      result.warnings?.map((w) => w.code),
      ['unsigned-status-server-reply'],
    );
    const warning = result.warnings?.[0]?.message ?? '';
    assert.match(warning, /Status-Server reply had no Message-Authenticator/);
    assert.match(warning, /sites-enabled\/default/);
    assert.ok(warning.includes('Autz-Type Status-Server { update reply { &Message-Authenticator := 0x00 } ok }'), warning);
    assert.match(result.message, /^Reachable \(\d+ ms, access-request\); warning: the Status-Server reply had no Message-Authenticator/);
    // Both requests reached the server; the signed Access-Request's Reject settled it. (Its log may reach
    // us after the reply did.)
    await waitForOutputSince(unsignedStatus, mark, /Sent Access-Reject/);
    const seen = unsignedStatus.output().slice(mark);
    assert.match(seen, /Received Status-Server Id[\s\S]*Sent Access-Accept[\s\S]*Received Access-Request Id[\s\S]*Sent Access-Reject/);
    // No unsigned Access-Request was needed.
    assert.equal((seen.match(/Received Access-Request Id/g) ?? []).length, 1);
    assert.ok(!result.message.includes(unsignedStatus.secret));
  });

  it("reports 'missing-message-authenticator' when neither Status-Server nor Access replies are signed, naming both fixes", async () => {
    const mark = unsigned.output().length;
    const result = await probe(options(unsigned.address, unsigned.secret));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'missing-message-authenticator');
    assert.equal(result.method, 'access-request');
    assert.equal(result.warnings, undefined);
    assert.match(result.message, /did not sign its replies \(no Message-Authenticator\) to: Status-Server, Access-Request\./);
    assert.match(result.message, /Access replies: FreeRADIUS 3\.2, sites-enabled\/default, first line of the authorize section: update reply \{ &Message-Authenticator := 0x00 \}/);
    assert.ok(result.message.includes('Autz-Type Status-Server { update reply { &Message-Authenticator := 0x00 } ok }'), result.message);
    assert.match(result.message, /requireMessageAuthenticator: false/);
    await waitForOutputSince(unsigned, mark, /Received Status-Server Id[\s\S]*Received Access-Request Id/);
  });

  it("reports 'missing-message-authenticator' for unsigned Access replies when Status-Server is off, naming only that fix", async () => {
    const noStatus = await startFreeRadius({ statusServer: false, signReplies: false, secret: 'unsigned-secret-2' });
    try {
      const result = await probe(options(noStatus.address, noStatus.secret));
      assert.equal(result.status, 'failed');
      assert.equal(result.reason, 'missing-message-authenticator');
      assert.equal(result.method, 'access-request');
      assert.match(result.message, /to: Access-Request\./);
      assert.doesNotMatch(result.message, /Autz-Type Status-Server/);
    } finally {
      await noStatus.stop();
    }
  });

  it('accepts unsigned replies when requireMessageAuthenticator is false', async () => {
    const result = await probe(options(unsigned.address, unsigned.secret, { requireMessageAuthenticator: false }));
    assert.equal(result.status, 'reachable', result.message);
    assert.equal(result.method, 'status-server');
  });

  it('RadiusClient.probe(name) probes a configured server with its configuration', async () => {
    const client = new RadiusClient({
      servers: [options(withoutStatus.address, 'wrong', { name: 'bad', timeout: 600 }), options(withStatus.address, withStatus.secret, { name: 'good' })],
    });
    try {
      const good = await client.probe('good');
      assert.equal(good.status, 'reachable');
      assert.equal(good.server, 'good');
      assert.equal(good.address, withStatus.address);
      const bad = await client.probe('bad');
      assert.equal(bad.status, 'failed');
      assert.equal(bad.reason, 'timeout');
      assert.equal(bad.server, 'bad');
      // The probe leaves the client's state alone.
      assert.deepEqual(
        client.servers().map((s) => [s.name, s.state, s.counters.requests]),
        [
          ['bad', 'up', 0],
          ['good', 'up', 0],
        ],
      );
      await assert.rejects(client.probe('nope'), RadiusConfigError);
    } finally {
      await client.close();
    }
    await assert.rejects(client.probe('good'), RadiusClosedError);
  });
});

describe('probe() without a RADIUS server', function () {
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  async function udpServer(onMessage: (msg: Buffer, reply: (bytes: Buffer) => void) => void): Promise<string> {
    const socket = createSocket('udp4');
    sockets.push(socket);
    socket.on('message', (msg, rinfo) => onMessage(msg, (bytes) => socket.send(bytes, rinfo.port, rinfo.address)));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return `127.0.0.1:${socket.address().port}`;
  }

  it("reports 'unreachable' at once when nothing listens on the port", async () => {
    const port = await freeUdpPort();
    const started = performance.now();
    const result = await probe(options(`127.0.0.1:${port}`, 'secret', { timeout: 5000 }));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'unreachable');
    assert.equal(result.method, 'status-server');
    assert.equal(result.status === 'failed' && result.detail, 'ECONNREFUSED');
    assert.match(result.message, /nothing is listening/);
    assert.ok(performance.now() - started < 1500);
  });

  it("reports 'dns' for a host name that does not resolve", async () => {
    const result = await probe(options('no-such-host.invalid:1812', 'secret'));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'dns');
    assert.match(result.message, /no-such-host\.invalid/);
  });

  it('sends Status-Server, then a signed Access-Request, then an unsigned one, and times out when nothing answers', async () => {
    const seen: Array<{ code: number; hasMa: boolean; firstAttr: number | undefined; userName: string | undefined; at: number }> = [];
    const started = performance.now();
    const address = await udpServer((msg) => {
      const p = parsePacket(msg);
      assert.ok(p);
      seen.push({
        code: p.code,
        hasMa: p.attributes.some((a) => a.type === Attr.MessageAuthenticator),
        firstAttr: p.attributes[0]?.type,
        userName: p.attributes.find((a) => a.type === Attr.UserName)?.value.toString(),
        at: performance.now() - started,
      });
    });
    const result = await probe(options(address, 'secret', { timeout: 900, retries: 0 }));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'timeout');
    assert.equal(result.method, 'access-request');
    assert.deepEqual(
      seen.map((s) => [s.code, s.hasMa, s.firstAttr]),
      [
        [Code.StatusServer, true, Attr.MessageAuthenticator],
        [Code.AccessRequest, true, Attr.MessageAuthenticator],
        [Code.AccessRequest, false, Attr.UserName],
      ],
    );
    assert.equal(seen[0]!.userName, undefined, 'Status-Server carries no User-Name');
    assert.match(seen[1]!.userName ?? '', /^passport-radius-probe-[0-9a-f]{24}$/);
    assert.ok(seen[1]!.at >= 250 && seen[2]!.at >= 550, JSON.stringify(seen));
  });

  /** A reply to `request` with this code, a valid Response Authenticator (RFC 2865 §3) and no attributes. */
  function replyTo(request: Buffer, code: number, secret: string): Buffer {
    const header = Buffer.from([code, request[1]!, 0, 20]);
    const authenticator = createHash('md5').update(header).update(request.subarray(4, 20)).update(secret).digest();
    return Buffer.concat([header, authenticator]);
  }

  it("reports 'unexpected-reply' naming the accounting port when an Accounting-Response answers", async () => {
    const address = await udpServer((msg, reply) => reply(replyTo(msg, 5, 'secret')));
    const started = performance.now();
    const result = await probe(options(address, 'secret', { timeout: 3000 }));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'unexpected-reply');
    assert.equal(result.method, 'status-server');
    assert.equal(result.status === 'failed' && result.detail, 'Accounting-Response');
    assert.match(result.message, /answered the Status-Server with an Accounting-Response: this looks like the accounting port/);
    assert.ok(performance.now() - started < 1500);
  });

  it("reports 'unexpected-reply' for any other verified reply that does not answer the request", async () => {
    // Ignores Status-Server; answers the Access-Request with a CoA-ACK.
    const address = await udpServer((msg, reply) => {
      if (msg[0] === Code.AccessRequest) reply(replyTo(msg, 44, 'secret'));
    });
    const result = await probe(options(address, 'secret', { timeout: 900 }));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'unexpected-reply');
    assert.equal(result.method, 'access-request');
    assert.match(result.message, /answered the Access-Request with CoA-ACK, which does not answer it/);
  });

  it("still reports 'bad-secret' for an Accounting-Response that does not verify", async () => {
    const address = await udpServer((msg, reply) => reply(replyTo(msg, 5, 'other-secret')));
    const result = await probe(options(address, 'secret', { timeout: 900 }));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'bad-secret');
  });

  it("reports 'malformed-reply' at once for a reply that is not a RADIUS packet", async () => {
    const address = await udpServer((msg, reply) => reply(Buffer.concat([msg.subarray(0, 2), Buffer.from([0, 200]), Buffer.alloc(16)])));
    const started = performance.now();
    const result = await probe(options(address, 'secret', { timeout: 3000 }));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'malformed-reply');
    assert.equal(result.method, 'status-server');
    assert.equal(result.dropped.malformed, 1);
    assert.ok(performance.now() - started < 1500);
  });

  it('throws TypeError for invalid server options before sending anything', async () => {
    await assert.rejects(probe({ name: 'x', address: 'a:99999', secret: 's', attributes: NAS }), TypeError);
    await assert.rejects(probe(options('127.0.0.1', 's'), { timeout: 0 }), /timeout/);
  });
});
