/**
 * `client.setServers` / `strategy.setServers`: replacing the RADIUS servers at run time. Each rule of
 * issue 15 has its test: the whole list validated first, sign-ins in flight finish on their configuration,
 * sockets of removed servers close once idle, a pending challenge of a removed or moved server gets 403
 * and is sent nowhere, `selectServers` sees the new names at once.
 */
import { strict as assert } from 'node:assert';
import { createSocket } from 'node:dgram';
import request from 'supertest';
import { RadiusClient, type RadiusServerOptions } from '../lib';
import { RadiusTestServer } from '../lib/testing';
import { buildApp, closeAll } from './support/app';
import { until } from './support/time';

const NAS = { 'NAS-Identifier': 'set-servers-test' };
const SECRET = 'set-servers-secret';

/** Whether the client's UDP port is still open: binding it succeeds only once the client's socket has closed. */
async function portInUse(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(true);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(false)));
  });
}

describe('setServers: the RADIUS servers replaced at run time', function () {
  this.timeout(10000);
  const servers: RadiusTestServer[] = [];
  const clients: RadiusClient[] = [];

  async function testServer(name: string): Promise<{ server: RadiusTestServer; options: RadiusServerOptions }> {
    const server = new RadiusTestServer({
      secret: SECRET,
      users: {
        alice: { password: 'alice-password', replyMessage: `alice on ${name}` },
        carol: { password: 'carol-password', challenge: [{ code: '123456', prompt: 'Enter the code' }] },
      },
    });
    await server.listen();
    servers.push(server);
    return { server, options: { name, address: server.address, secret: SECRET, attributes: NAS, timeout: 2000, retries: 0 } };
  }
  function client(list: RadiusServerOptions[]): RadiusClient {
    const c = new RadiusClient({ servers: list, holdDown: 0 });
    clients.push(c);
    return c;
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await closeAll();
  });
  after(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  describe('validation', () => {
    it('validates the whole list first: a TypeError naming the server and the option changes nothing', async () => {
      const a = await testServer('a');
      const c = client([a.options]);
      const bad = [a.options, { ...a.options, name: 'corp', timeout: -5 }];
      assert.throws(() => c.setServers(bad), (err: unknown) => err instanceof TypeError && /^RadiusClient: servers\[1\] \("corp"\)\.timeout /.test(err.message));
      assert.throws(() => c.setServers([a.options, { ...a.options }]), /servers\[1\]\.name "a" is used twice/);
      assert.throws(() => c.setServers([]), /setServers needs a non-empty array of servers/);
      assert.throws(() => c.setServers([{ ...a.options, attributes: {} }]), /servers\[0\] \("a"\)\.attributes must include NAS-Identifier/);
      assert.deepEqual(c.serverNames, ['a']);
      const result = await c.authenticate({ username: 'alice', password: 'alice-password' });
      assert.equal(result.type, 'accept');
      assert.equal(result.server, 'a');
    });

    it('names the strategy in messages when called through strategy.setServers', async () => {
      const a = await testServer('a');
      const { strategy } = buildApp({ servers: [a.options] });
      assert.throws(() => strategy.setServers([{ ...a.options, address: 'not an address' }]), /^TypeError: RadiusStrategy: servers\[0\] \("a"\)\.address must be host\[:port\]/);
      assert.deepEqual(strategy.client.serverNames, ['a']);
    });
  });

  it('sends new sign-ins to the new list at once, and keeps an unchanged server with its counters', async () => {
    const a = await testServer('a');
    const b = await testServer('b');
    const c = client([a.options]);
    await c.authenticate({ username: 'alice', password: 'alice-password' });
    c.setServers([b.options, a.options]);
    assert.deepEqual(c.serverNames, ['b', 'a']);
    assert.equal(c.servers().find((s) => s.name === 'a')?.counters.accepts, 1, 'the unchanged server lost its counters');
    const before = a.server.received.length;
    const result = await c.authenticate({ username: 'alice', password: 'alice-password' });
    assert.equal(result.server, 'b');
    assert.equal(result.replyMessage, 'alice on b');
    assert.equal(a.server.received.length, before);
  });

  it('lets a sign-in in flight finish on the configuration it started with', async () => {
    const a = await testServer('a');
    const b = await testServer('b');
    a.server.setFaults({ delayMs: 300 });
    const c = client([a.options]);
    const inFlight = c.authenticate({ username: 'alice', password: 'alice-password' });
    await until(() => a.server.received.length === 1, 'server a received the request');
    // Same name, another address: the sign-in in flight still gets its answer from a.
    c.setServers([{ ...b.options, name: 'a' }]);
    const result = await inFlight;
    assert.equal(result.type, 'accept');
    assert.equal(result.replyMessage, 'alice on a');
    assert.equal(b.server.received.length, 0);
    const next = await c.authenticate({ username: 'alice', password: 'alice-password' });
    assert.equal(next.replyMessage, 'alice on b', 'a new sign-in went to the old address');
  });

  it('closes the sockets of a removed server once nothing is in flight on them', async () => {
    const a = await testServer('a');
    const b = await testServer('b');
    const c = client([a.options, b.options]);
    a.server.setFaults({ delayMs: 300 });
    const inFlight = c.authenticate({ username: 'alice', password: 'alice-password' });
    await until(() => a.server.received.length === 1, 'server a received the request');
    const port = a.server.received[0]!.from.port;
    c.setServers([b.options]);
    await new Promise((done) => setTimeout(done, 100));
    assert.equal(await portInUse(port), true, 'the socket closed while a request was in flight on it');
    assert.equal((await inFlight).replyMessage, 'alice on a');
    const start = Date.now();
    while ((await portInUse(port)) && Date.now() - start < 3000) await new Promise((done) => setTimeout(done, 20));
    assert.equal(await portInUse(port), false, "the removed server's socket is still open");
  });

  it('closes the socket of an idle removed server at once', async () => {
    const a = await testServer('a');
    const b = await testServer('b');
    const c = client([a.options, b.options]);
    await c.authenticate({ username: 'alice', password: 'alice-password' });
    const port = a.server.received[0]!.from.port;
    assert.equal(await portInUse(port), true);
    c.setServers([b.options]);
    await new Promise((done) => setImmediate(done));
    assert.equal(await portInUse(port), false);
  });

  it('gives a pending challenge of a removed server 403 and sends the code nowhere', async () => {
    const one = await testServer('one');
    const two = await testServer('two');
    const { app, strategy } = buildApp({ servers: [one.options, two.options], selectServers: () => ['two'] });
    const agent = request.agent(app);
    const first = await agent.post('/login').type('form').send({ username: 'carol', password: 'carol-password' });
    assert.equal(first.status, 401);
    assert.equal(first.body.info.challenge, true);
    strategy.setServers([one.options]);
    const [oneBefore, twoBefore] = [one.server.received.length, two.server.received.length];
    const code = await agent.post('/login/challenge').type('form').send({ code: '123456' });
    assert.equal(code.status, 403);
    assert.equal(one.server.received.length, oneBefore, 'the code went to another server');
    assert.equal(two.server.received.length, twoBefore, 'the code went to the removed server');
    assert.equal((await agent.get('/whoami')).status, 401);
  });

  it('gives a pending challenge 403 when its server now has another address, and sends the code nowhere', async () => {
    const two = await testServer('two');
    const moved = await testServer('two-elsewhere');
    const { app, strategy } = buildApp({ servers: [two.options] });
    const agent = request.agent(app);
    await agent.post('/login').type('form').send({ username: 'carol', password: 'carol-password' }).expect(401);
    strategy.setServers([{ ...two.options, address: moved.options.address }]);
    const before = two.server.received.length;
    const code = await agent.post('/login/challenge').type('form').send({ code: '123456' });
    assert.equal(code.status, 403);
    assert.equal(two.server.received.length, before);
    assert.equal(moved.server.received.length, 0);
  });

  it('keeps a pending challenge answerable when only other servers changed', async () => {
    const one = await testServer('one');
    const two = await testServer('two');
    const three = await testServer('three');
    const { app, strategy } = buildApp({ servers: [one.options, two.options], selectServers: () => ['two'] });
    const agent = request.agent(app);
    await agent.post('/login').type('form').send({ username: 'carol', password: 'carol-password' }).expect(401);
    strategy.setServers([three.options, two.options]);
    const code = await agent.post('/login/challenge').type('form').send({ code: '123456' });
    assert.equal(code.status, 200, JSON.stringify(code.body));
    assert.equal(code.body.user.server, 'two');
  });

  it('lets selectServers name the new servers at once', async () => {
    const one = await testServer('one');
    const fresh = await testServer('fresh');
    let names = ['one'];
    const { app, strategy } = buildApp({ servers: [one.options], selectServers: () => names });
    strategy.setServers([one.options, fresh.options]);
    names = ['fresh'];
    const res = await request(app).post('/login').type('form').send({ username: 'alice', password: 'alice-password' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user.server, 'fresh');
    // …and a name just removed is unknown at once: an error, nothing sent.
    strategy.setServers([one.options]);
    const before = fresh.server.received.length;
    const gone = await request(app).post('/login').type('form').send({ username: 'alice', password: 'alice-password' });
    assert.equal(gone.status, 500);
    assert.match(gone.body.error, /Unknown RADIUS server "fresh"/);
    assert.equal(fresh.server.received.length, before);
  });
});
