/**
 * README "Registering the app with the RADIUS server", proven on Debian's stock FreeRADIUS 3.2 config:
 * the README shows the snippet files of docs/freeradius/ verbatim, and the suite applies those same files
 * to a copy of /etc/freeradius/3.0 (test/support/stock-freeradius.ts), then signs in through
 * RadiusStrategy with PAP, CHAP and the TOTP two-factor flow, and probes it.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Secret } from 'otpauth';
import request from 'supertest';
import { probe, type RadiusServerOptions } from '../lib';
import { SNIPPETS, snippet, type SnippetName } from '../scripts/freeradius-snippets';
import { buildApp, closeAll } from './support/app';
import { FREERADIUS_BIN, waitForOutputSince } from './support/freeradius';
import { describeRequiring } from './support/requirements';
import { STOCK_DIR, startStockFreeRadius, type StockFreeRadius } from './support/stock-freeradius';
import { totpCode, waitForFreshStep, waitForUnusedStep } from './support/totp';

const README = readFileSync(join(process.cwd(), 'README.md'), 'utf8');

/** The README's "Registering…" section, up to the next level-2 heading. */
function registrationSection(): string {
  const start = README.indexOf('\n## Registering the app with the RADIUS server\n');
  assert.ok(start !== -1, 'README has no "Registering the app with the RADIUS server" section');
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

/** The fenced code blocks of `markdown`, without their fences. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

function stockReadable(): boolean {
  try {
    accessSync(join(STOCK_DIR, 'radiusd.conf'), fsConstants.R_OK);
    return true;
  } catch {
    return false;
  }
}

describe('README "Registering the app with the RADIUS server"', () => {
  const section = registrationSection();
  const blocks = codeBlocks(section);

  for (const name of Object.keys(SNIPPETS) as SnippetName[]) {
    it(`shows docs/freeradius/${SNIPPETS[name]} verbatim, as one code block`, () => {
      assert.ok(blocks.includes(snippet(name)), `README lacks a code block equal to docs/freeradius/${SNIPPETS[name]}:\n${snippet(name)}`);
    });
  }

  it('names the file and section of each change, and the commands the test runs', () => {
    for (const text of [
      '/etc/freeradius/3.0/clients.conf',
      '/etc/freeradius/3.0/sites-enabled/default',
      'first lines of the `authorize` section',
      'end of the `authorize` section',
      'end of the `authenticate` section',
      '/etc/freeradius/3.0/mods-config/files/authorize',
      'ln -s ../mods-available/totp /etc/freeradius/3.0/mods-enabled/totp',
      '/etc/freeradius/3.0/mods-available/totp_used',
      'ln -s ../mods-available/totp_used /etc/freeradius/3.0/mods-enabled/totp_used',
      'delete the stock `client localhost { … }` and `client localhost_ipv6 { … }` blocks',
      'client passport_console_ipv6 { ipaddr = ::1 … }',
    ]) {
      assert.ok(section.replace(/\s+/g, ' ').includes(text), `the section does not say: ${text}`);
    }
  });
});

describeRequiring(
  {
    available: FREERADIUS_BIN !== undefined && stockReadable(),
    what: `FreeRADIUS with a readable stock configuration (${STOCK_DIR})`,
    requireVar: 'REQUIRE_FREERADIUS',
    install: 'install the freeradius package, and run as root or in the freerad group',
    skipping: 'the stock-configuration registration tests',
  },
  'Stock FreeRADIUS 3.2 with the README registration changes',
  function () {
    this.timeout(20000);
    const totpKey = randomBytes(20);
    /** TOTP steps whose code carol already spent on this server (each code is accepted once). */
    const usedSteps = new Set<number>();
    let fr: StockFreeRadius;
    const server = (extra: Partial<RadiusServerOptions> = {}): RadiusServerOptions => ({
      name: 'stock',
      address: fr.address,
      secret: fr.secret,
      attributes: { 'NAS-Identifier': 'passport_console' },
      timeout: 4000,
      ...extra,
    });
    const flow = (extra: Partial<RadiusServerOptions> = {}) =>
      request.agent(buildApp({ servers: [server(extra)], challengeURL: '/login/challenge' }).app);

    before(async function () {
      this.timeout(40000);
      fr = await startStockFreeRadius({ secret: `stock-${randomBytes(8).toString('hex')}`, totpSecret: new Secret({ buffer: totpKey.buffer.slice(totpKey.byteOffset, totpKey.byteOffset + 20) as ArrayBuffer }).base32 });
    });
    afterEach(closeAll);
    after(async () => {
      await fr?.stop();
    });

    it('loads the README clients for 127.0.0.1 and ::1 instead of the stock ones, without a duplicate-client error', () => {
      const out = fr.output();
      assert.match(out, /client passport_console \{/);
      assert.match(out, /client passport_console_ipv6 \{/);
      assert.doesNotMatch(out, /client localhost(_ipv6)? \{/);
      assert.doesNotMatch(out, /duplicate client/i);
    });

    it('signs alice in over [::1] with the app\'s secret (the stock localhost_ipv6 client, secret testing123, removed)', async () => {
      const mark = fr.output().length;
      const res = await flow({ address: fr.address6 }).post('/login').type('form').send({ username: 'alice', password: 'alice-password' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.user.username, 'alice');
      await waitForOutputSince(fr, mark, /Received Access-Request Id \d+ from \[::1\]:\d+ to \[::1\]:\d+/);
    });

    it('needs the stock localhost client removed: FreeRADIUS refuses a second client for 127.0.0.1, whatever its name', async () => {
      await assert.rejects(
        startStockFreeRadius({ secret: 'unused-secret', totpSecret: 'JBSWY3DPEHPK3PXP', keepStockLocalhost: true }),
        (err: Error) => /Failed to add duplicate client passport_console/.test(err.message),
      );
    });

    it('signs alice in with PAP (signed Access-Accept) and turns a wrong password away with 401', async () => {
      const mark = fr.output().length;
      const ok = await flow().post('/login').type('form').send({ username: 'alice', password: 'alice-password' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.user.username, 'alice');
      assert.deepEqual(ok.body.user.class, [{ type: 'Buffer', data: [...Buffer.from('admins')] }]);
      await waitForOutputSince(fr, mark, /Sent Access-Accept[^\n]*\n\(\d+\)\s+Message-Authenticator = 0x/);
      const bad = await flow().post('/login').type('form').send({ username: 'alice', password: 'not-her-password' });
      assert.equal(bad.status, 401);
    });

    it('signs alice in with CHAP', async () => {
      const mark = fr.output().length;
      const res = await flow({ protocol: 'chap' }).post('/login').type('form').send({ username: 'alice', password: 'alice-password' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await waitForOutputSince(fr, mark, /CHAP-Password = 0x/);
    });

    for (const protocol of ['pap', 'chap'] as const) {
      it(`signs carol in with her password (${protocol.toUpperCase()}), then a TOTP code after the Access-Challenge; the same code again in a second sign-in is refused`, async function () {
        this.timeout(60000); // may wait for a TOTP step not used yet
        await waitForUnusedStep(usedSteps);
        const code = totpCode(totpKey);
        const agent = flow({ protocol });
        const first = await agent.post('/login').type('form').send({ username: 'carol', password: 'carol-password' });
        assert.equal(first.status, 303, JSON.stringify(first.body));
        assert.equal(first.headers.location, '/login/challenge');
        const pending = (await agent.get('/session')).body.radius;
        assert.equal(pending.prompt, 'Enter the 6-digit code from your authenticator app');
        const mark = fr.output().length;
        const res = await agent.post('/login/challenge').type('form').send({ code });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        await waitForOutputSince(fr, mark, /\[totp\] = ok/);
        assert.equal(res.body.user.username, 'carol');
        assert.equal((await agent.get('/whoami')).status, 200);

        // RFC 6238 §5.2 (the README's totp_used module): a second sign-in with the code just used.
        const replay = flow({ protocol });
        await replay.post('/login').type('form').send({ username: 'carol', password: 'carol-password' }).expect(303);
        const replayMark = fr.output().length;
        const again = await replay.post('/login/challenge').type('form').send({ code });
        assert.equal(totpCode(totpKey), code, 'the TOTP step ended during the test: the refusal would prove nothing');
        assert.equal(again.status, 401, JSON.stringify(again.body));
        assert.equal((await replay.get('/whoami')).status, 401);
        await waitForOutputSince(fr, replayMark, /\[totp_used\] = ok/);
        assert.doesNotMatch(fr.output().slice(replayMark), /\[totp\] = ok/);
      });
    }

    it('refuses a wrong code, and a wrong password gets no challenge', async () => {
      await waitForFreshStep();
      const agent = flow();
      await agent.post('/login').type('form').send({ username: 'carol', password: 'carol-password' }).expect(303);
      const right = totpCode(totpKey);
      const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
      const mark = fr.output().length;
      const res = await agent.post('/login/challenge').type('form').send({ code: wrong });
      assert.equal(res.status, 401);
      await waitForOutputSince(fr, mark, /\[totp\] = fail/);
      assert.equal((await agent.get('/whoami')).status, 401);
      const badPassword = await flow().post('/login').type('form').send({ username: 'carol', password: 'wrong' });
      assert.equal(badPassword.status, 401);
    });

    it('does not take a valid code in place of the password (no State: password step)', async () => {
      await waitForFreshStep();
      const res = await flow().post('/login').type('form').send({ username: 'carol', password: totpCode(totpKey) });
      assert.equal(res.status, 401);
    });

    it('probe: Reachable through Status-Server with no warning', async () => {
      const mark = fr.output().length;
      const result = await probe(server());
      assert.equal(result.status, 'reachable', result.message);
      assert.equal(result.method, 'status-server');
      assert.deepEqual(result.warnings, []);
      assert.match(result.message, /^Reachable \(\d+ ms, status-server\)$/);
      await waitForOutputSince(fr, mark, /Sent Access-Accept[^\n]*\n\(\d+\)\s+Message-Authenticator :?= 0x/);
    });

    it('probe of the accounting port says so', async () => {
      const result = await probe(server({ address: fr.accountingAddress, timeout: 3000 }));
      assert.equal(result.status, 'failed');
      assert.equal(result.reason, 'unexpected-reply');
      assert.equal(result.detail, 'Accounting-Response');
      assert.match(result.message, /this looks like the accounting port/);
    });
  },
);
