/**
 * User names with control characters are refused before anything is sent. FreeRADIUS (C strings) cuts a
 * User-Name at its first NUL: "alice\0@globex.example" would be checked as "alice" while the app signs in
 * the whole string (and, in the example, puts the user in the organization of "globex.example").
 */
import { strict as assert } from 'node:assert';
import request from 'supertest';
import { RadiusClient, RadiusConfigError, type RadiusServerOptions } from '../lib';
import { buildApp, closeAll } from './support/app';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';

const NAS = { 'NAS-Identifier': 'passport-test' };
const ACCESS_REQUESTS = /Received Access-Request Id/g;

/** One name per kind of control character: C0 (NUL, TAB, LF, ESC), DEL and C1 (NEL, CSI). */
const CONTROL_NAMES: ReadonlyArray<[string, string]> = [
  ['NUL', `${USERS.alice.name}\u0000@globex.example`],
  ['TAB', `${USERS.alice.name}\t`],
  ['LF', `${USERS.alice.name}\nforged log line`],
  ['ESC', `\u001b[2J${USERS.alice.name}`],
  ['DEL', `${USERS.alice.name}\u007f`],
  ['C1 NEL', `${USERS.alice.name}\u0085`],
  ['C1 CSI', `${USERS.alice.name}\u009b`],
];

describeFreeRadius('User names with control characters, against FreeRADIUS', function () {
  let fr: FreeRadiusServer;
  const server = (): RadiusServerOptions => ({ name: 'fr', address: fr.address, secret: fr.secret, attributes: NAS, timeout: 3000, retries: 1 });
  /** Access-Requests FreeRADIUS has logged so far. */
  const seen = (): number => (fr.output().match(ACCESS_REQUESTS) ?? []).length;

  before(async function () {
    this.timeout(30000);
    fr = await startFreeRadius();
  });
  afterEach(closeAll);
  after(async () => {
    await fr?.stop();
  });

  it('the strategy answers 400 "Invalid user name" to alice\\0@globex.example with alice\'s password, and FreeRADIUS saw nothing', async () => {
    const { app } = buildApp({ servers: [server()] });
    const before = seen();
    const res = await request(app).post('/login').type('form').send(`username=alice%00%40globex.example&password=${encodeURIComponent(USERS.alice.password)}`);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.info.message, 'Invalid user name');
    // The control: a good sign-in right after is seen, so the count above is the server's real count.
    const ok = await request(app).post('/login').type('form').send({ username: USERS.alice.name, password: USERS.alice.password });
    assert.equal(ok.status, 200);
    await fr.waitForOutput(/Sent Access-Accept/);
    assert.equal(seen(), before + 1, 'FreeRADIUS received only the good sign-in');
  });

  for (const [kind, name] of CONTROL_NAMES) {
    it(`the strategy refuses a user name with ${kind} (400) and sends nothing`, async () => {
      const { app } = buildApp({ servers: [server()] });
      const before = seen();
      const res = await request(app).post('/login').type('form').send({ username: name, password: USERS.alice.password });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.info.message, 'Invalid user name');
      assert.equal(seen(), before);
    });
  }

  it('RadiusClient.authenticate and respond throw RadiusConfigError naming username, and FreeRADIUS saw nothing', async () => {
    const client = new RadiusClient({ servers: [server()] });
    try {
      const before = seen();
      for (const [, name] of CONTROL_NAMES) {
        await assert.rejects(client.authenticate({ username: name, password: USERS.alice.password }), (err: unknown) => {
          assert.ok(err instanceof RadiusConfigError, String(err));
          assert.match(err.message, /^RadiusClient\.authenticate: username must not contain control characters/);
          return true;
        });
        await assert.rejects(client.respond({ server: 'fr', username: name, response: '123456', state: Buffer.from('state') }), (err: unknown) => {
          assert.ok(err instanceof RadiusConfigError, String(err));
          assert.match(err.message, /^RadiusClient\.respond: username must not contain control characters/);
          return true;
        });
      }
      const ok = await client.authenticate({ username: USERS.alice.name, password: USERS.alice.password });
      assert.equal(ok.type, 'accept');
      assert.equal(seen(), before + 1, 'FreeRADIUS received only the good sign-in');
    } finally {
      await client.close();
    }
  });

  it('still signs in a UTF-8 user name (jörg): only control characters are refused', async () => {
    const { app } = buildApp({ servers: [server()] });
    const res = await request(app).post('/login').type('form').send({ username: USERS.jorg.name, password: USERS.jorg.password });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user.username, USERS.jorg.name);
  });
});
