import { strict as assert } from 'node:assert';
import {
  Attr,
  Code,
  chapPassword,
  encodeAttribute,
  encodeRequest,
  checkReply,
  hidePassword,
  packetWork,
  parsePacket,
  randomAuthenticator,
  unhidePassword,
  verifyReply,
} from '../lib/protocol/packet';
import { decodeAttributes, encodeConfiguredAttributes } from '../lib/protocol/dictionary';
import { packet, vectors } from './support/vectors';

const c = vectors.conventions;
const secret = Buffer.from(c.secret);
const auth1 = Buffer.from(c.requestAuthenticator, 'hex');
const auth2 = Buffer.from(c.requestAuthenticator2, 'hex');
const pw = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('codec: User-Password hiding (RFC 2865 §5.2)', () => {
  for (const v of vectors.userPassword) {
    it(`matches vector ${v.id}`, () => {
      const s = Buffer.from(v.secret ?? c.secret, 'utf8');
      const ra = Buffer.from(v.requestAuthenticator ?? c.requestAuthenticator, 'hex');
      const hidden = hidePassword(pw(v.password), s, ra);
      assert.equal(hidden.toString('hex'), v.hidden);
      assert.equal(unhidePassword(hidden, s, ra).toString('utf8'), v.password);
    });
  }
  it('pads 128 bytes without growing and refuses 129', () => {
    assert.equal(hidePassword(Buffer.alloc(128, 0x61), secret, auth1).length, 128);
    assert.throws(() => hidePassword(Buffer.alloc(129, 0x61), secret, auth1), RangeError);
  });
});

describe('codec: CHAP-Password (RFC 2865 §5.3, RFC 1994)', () => {
  for (const v of vectors.chapPassword) {
    it(`matches vector ${v.id}`, () => {
      const value = chapPassword(v.chapId, pw(v.password), Buffer.from(v.chapChallenge, 'hex'));
      assert.equal(value.toString('hex'), v.chapPassword);
    });
  }
});

describe('codec: Access-Request encoding', () => {
  const attrs = (authenticator: Buffer, password: string, extra: Buffer[] = []): Buffer =>
    Buffer.concat([
      encodeAttribute(Attr.UserName, pw(c.user)),
      encodeAttribute(Attr.UserPassword, hidePassword(pw(password), secret, authenticator)),
      encodeConfiguredAttributes([['NAS-Identifier', c.nasIdentifier]], 'test'),
      ...extra,
    ]);

  it('encodes REQ1 byte for byte without a Message-Authenticator', () => {
    const bytes = encodeRequest({ code: Code.AccessRequest, identifier: 1, requestAuthenticator: auth1, attributes: attrs(auth1, 'password'), secret, messageAuthenticator: false });
    assert.equal(bytes.toString('hex'), packet('REQ1').toString('hex'));
  });

  it('encodes REQ1_MA with the Message-Authenticator first and signed', () => {
    const bytes = encodeRequest({ code: Code.AccessRequest, identifier: 1, requestAuthenticator: auth1, attributes: attrs(auth1, 'password'), secret, messageAuthenticator: true });
    assert.equal(bytes.toString('hex'), packet('REQ1_MA').toString('hex'));
    assert.equal(bytes[20], Attr.MessageAuthenticator);
  });

  it('encodes the challenge follow-up REQ2 with the State copied byte for byte', () => {
    const state = encodeAttribute(Attr.State, Buffer.from('00ff80fe0d0a2200c3', 'hex'));
    const bytes = encodeRequest({ code: Code.AccessRequest, identifier: 2, requestAuthenticator: auth2, attributes: attrs(auth2, '123456', [state]), secret, messageAuthenticator: false });
    assert.equal(bytes.toString('hex'), packet('REQ2').toString('hex'));
  });
});

describe('codec: reply verification (RFC 2865 §3, RFC 3579 §3.2)', () => {
  const ok = (name: string, requireMA: boolean): boolean => verifyReply(packet(name), auth1, secret, requireMA).ok;
  const reason = (name: string, requireMA = false): string | undefined => {
    const r = verifyReply(packet(name), auth1, secret, requireMA);
    return r.ok ? undefined : r.reason;
  };

  it('accepts ACCEPT1 only when a Message-Authenticator is not required', () => {
    assert.equal(ok('ACCEPT1', false), true);
    assert.equal(reason('ACCEPT1', true), 'missing-message-authenticator');
  });
  it('accepts ACCEPT1_MA and CHALLENGE1_MA with a required Message-Authenticator', () => {
    assert.equal(ok('ACCEPT1_MA', true), true);
    assert.equal(ok('CHALLENGE1_MA', true), true);
  });
  it('rejects a Message-Authenticator with one flipped bit', () => {
    const bad = packet('ACCEPT1_MA');
    bad[bad.length - 1]! ^= 1;
    assert.equal(verifyReply(bad, auth1, secret, true).ok, false);
  });
  it('rejects a reply verified with the wrong shared secret', () => {
    const r = verifyReply(packet('ACCEPT1_MA'), auth1, Buffer.from('wrong'), true);
    assert.deepEqual(r, { ok: false, reason: 'bad-response-authenticator' });
  });
  it('drops ACCEPT1_BADAUTH as a bad Response Authenticator', () => {
    assert.equal(reason('ACCEPT1_BADAUTH'), 'bad-response-authenticator');
  });
  for (const name of ['ACCEPT_ATTRLEN0', 'ACCEPT_ATTRLEN1', 'ACCEPT_ATTR_OVERRUN', 'ACCEPT_VSA_SHORT', 'ACCEPT_TRUNCATED', 'ACCEPT_LEN16']) {
    it(`drops ${name} as malformed without throwing`, () => {
      assert.equal(reason(name), 'malformed');
    });
  }
  it('accepts ACCEPT_UNKNOWN_ATTR and keeps the unknown attribute raw', () => {
    const r = verifyReply(packet('ACCEPT_UNKNOWN_ATTR'), auth1, secret, false);
    assert.ok(r.ok);
    assert.deepEqual(decodeAttributes(r.packet.attributes), { 'Attr-250': Buffer.from('abc') });
  });
  it('accepts ACCEPT_PADDED and ignores the bytes after Length', () => {
    const r = verifyReply(packet('ACCEPT_PADDED'), auth1, secret, false);
    assert.ok(r.ok);
    assert.equal(r.packet.bytes.length, 24);
    assert.deepEqual(decodeAttributes(r.packet.attributes), { 'Reply-Message': 'ok' });
  });
  it('decodes REJECT1 and CHALLENGE1 attributes in order', () => {
    const reject = parsePacket(packet('REJECT1'))!;
    assert.equal(reject.code, Code.AccessReject);
    assert.deepEqual(decodeAttributes(reject.attributes), { 'Reply-Message': 'Denied' });
    const challenge = parsePacket(packet('CHALLENGE1'))!;
    const decoded = decodeAttributes(challenge.attributes);
    assert.deepEqual(decoded['Reply-Message'], ['Enter the code ', 'sent to your phone']);
    assert.equal((decoded.State as Buffer).toString('hex'), '00ff80fe0d0a2200c3');
    assert.equal(decoded.Prompt, 'No-Echo');
  });
  it('checks the Response Authenticator before the attribute framing and the Message-Authenticator, and splits nothing', () => {
    const cost = (run: () => void): { digests: number; splits: number } => {
      const before = { ...packetWork };
      run();
      return { digests: packetWork.digests - before.digests, splits: packetWork.splits - before.splits };
    };
    // A forged reply with broken framing is refused for its authenticator, after one MD5.
    const forged = packet('ACCEPT1_BADAUTH');
    forged[forged.length - 1] = 0xff;
    assert.deepEqual(cost(() => assert.equal(checkReply(forged, auth1, secret, true), 'bad-response-authenticator')), { digests: 1, splits: 0 });
    assert.deepEqual(cost(() => assert.equal(verifyReply(packet('ACCEPT_TRUNCATED'), auth1, secret, true).ok, false)), { digests: 0, splits: 0 });
    assert.deepEqual(cost(() => assert.equal(checkReply(packet('ACCEPT1_MA'), auth1, secret, true), undefined)), { digests: 2, splits: 0 });
    assert.deepEqual(cost(() => assert.ok(verifyReply(packet('ACCEPT1_MA'), auth1, secret, true).ok)), { digests: 2, splits: 1 });
  });
  it('never throws on random garbage', () => {
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.alloc(Math.floor(Math.random() * 64));
      for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(Math.random() * 256);
      if (junk.length >= 4) junk.writeUInt16BE(Math.min(junk.length, 20 + (junk[5] ?? 0) % 40), 2);
      const r = verifyReply(junk, auth1, secret, false);
      if (r.ok) decodeAttributes(r.packet.attributes);
    }
  });
});

describe('codec: configured attributes', () => {
  it('encodes NAS-Identifier and NAS-IP-Address by dictionary name', () => {
    const bytes = encodeConfiguredAttributes([['NAS-Identifier', 'console'], ['NAS-IP-Address', '192.0.2.1']], 'x');
    assert.equal(bytes.toString('hex'), '2009636f6e736f6c65' + '0406c0000201');
  });
  it('encodes NAS-IPv6-Address', () => {
    const bytes = encodeConfiguredAttributes([['NAS-IPv6-Address', '2001:db8::1']], 'x');
    assert.equal(bytes.toString('hex'), '5f12' + '20010db8000000000000000000000001');
  });
  it('throws TypeError for an unknown name and for reserved attributes', () => {
    assert.throws(() => encodeConfiguredAttributes([['No-Such-Attribute', 'x']], 'x'), /unknown attribute "No-Such-Attribute"/);
    assert.throws(() => encodeConfiguredAttributes([['State', 'x']], 'x'), TypeError);
    assert.throws(() => encodeConfiguredAttributes([['User-Password', 'x']], 'x'), TypeError);
  });
});

describe('codec: reply attributes of the wrong length for their type', () => {
  it('keeps a 2-byte Framed-IP-Address and a 3-byte Session-Timeout raw instead of decoding them', () => {
    const decoded = decodeAttributes([
      { type: 8, value: Buffer.from([1, 2]) },
      { type: 27, value: Buffer.from([0, 0, 1]) },
      { type: 8, value: Buffer.from([192, 0, 2, 1]) },
      { type: 27, value: Buffer.from([0, 0, 14, 16]) },
    ]);
    assert.deepEqual(decoded['Framed-IP-Address'], [Buffer.from([1, 2]), '192.0.2.1']);
    assert.deepEqual(decoded['Session-Timeout'], [Buffer.from([0, 0, 1]), 3600]);
  });
});

describe('codec: Request Authenticators', () => {
  it('are 16 bytes, all different over a few pools, and never change once handed out', () => {
    const seen = new Set<string>();
    const first = randomAuthenticator();
    const copy = Buffer.from(first);
    for (let i = 0; i < 1000; i++) {
      const a = randomAuthenticator();
      assert.equal(a.length, 16);
      seen.add(a.toString('hex'));
    }
    assert.equal(seen.size, 1000);
    assert.ok(first.equals(copy), 'an earlier Request Authenticator changed when the pool was refilled');
  });
});
