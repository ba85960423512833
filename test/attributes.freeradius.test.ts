/**
 * Reply attributes reach the verify callback (RFC 2865 §5), vendor dictionaries, and `applySessionTimeout`,
 * against FreeRADIUS.
 *
 * Dictionaries are process-wide (the `radius` package keeps one set), so the order of the suites in this
 * file matters: the raw (no dictionary) case runs before anything loads the Cisco dictionary, and nothing
 * in the test suite loads the Juniper one, so Juniper-Local-User-Name stays unknown throughout.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import session, { MemoryStore } from 'express-session';
import request from 'supertest';
import { RadiusStrategy, type RadiusProfile, type RadiusServerOptions, type RadiusStrategyOptions } from '../lib';
import { decodeAttributes, loadDictionaries, loadedDictionaryFiles } from '../lib/protocol/dictionary';
import { buildApp, closeAll, passportFor } from './support/app';
import { describeFreeRadius, startFreeRadius, USERS, type FreeRadiusServer } from './support/freeradius';

const NAS = { 'NAS-Identifier': 'passport-test' };
const DICT_DIR =
  process.env.FREERADIUS_DICTDIR ??
  ['/usr/share/freeradius', '/usr/local/share/freeradius', '/opt/homebrew/share/freeradius'].find((d) => existsSync(join(d, 'dictionary.cisco'))) ??
  '/usr/share/freeradius';
const CISCO = join(DICT_DIR, 'dictionary.cisco');
const { frank } = USERS;
const hex = (text: string): string => Buffer.from(text).toString('hex');

/** Signs `username` in through HTTP and returns the profile verify received (and the response). */
async function signIn(options: RadiusStrategyOptions, username: string, password: string) {
  let profile: RadiusProfile | undefined;
  const { app } = buildApp(options, (name, p, done) => {
    profile = p;
    done(null, { username: name });
  });
  const res = await request(app).post('/login').type('form').send({ username, password });
  return { res, profile };
}

describeFreeRadius('Reply attributes in the profile (FreeRADIUS)', function () {
  let fr: FreeRadiusServer;
  const server = (): RadiusServerOptions => ({ name: 'fr', address: fr.address, secret: fr.secret, attributes: NAS, timeout: 3000 });

  before(async function () {
    this.timeout(30000);
    fr = await startFreeRadius();
  });
  afterEach(closeAll);
  after(async () => {
    await fr?.stop();
  });

  describe('without vendor dictionaries', function () {
    let profile: RadiusProfile;
    before(async function () {
      // Someone loaded the Cisco dictionary earlier in this process (another file run first): the raw case
      // cannot be shown here any more; say so rather than pass.
      if (loadedDictionaryFiles().includes(resolve(CISCO))) this.skip();
      const out = await signIn({ servers: [server()] }, frank.name, frank.password);
      assert.equal(out.res.status, 200);
      assert.ok(out.profile);
      profile = out.profile;
    });

    it('gives who signed in and where', () => {
      assert.equal(profile.provider, 'radius');
      assert.equal(profile.username, 'frank');
      assert.equal(profile.server, 'fr');
    });

    it('gives both Class values as octets, in order', () => {
      assert.deepEqual(profile.class, frank.classes);
      assert.ok(profile.class.every((c) => Buffer.isBuffer(c)));
      assert.deepEqual(profile.attributes.Class, frank.classes);
    });

    it('gives Filter-Id, Session-Timeout and Idle-Timeout, typed and by name', () => {
      assert.deepEqual(profile.filterId, [frank.filterId]);
      assert.equal(profile.sessionTimeout, frank.sessionTimeout);
      assert.equal(profile.idleTimeout, frank.idleTimeout);
      assert.equal(profile.replyMessage, undefined);
      assert.equal(profile.attributes['Filter-Id'], frank.filterId);
      assert.equal(profile.attributes['Session-Timeout'], 3600);
      assert.equal(profile.attributes['Idle-Timeout'], 600);
    });

    it('keeps vendor attributes no dictionary knows raw: { vendorId, type, value (hex) }', () => {
      const vsas = [profile.attributes['Vendor-Specific']].flat();
      assert.deepEqual(
        vsas.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
        [
          { vendorId: 2636, type: 1, value: hex(frank.vsa.value) },
          { vendorId: 9, type: 1, value: hex(frank.ciscoAvPair.value) },
        ],
      );
      assert.equal(profile.attributes['Cisco-AVPair'], undefined);
      assert.equal(profile.attributes['Message-Authenticator'], undefined, 'the verified Message-Authenticator is not passed on');
    });
  });

  describe("with FreeRADIUS's Cisco dictionary loaded", function () {
    let profile: RadiusProfile;
    before(async function () {
      const out = await signIn({ servers: [server()], dictionaries: [CISCO] }, frank.name, frank.password);
      assert.equal(out.res.status, 200);
      assert.ok(out.profile);
      profile = out.profile;
    });

    it('decodes Cisco-AVPair by name', () => {
      assert.equal(profile.attributes['Cisco-AVPair'], frank.ciscoAvPair.value);
    });

    it('still keeps the Juniper attribute (no dictionary loaded) raw', () => {
      assert.deepEqual(profile.attributes['Vendor-Specific'], { vendorId: 2636, type: 1, value: hex(frank.vsa.value) });
      assert.equal(profile.attributes['Juniper-Local-User-Name'], undefined);
    });

    it('still gives the standard attributes', () => {
      assert.deepEqual(profile.class, frank.classes);
      assert.equal(profile.sessionTimeout, 3600);
    });
  });

  describe('applySessionTimeout', function () {
    /** The session cookie's Expires (ms since the epoch), or undefined for a browser-session cookie. */
    const expiresAt = (setCookie: string[] | string | undefined): number | undefined => {
      const line = [setCookie ?? []].flat().find((c) => c.startsWith('connect.sid='));
      assert.ok(line, 'a session cookie is set');
      const m = /Expires=([^;]+)/i.exec(line);
      return m ? Date.parse(m[1]!) : undefined;
    };
    /**
     * Asserts that `expires` is Session-Timeout (3600 s) after a moment within the request: express-session
     * sets it from its own Date.now() while the request runs, and the header keeps whole seconds (RFC 7231
     * §7.1.1.1), so the bound is [start of the request's second, end of the request] + 3600 s.
     */
    const assertOneHourAfter = (expires: number | undefined, before: number, after: number): void => {
      const earliest = Math.floor((before + 3_600_000) / 1000) * 1000;
      const latest = after + 3_600_000;
      assert.ok(expires !== undefined && expires >= earliest && expires <= latest, `Expires ${expires} not in [${earliest}, ${latest}]`);
    };

    it('makes the cookie expire after Session-Timeout seconds (custom callback calling req.logIn)', async () => {
      const { app, store } = buildApp({ servers: [server()], applySessionTimeout: true });
      const before = Date.now();
      const res = await request(app).post('/login').type('form').send({ username: frank.name, password: frank.password });
      const after = Date.now();
      assert.equal(res.status, 200);
      assert.equal(res.body.info.sessionTimeout, 3600);
      assertOneHourAfter(expiresAt(res.headers['set-cookie']), before, after);
      const stored = Object.values((store as unknown as { sessions: Record<string, string> }).sessions).map((s) => JSON.parse(s));
      assert.equal(stored.length, 1);
      // The store holds the same lifetime: an expiry 3600 s after a moment within the request, and an
      // originalMaxAge of 3600 s less at most the milliseconds that passed while express-session set it
      // (it recomputes originalMaxAge as expires − its own Date.now() each time it touches the cookie).
      const storedExpires = Date.parse(stored[0].cookie.expires);
      assert.ok(storedExpires >= before + 3_600_000 && storedExpires <= after + 3_600_000, `stored expiry ${stored[0].cookie.expires}`);
      const originalMaxAge: number = stored[0].cookie.originalMaxAge;
      assert.ok(originalMaxAge <= 3_600_000 && originalMaxAge >= 3_600_000 - (after - before), `originalMaxAge ${originalMaxAge}`);
      assert.equal(stored[0].passport.user.username, 'frank');
    });

    it("works with Passport's own sign-in, successRedirect and keepSessionInfo", async () => {
      const strategy = new RadiusStrategy({ servers: [server()], applySessionTimeout: true, holdDown: 0 });
      const pp = passportFor(strategy);
      const app = express();
      app.use(express.urlencoded({ extended: false }));
      app.use(session({ secret: 't', resave: false, saveUninitialized: false, store: new MemoryStore() }));
      app.use(pp.session());
      app.post('/login', pp.authenticate('radius', { successRedirect: '/in', failureRedirect: '/out', keepSessionInfo: true }));
      try {
        const before = Date.now();
        const res = await request(app).post('/login').type('form').send({ username: frank.name, password: frank.password });
        const after = Date.now();
        assert.equal(res.status, 302);
        assert.equal(res.headers.location, '/in');
        assertOneHourAfter(expiresAt(res.headers['set-cookie']), before, after);
      } finally {
        await strategy.close();
      }
    });

    it('leaves the cookie a browser-session cookie by default', async () => {
      const { app } = buildApp({ servers: [server()] });
      const res = await request(app).post('/login').type('form').send({ username: frank.name, password: frank.password });
      assert.equal(res.status, 200);
      assert.equal(expiresAt(res.headers['set-cookie']), undefined);
    });

    it('leaves the cookie alone when the Access-Accept has no Session-Timeout', async () => {
      const { app } = buildApp({ servers: [server()], applySessionTimeout: true });
      const res = await request(app).post('/login').type('form').send({ username: USERS.alice.name, password: USERS.alice.password });
      assert.equal(res.status, 200);
      assert.equal(res.body.info.sessionTimeout, undefined);
      assert.equal(expiresAt(res.headers['set-cookie']), undefined);
    });

    it('rejects a value that is not a boolean', () => {
      assert.throws(
        () => new RadiusStrategy({ servers: [server()], applySessionTimeout: 'yes' as unknown as boolean }),
        (err: Error) => err instanceof TypeError && /applySessionTimeout/.test(err.message),
      );
    });
  });
});

describe('dictionaries option: files that cannot be used', function () {
  let dir: string;
  const write = async (name: string, text: string): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  };
  const rejects = (file: string, pattern: RegExp): void => {
    assert.throws(
      () => new RadiusStrategy({ dictionaries: [file], servers: [{ name: 'x', address: '127.0.0.1:1', secret: 's', attributes: NAS }] }),
      (err: Error) => err instanceof TypeError && err.message.startsWith('RadiusStrategy: dictionaries') && pattern.test(err.message),
    );
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'passport-radius-dict-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names a file that does not exist', () => rejects(join(dir, 'nope'), /nope does not exist/));

  it('names a directory', () => rejects(dir, /is not a file/));

  it('rejects a file that defines nothing', async () => rejects(await write('notes.txt', '{"not": "a dictionary"}\n'), /defines no attributes/));

  it('rejects a vendor whose layout is not format=1,1, naming the line', async () =>
    rejects(
      await write('dictionary.lucentish', 'VENDOR\tLucentish\t64846\tformat=2,1\nBEGIN-VENDOR Lucentish\nATTRIBUTE\tL-Thing\t1\tstring\nEND-VENDOR Lucentish\n'),
      /dictionary\.lucentish line 1: vendor Lucentish uses format=2,1/,
    ));

  it('rejects an extended vendor block (RFC 6929)', async () =>
    rejects(await write('dictionary.evs', 'VENDOR Evsy 64847\nBEGIN-VENDOR Evsy format=Extended-Vendor-Specific-5\nATTRIBUTE E-Thing 1 string\nEND-VENDOR Evsy\n'), /line 2: .*extended vendor block/));

  it('rejects a block for a vendor never declared', async () =>
    rejects(await write('dictionary.orphan', 'BEGIN-VENDOR Nobody\nATTRIBUTE N-Thing 1 string\nEND-VENDOR Nobody\n'), /no VENDOR Nobody line/));

  it('rejects the old trailing-vendor ATTRIBUTE syntax (it would redefine a standard attribute)', async () =>
    rejects(await write('dictionary.old', 'VENDOR Oldie 64848\nATTRIBUTE Oldie-Name 1 string Oldie\n'), /line 2: .*old style/));

  it('names a missing $INCLUDE and the file that includes it', async () =>
    rejects(await write('dictionary.top', '$INCLUDE dictionary.missing\n'), /dictionary\.top line 1: \$INCLUDE of "dictionary\.missing"/));

  it('loads a file whose $INCLUDE is fine, and leaves decoding intact after the rejections above', async () => {
    const vsa = (vendor: number, type: number, value: string) => {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(vendor);
      return { type: 26, value: Buffer.concat([head, Buffer.of(type, Buffer.byteLength(value) + 2), Buffer.from(value)]) };
    };
    await write('dictionary.inner', 'VENDOR Testco 64849\nBEGIN-VENDOR Testco\nATTRIBUTE Testco-Role 1 string\nATTRIBUTE Testco-Level 2 integer\nVALUE Testco-Level High 3\nEND-VENDOR Testco\n');
    const outer = await write('dictionary.outer', '# includes the vendor file\n$INCLUDE dictionary.inner\n');
    loadDictionaries([outer]);
    const level = Buffer.alloc(4);
    level.writeUInt32BE(3);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(64849);
    const decoded = decodeAttributes([
      vsa(64849, 1, 'auditor'),
      { type: 26, value: Buffer.concat([head, Buffer.of(2, 6), level]) },
      vsa(64850, 7, 'z'),
      { type: 18, value: Buffer.from('hi') },
    ]);
    assert.deepEqual(decoded, {
      'Testco-Role': 'auditor',
      'Testco-Level': 'High',
      'Vendor-Specific': { vendorId: 64850, type: 7, value: hex('z') },
      'Reply-Message': 'hi',
    });
  });
});
