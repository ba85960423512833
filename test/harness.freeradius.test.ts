/**
 * Checks the FreeRADIUS test harness itself (test/freeradius/ +
 * test/support/freeradius.ts) with FreeRADIUS's own radclient/radtest, so the
 * integration tests of the strategy can trust the server's behaviour.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';

import { describeFreeRadius, startFreeRadius, USERS } from './support/freeradius';
import type { FreeRadiusServer } from './support/freeradius';

interface RadReply {
  /** e.g. 'Access-Accept', or undefined when there was no reply. */
  code: string | undefined;
  /** Received attributes in order, as radclient prints them. */
  attrs: Array<[string, string]>;
  raw: string;
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 10_000 }, (_err, stdout, stderr) => {
      // radclient exits non-zero on rejects / no reply: we look at the output.
      resolve(`${stdout}\n${stderr}`);
    });
    child.stdin?.end(input ?? '');
  });
}

function parseReply(raw: string): RadReply {
  const lines = raw.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Received '));
  if (start < 0) return { code: undefined, attrs: [], raw };
  const code = /^Received (\S+)/.exec(lines[start]!)![1];
  const attrs: Array<[string, string]> = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^\t(\S+) = (.*)$/.exec(line);
    if (!m) break;
    attrs.push([m[1]!, m[2]!]);
  }
  return { code, attrs, raw };
}

/** Send one request with radclient; attrs is radclient's "A = v, B = w" text. */
async function radclient(
  address: string,
  secret: string,
  attrs: string,
  type: 'auth' | 'status' = 'auth',
  timeoutSeconds = 2,
): Promise<RadReply> {
  const args = ['-x', '-r', '1', '-t', String(timeoutSeconds), address, type, secret];
  return parseReply(await run('radclient', args, attrs));
}

/** radclient quoting of a string value. */
function q(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function hex(buf: Buffer): string {
  return `0x${buf.toString('hex')}`;
}

function values(reply: RadReply, name: string): string[] {
  return reply.attrs.filter(([n]) => n === name).map(([, v]) => v);
}

function pap(name: string, password: string, extra = ''): string {
  return `User-Name = ${q(name)}, User-Password = ${q(password)}, Message-Authenticator = 0x00${extra ? `, ${extra}` : ''}`;
}

describeFreeRadius('FreeRADIUS test harness (radclient)', function () {
  this.timeout(20_000);

  let server: FreeRadiusServer;
  const others: FreeRadiusServer[] = [];

  before(async function () {
    server = await startFreeRadius({ secret: "s3cr'et $x" });
  });

  after(async function () {
    await Promise.all([server, ...others].filter(Boolean).map((s) => s.stop()));
  });

  it('starts, prints its output and exposes addresses', function () {
    assert.match(server.output(), /Ready to process requests/);
    assert.equal(server.address, `127.0.0.1:${server.port}`);
    assert.equal(server.address6, `[::1]:${server.port}`);
  });

  it('PAP: accepts the plain users (also over ::1), rejects wrong/unknown ones', async function () {
    const { alice, jorg, long17, long128, unknown } = USERS;
    assert.equal(Buffer.byteLength(long17.password), 17);
    assert.equal(Buffer.byteLength(long128.password), 128);

    const a = await radclient(server.address, server.secret, pap(alice.name, alice.password));
    assert.equal(a.code, 'Access-Accept', a.raw);
    assert.deepEqual(values(a, 'Reply-Message'), [q(alice.replyMessage)]);
    assert.equal(values(a, 'Message-Authenticator').length, 1, 'signed reply');

    const a6 = await radclient(server.address6, server.secret, pap(alice.name, alice.password));
    assert.equal(a6.code, 'Access-Accept', a6.raw);

    for (const u of [jorg, long17, long128]) {
      const r = await radclient(server.address, server.secret, pap(u.name, u.password));
      assert.equal(r.code, 'Access-Accept', `${u.name}: ${r.raw}`);
    }

    const wrong = await radclient(server.address, server.secret, pap(alice.name, 'nope'));
    assert.equal(wrong.code, 'Access-Reject', wrong.raw);
    const nobody = await radclient(server.address, server.secret, pap(unknown.name, unknown.password));
    assert.equal(nobody.code, 'Access-Reject', nobody.raw);

    const rej = await radclient(server.address, server.secret, pap(USERS.rejectme.name, USERS.rejectme.password));
    assert.equal(rej.code, 'Access-Reject', rej.raw);
    assert.deepEqual(values(rej, 'Reply-Message'), USERS.rejectme.replyMessages.map(q));
  });

  it('CHAP (radtest -t chap) accepts alice and rejects a wrong password', async function () {
    const ok = parseReply(
      await run('radtest', ['-t', 'chap', USERS.alice.name, USERS.alice.password, server.address, '0', server.secret]),
    );
    assert.equal(ok.code, 'Access-Accept', ok.raw);
    const bad = parseReply(
      await run('radtest', ['-t', 'chap', USERS.alice.name, 'wrong', server.address, '0', server.secret]),
    );
    assert.equal(bad.code, 'Access-Reject', bad.raw);
  });

  it('carol: PAP/CHAP password -> Challenge with binary State -> code accepted', async function () {
    const { carol } = USERS;
    const ch = await radclient(server.address, server.secret, pap(carol.name, carol.password));
    assert.equal(ch.code, 'Access-Challenge', ch.raw);
    assert.deepEqual(values(ch, 'State'), [hex(carol.state)]);
    assert.deepEqual(values(ch, 'Reply-Message'), [q(carol.challengeMessage)]);
    assert.deepEqual(values(ch, 'Prompt'), ['No-Echo']);
    assert.equal(values(ch, 'Message-Authenticator').length, 1);

    const chap = await radclient(
      server.address,
      server.secret,
      `User-Name = carol, CHAP-Password = ${q(carol.password)}, Message-Authenticator = 0x00`,
    );
    assert.equal(chap.code, 'Access-Challenge', chap.raw);
    assert.deepEqual(values(chap, 'State'), [hex(carol.state)]);

    const chapBad = await radclient(
      server.address,
      server.secret,
      'User-Name = carol, CHAP-Password = "wrong", Message-Authenticator = 0x00',
    );
    assert.equal(chapBad.code, 'Access-Reject', chapBad.raw);

    const bad = await radclient(server.address, server.secret, pap(carol.name, 'wrong'));
    assert.equal(bad.code, 'Access-Reject', bad.raw);
    assert.deepEqual(values(bad, 'State'), []);

    const ok = await radclient(server.address, server.secret, pap(carol.name, carol.code, `State = ${hex(carol.state)}`));
    assert.equal(ok.code, 'Access-Accept', ok.raw);
    assert.deepEqual(values(ok, 'Reply-Message'), [q(carol.replyMessage)]);

    const wrongCode = await radclient(server.address, server.secret, pap(carol.name, '000000', `State = ${hex(carol.state)}`));
    assert.equal(wrongCode.code, 'Access-Reject', wrongCode.raw);
    const wrongState = await radclient(server.address, server.secret, pap(carol.name, carol.code, 'State = 0x01'));
    assert.equal(wrongState.code, 'Access-Reject', wrongState.raw);
    const noState = await radclient(server.address, server.secret, pap(carol.name, carol.code));
    assert.equal(noState.code, 'Access-Reject', noState.raw);
  });

  it('dave: two challenge rounds; erin: challenge without State', async function () {
    const { dave, erin } = USERS;
    const [r1, r2] = dave.rounds;
    const c1 = await radclient(server.address, server.secret, pap(dave.name, dave.password));
    assert.equal(c1.code, 'Access-Challenge', c1.raw);
    assert.deepEqual(values(c1, 'State'), [hex(r1!.state)]);
    assert.deepEqual(values(c1, 'Reply-Message'), [q(r1!.message)]);
    assert.deepEqual(values(c1, 'Prompt'), ['Echo']);

    const c2 = await radclient(server.address, server.secret, pap(dave.name, r1!.code, `State = ${hex(r1!.state)}`));
    assert.equal(c2.code, 'Access-Challenge', c2.raw);
    assert.deepEqual(values(c2, 'State'), [hex(r2!.state)]);
    assert.deepEqual(values(c2, 'Reply-Message'), [q(r2!.message)]);

    const ok = await radclient(server.address, server.secret, pap(dave.name, r2!.code, `State = ${hex(r2!.state)}`));
    assert.equal(ok.code, 'Access-Accept', ok.raw);

    const skip = await radclient(server.address, server.secret, pap(dave.name, r2!.code, `State = ${hex(r1!.state)}`));
    assert.equal(skip.code, 'Access-Reject', skip.raw);
    const badPw = await radclient(server.address, server.secret, pap(dave.name, 'wrong'));
    assert.equal(badPw.code, 'Access-Reject', badPw.raw);

    const e1 = await radclient(server.address, server.secret, pap(erin.name, erin.password));
    assert.equal(e1.code, 'Access-Challenge', e1.raw);
    assert.deepEqual(values(e1, 'State'), []);
    assert.deepEqual(values(e1, 'Reply-Message'), erin.challengeMessages.map(q));
    const e2 = await radclient(server.address, server.secret, pap(erin.name, erin.code));
    assert.equal(e2.code, 'Access-Accept', e2.raw);
    const e3 = await radclient(server.address, server.secret, pap(erin.name, 'wrong'));
    assert.equal(e3.code, 'Access-Reject', e3.raw);
  });

  it('frank: Accept with Class x2, Filter-Id, timeouts and vendor attributes', async function () {
    const { frank } = USERS;
    const r = await radclient(server.address, server.secret, pap(frank.name, frank.password));
    assert.equal(r.code, 'Access-Accept', r.raw);
    assert.deepEqual(values(r, 'Class'), frank.classes.map(hex));
    assert.deepEqual(values(r, 'Filter-Id'), [q(frank.filterId)]);
    assert.deepEqual(values(r, 'Session-Timeout'), [String(frank.sessionTimeout)]);
    assert.deepEqual(values(r, 'Idle-Timeout'), [String(frank.idleTimeout)]);
    assert.deepEqual(values(r, frank.ciscoAvPair.name), [q(frank.ciscoAvPair.value)]);
    assert.deepEqual(values(r, frank.vsa.name), [q(frank.vsa.value)]);
  });

  it('options: statusServer, signReplies, requireMessageAuthenticator', async function () {
    const status = await startFreeRadius({ statusServer: true, secret: 'status-secret' });
    others.push(status);
    const unsigned = await startFreeRadius({ signReplies: false, requireMessageAuthenticator: false });
    others.push(unsigned);

    // Status-Server on: Access-Accept (signed); off (main server): no answer.
    const st = await radclient(status.address, status.secret, 'Message-Authenticator = 0x00', 'status');
    assert.equal(st.code, 'Access-Accept', st.raw);
    assert.equal(values(st, 'Message-Authenticator').length, 1);
    const st6 = await radclient(status.address6, status.secret, 'Message-Authenticator = 0x00', 'status');
    assert.equal(st6.code, 'Access-Accept', st6.raw);
    const off = await radclient(server.address, server.secret, 'Message-Authenticator = 0x00', 'status', 0.5);
    assert.equal(off.code, undefined, off.raw);

    // signReplies false: no Message-Authenticator in Accept, Reject, Challenge.
    for (const attrs of [
      pap(USERS.alice.name, USERS.alice.password),
      pap(USERS.alice.name, 'wrong'),
      pap(USERS.carol.name, USERS.carol.password),
    ]) {
      const r = await radclient(unsigned.address, unsigned.secret, attrs);
      assert.ok(r.code, r.raw);
      assert.deepEqual(values(r, 'Message-Authenticator'), [], r.raw);
    }
    // ...and signReplies true (default) signs Reject and Challenge too.
    for (const attrs of [pap(USERS.alice.name, 'wrong'), pap(USERS.carol.name, USERS.carol.password)]) {
      const r = await radclient(server.address, server.secret, attrs);
      assert.equal(values(r, 'Message-Authenticator').length, 1, r.raw);
    }

    // requireMessageAuthenticator: without one the default server drops the
    // request, the relaxed one answers.
    const noMa = `User-Name = alice, User-Password = ${q(USERS.alice.password)}`;
    const dropped = await radclient(server.address, server.secret, noMa, 'auth', 0.5);
    assert.equal(dropped.code, undefined, dropped.raw);
    const answered = await radclient(unsigned.address, unsigned.secret, noMa);
    assert.equal(answered.code, 'Access-Accept', answered.raw);
  });
});
