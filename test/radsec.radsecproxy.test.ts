/**
 * RADIUS over TLS through a second implementation: passport-radius → radsecproxy 1.9 (RadSec, TLS) →
 * FreeRADIUS 3.2 (UDP). PAP, CHAP and the two-factor flow through RadiusStrategy, and why a TLS server
 * fails (wrong CA, wrong server name, a client certificate it does not trust) in probe() and in the
 * sign-in error.
 */
import { strict as assert } from 'node:assert';
import request from 'supertest';
import { probe, RadiusClient, RadiusUnavailableError, type RadiusServerOptions } from '../lib';
import { buildApp, closeAll } from './support/app';
import { outputAfterReply, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';
import { freeUdpPort } from './support/ports';
import { assertTlsFailure, describeRadsecproxy, makePki, startRadsecproxy, tlsServerOptions, type Pki, type Radsecproxy } from './support/tls';
import { signInWithChap, signInWithCode } from './support/sign-in';

const NAS = { 'NAS-Identifier': 'radsecproxy-test' };

describeRadsecproxy('RADIUS over TLS through radsecproxy to FreeRADIUS', function () {
  let pki: Pki;
  let fr: FreeRadiusServer;
  let proxy: Radsecproxy;

  const server = (extra: Partial<RadiusServerOptions> = {}, tls: Partial<NonNullable<RadiusServerOptions['tls']>> = {}): RadiusServerOptions =>
    tlsServerOptions(pki, { name: 'radsecproxy', address: proxy.address, attributes: NAS }, extra, tls);

  before(async function () {
    this.timeout(60000);
    pki = await makePki();
    fr = await startFreeRadius({ secret: 'proxy-to-freeradius' });
    proxy = await startRadsecproxy({ pki, upstreamPort: fr.port, upstreamSecret: fr.secret });
  });
  afterEach(closeAll);
  after(async () => {
    await proxy?.stop();
    await fr?.stop();
    await pki?.remove();
  });

  it('signs in with PAP, the request reaching FreeRADIUS through the proxy', async () => {
    const { app } = buildApp({ servers: [server()] });
    const mark = fr.output().length;
    const res = await request(app).post('/login').type('form').send({ username: 'alice', password: USERS.alice.password });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user.username, 'alice');
    const seen = await outputAfterReply(fr, mark);
    assert.match(seen, /Received Access-Request/);
    assert.match(seen, /User-Password = "alice-password"/);
    assert.match(proxy.output(), /Access-Accept for user alice/);
  });

  it('signs in with CHAP', async () => {
    const { app } = buildApp({ servers: [server({ protocol: 'chap' })] });
    await signInWithChap(app, fr);
  });

  it('turns a wrong password away with 401', async () => {
    const { app } = buildApp({ servers: [server()] });
    const res = await request(app).post('/login').type('form').send({ username: 'alice', password: 'wrong' });
    assert.equal(res.status, 401);
  });

  it('goes through the two-factor Access-Challenge flow, the State carried through the proxy', async () => {
    const built = buildApp({ servers: [server()], challengeURL: '/login/challenge' });
    await signInWithCode(request.agent(built.app), fr);
  });

  it('probes the proxy as reachable; the unsigned Status-Server reply is put on the proxy, which answers it itself', async () => {
    const result = await probe(server());
    assert.equal(result.status, 'reachable', result.message);
    // radsecproxy answers Status-Server "from _self_", unsigned, though FreeRADIUS behind it signs its own.
    const warning = result.warnings?.find((w) => w.code === 'unsigned-status-server-reply');
    assert.ok(warning, JSON.stringify(result.warnings));
    assert.match(warning.message, /A RadSec proxy such as radsecproxy answers Status-Server itself, unsigned/);
  });

  const failures: Array<{ what: string; server: () => RadiusServerOptions; probeReason: string; detail: RegExp }> = [
    { what: 'a wrong CA', server: () => server({}, { ca: pki.otherCa.cert }), probeReason: 'tls-unknown-ca', detail: /^unknown-ca / },
    { what: 'a wrong server name', server: () => server({}, { servername: 'radsec.example.net' }), probeReason: 'tls-name-mismatch', detail: /^name-mismatch / },
    {
      what: 'a client certificate the proxy does not trust',
      server: () => server({}, { cert: pki.foreignClient.cert, key: pki.foreignClient.key }),
      probeReason: 'tls-client-certificate-refused',
      detail: /^client-certificate-refused /,
    },
  ];
  for (const f of failures) {
    it(`says so for ${f.what}, in probe() and in the sign-in error`, async () => {
      await assertTlsFailure(f.server(), f.probeReason, f.detail);
    });
  }

  describe('when the proxy gets no answer (its home server is dead)', () => {
    let dead: Radsecproxy;
    before(async function () {
      this.timeout(30000);
      // A home server at a UDP port where nothing listens: radsecproxy accepts the TLS connection and the
      // requests, and has nothing to send back.
      dead = await startRadsecproxy({ pki, upstreamPort: await freeUdpPort(), upstreamSecret: 'nobody-home' });
    });
    after(() => dead?.stop());
    const deadServer = (extra: Partial<RadiusServerOptions> = {}): RadiusServerOptions => ({ ...server(extra), address: dead.address, timeout: 1500, retries: 0 });

    it('the probe says no reply in TLS terms (TCP, the proxy, the radsec secret), not UDP ones', async () => {
      // With a wrong secret radsecproxy does not answer Status-Server itself either: nothing answers at all.
      const result = await probe(deadServer({ secret: 'not-the-radsec-secret' }));
      assert.equal(result.status, 'failed');
      assert.equal(result.reason, 'timeout', result.message);
      assert.match(result.message, /over RADIUS\/TLS/);
      assert.match(result.message, new RegExp(`TCP ${dead.address.split(':').pop()} is open`));
      assert.match(result.message, /radsecproxy/);
      assert.match(result.message, /"radsec" unless both sides set another/);
      assert.doesNotMatch(result.message, /UDP/);
    });

    it('the sign-in error says no reply in TLS terms, and the attempt names the transport', async () => {
      const client = new RadiusClient({ servers: [deadServer()] });
      try {
        await assert.rejects(client.authenticate({ username: 'alice', password: USERS.alice.password }), (err: unknown) => {
          assert.ok(err instanceof RadiusUnavailableError);
          assert.equal(err.attempts[0]!.reason, 'timeout');
          assert.equal(err.attempts[0]!.transport, 'tls');
          assert.match(err.message, /RADIUS over TLS is TCP 2083/);
          assert.match(err.message, /a firewall on TCP/);
          assert.doesNotMatch(err.message, /UDP/);
          return true;
        });
      } finally {
        await client.close();
      }
    });
  });

  it('a stopped proxy: the sign-in error says the TCP connection was refused, not ICMP', async function () {
    this.timeout(30000);
    const stopped = await startRadsecproxy({ pki, upstreamPort: fr.port, upstreamSecret: fr.secret });
    const s = { ...server(), address: stopped.address };
    const client = new RadiusClient({ servers: [s] });
    try {
      assert.equal((await client.authenticate({ username: 'alice', password: USERS.alice.password })).type, 'accept');
      await stopped.stop();
      // A new client: the first one's connection back-off would answer with the same failure anyway.
      const after = new RadiusClient({ servers: [s] });
      try {
        await assert.rejects(after.authenticate({ username: 'alice', password: USERS.alice.password }), (err: unknown) => {
          assert.ok(err instanceof RadiusUnavailableError);
          assert.equal(err.attempts[0]!.reason, 'unreachable');
          assert.equal(err.attempts[0]!.transport, 'tls');
          assert.match(err.message, /radsecproxy: unreachable \(TCP connection refused: nothing listening\?\) \(ECONNREFUSED\)/);
          assert.doesNotMatch(err.message, /ICMP/);
          return true;
        });
      } finally {
        await after.close();
      }
    } finally {
      await client.close();
      await stopped.stop();
    }
  });
});
