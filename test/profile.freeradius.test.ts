/**
 * The profile keeps what the server said about the user, not what only the protocol needs (issue 16
 * item 3): with no verify callback the profile is `req.user` and lives in the session for the whole
 * signed-in session, so State, Proxy-State and Message-Authenticator must not be in it.
 */
import { strict as assert } from 'node:assert';
import request from 'supertest';
import { buildApp, closeAll } from './support/app';
import { describeFreeRadius, outputAfterReply, startFreeRadius, type FreeRadiusServer } from './support/freeradius';

/** grace's Access-Accept in test/freeradius/users: Class "staff", a State and a Proxy-State. */
const GRACE = { name: 'grace', password: 'grace-password' };
const STATE_HEX = Buffer.from('grace-accept-state').toString('hex');
const PROXY_STATE_HEX = Buffer.from('grace-proxy-state').toString('hex');

/** Every way a Buffer value can show up in a JSON session: hex, base64, or Buffer's JSON byte array. */
function traces(hex: string): string[] {
  const bytes = Buffer.from(hex, 'hex');
  return [hex, bytes.toString('base64'), bytes.toString('utf8'), JSON.stringify(bytes.toJSON().data).slice(1, -1)];
}

describeFreeRadius('RadiusProfile of an Access-Accept carrying protocol-only attributes (FreeRADIUS)', function () {
  let fr: FreeRadiusServer;

  before(async function () {
    this.timeout(30000);
    fr = await startFreeRadius();
  });
  afterEach(closeAll);
  after(async () => {
    await fr?.stop();
  });

  it('keeps State, Proxy-State and Message-Authenticator out of the profile and so out of the session', async () => {
    const { app, storeDump } = buildApp({
      servers: [{ name: 'fr', address: fr.address, secret: fr.secret, attributes: { 'NAS-Identifier': 'passport-test' }, timeout: 3000 }],
    });
    const agent = request.agent(app);
    const mark = fr.output().length;
    const res = await agent.post('/login').type('form').send({ username: GRACE.name, password: GRACE.password });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // FreeRADIUS did send them (so this test can fail), and signed the reply.
    const sent = await outputAfterReply(fr, mark);
    assert.match(sent, new RegExp(`State = 0x${STATE_HEX}`));
    assert.match(sent, new RegExp(`Proxy-State = 0x${PROXY_STATE_HEX}`));

    const user = (await agent.get('/whoami').expect(200)).body.user as { attributes: Record<string, unknown>; class: unknown[] };
    assert.deepEqual(Object.keys(user.attributes).sort(), ['Class'], 'the profile keeps only what is about the user');
    assert.equal(user.class.length, 1);
    const session = storeDump();
    assert.match(session, /"provider":\s*"radius"|\\"provider\\":\\"radius\\"/, 'the profile is in the session');
    for (const hex of [STATE_HEX, PROXY_STATE_HEX]) {
      for (const trace of traces(hex)) assert.ok(!session.includes(trace), `the session holds ${trace}`);
    }
    assert.ok(!session.includes('Message-Authenticator'), 'the session holds a Message-Authenticator');
  });
});
