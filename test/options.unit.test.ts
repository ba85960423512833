/**
 * The one option schema (lib/options.ts, lib/strategy-options.ts): every server option reaches the CLI's
 * `--config`, option edge cases are refused at construction, options are read as own properties only, and
 * RadiusClient's methods refuse wrong argument types with a TypeError naming the argument. No sockets.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServers } from '../lib/cli/config';
import { RadiusClient } from '../lib/client';
import { RadiusStrategy } from '../lib/strategy';
import {
  CLIENT_OPTION_NAMES,
  MAX_CONFIGURED_ATTRIBUTES_LENGTH,
  SERVER_OPTION_NAMES,
  normalizeClientOptions,
  type RadiusServerOptions,
} from '../lib/options';
import { buildAccessRequest } from '../lib/request';
import { encodeAttributeList } from '../lib/protocol/dictionary';
import { parsePacket } from '../lib/protocol/packet';
import { SERVER_OPTION_SAMPLES } from './support/options';

const NAS = { 'NAS-Identifier': 'options-test' };
const good = { name: 'a', address: '127.0.0.1', secret: 's', attributes: NAS };

describe('The option schema', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'passport-radius-options-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has a sample value for every server option (so the CLI test covers each)', () => {
    assert.deepEqual([...SERVER_OPTION_NAMES].sort(), Object.keys(SERVER_OPTION_SAMPLES).sort());
  });

  it('the CLI --config loader accepts every server option of the schema, "final": true included', async () => {
    const file = join(dir, 'every-option.json');
    await writeFile(file, JSON.stringify({ servers: [SERVER_OPTION_SAMPLES], holdDown: 1000, failoverOnReject: false }));
    const resolved = resolveServers({ config: file }, {});
    for (const name of SERVER_OPTION_NAMES) {
      assert.ok(Object.hasOwn(resolved.servers[0]!, name), `--config dropped the server option "${name}"`);
    }
    assert.equal(resolved.servers[0]!.final, true);
    const client = new RadiusClient({ ...resolved.client, servers: resolved.servers }, 'passport-radius');
    await client.close();
  });

  it('the CLI --config loader accepts every client option of the schema at the top level', async () => {
    const samples: Record<string, unknown> = { servers: [good], failoverOnReject: false, failoverOnTimeout: false, holdDown: 0, dictionaries: [] };
    assert.deepEqual([...CLIENT_OPTION_NAMES].sort(), Object.keys(samples).sort());
    const file = join(dir, 'client-options.json');
    await writeFile(file, JSON.stringify(samples));
    const resolved = resolveServers({ config: file }, {});
    assert.deepEqual(Object.keys(resolved.client).sort(), CLIENT_OPTION_NAMES.filter((n) => n !== 'servers').sort());
  });

  it('the CLI --config loader still refuses unknown keys, "__proto__" included', async () => {
    const file = join(dir, 'unknown.json');
    await writeFile(file, '{"servers":[{"name":"a","address":"127.0.0.1","secret":"s","attributes":{"NAS-Identifier":"x"},"__proto__":{"x":1}}]}');
    assert.throws(() => resolveServers({ config: file }, {}), /unknown key "__proto__"/);
  });

  it('the strategy accepts every server option of the schema', async () => {
    const strategy = new RadiusStrategy({ servers: [SERVER_OPTION_SAMPLES as unknown as RadiusServerOptions] });
    await strategy.close();
  });
});

describe('Option edge cases (refused at construction with a TypeError naming the option)', () => {
  const refused: Array<[string, unknown, RegExp]> = [
    ['sessionKey "__proto__"', { servers: [good], sessionKey: '__proto__' }, /sessionKey must not be "__proto__"/],
    ['sessionKey "cookie" (express-session owns it)', { servers: [good], sessionKey: 'cookie' }, /sessionKey must not be "cookie"/],
    ['sessionKey "passport" (Passport owns it)', { servers: [good], sessionKey: 'passport' }, /sessionKey must not be "passport"/],
    ['sessionKey "constructor"', { servers: [good], sessionKey: 'constructor' }, /sessionKey must not be "constructor"/],
    ['an address starting with a hyphen', { servers: [{ ...good, address: '-host' }] }, /servers\[0\]\.address must be host\[:port\]/],
    ['a host name label ending with a hyphen', { servers: [{ ...good, address: 'radius-.example.com' }] }, /address must be host\[:port\]/],
    ['the broadcast address', { servers: [{ ...good, address: '255.255.255.255' }] }, /address must be host\[:port\] with a host name or a unicast IP address/],
    ['the unspecified address', { servers: [{ ...good, address: '0.0.0.0:1812' }] }, /unicast IP address/],
    ['a multicast address', { servers: [{ ...good, address: '[ff02::1]' }] }, /unicast IP address/],
    [
      'an IPv6 address and port without brackets, suggesting "[::1]:1812"',
      { servers: [{ ...good, address: '::1:1812' }] },
      /servers\[0\]\.address must put an IPv6 address in brackets: "\[::1\]:1812" for port 1812 of ::1, or "\[::1:1812\]" for the address ::1:1812$/,
    ],
    ['a bare IPv6 address, suggesting brackets', { servers: [{ ...good, address: 'fe80::1' }] }, /address must put an IPv6 address in brackets, e\.g\. "\[fe80::1\]" or "\[fe80::1\]:1812"$/],
    [
      'an accounting address in IPv6 without brackets',
      { servers: [{ ...good, accountingAddress: '::1:1813' }] },
      /servers\[0\]\.accountingAddress must put an IPv6 address in brackets: "\[::1\]:1813"/,
    ],
    ['NAS-Port 1.5', { servers: [{ ...good, attributes: { ...NAS, 'NAS-Port': 1.5 } }] }, /"NAS-Port" must be a whole number/],
    ['a negative NAS-Port', { servers: [{ ...good, attributes: { ...NAS, 'NAS-Port': -1 } }] }, /"NAS-Port" must be a whole number/],
    ['a number for a text attribute', { servers: [{ ...good, attributes: { 'NAS-Identifier': 5 } }] }, /"NAS-Identifier" takes text or bytes, not a number/],
    [
      'attributes too long for one packet',
      { servers: [{ ...good, attributes: [['NAS-Identifier', 'x'], ...Array.from({ length: 14 }, () => ['Class', Buffer.alloc(253, 0x63)])] }] },
      /servers\[0\]\.attributes take 3573 bytes; an Access-Request must fit in 4096 bytes/,
    ],
  ];
  for (const [what, options, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => new RadiusStrategy(options as never),
        (err: Error) => err instanceof TypeError && message.test(err.message) && err.message.startsWith('RadiusStrategy'),
      );
    });
  }

  it('accepts attributes up to the limit, and the largest request then still fits in one packet', async () => {
    // 13 × 255 + 3 + (the rest as one Class) = exactly the limit.
    const classes = Array.from({ length: 13 }, () => ['Class', Buffer.alloc(253, 0x63)] as [string, Buffer]);
    const used = 13 * 255 + 3; // NAS-Identifier "x"
    const last = MAX_CONFIGURED_ATTRIBUTES_LENGTH - used - 2;
    const attributes: Array<[string, string | Buffer]> = [['NAS-Identifier', 'x'], ...classes, ['Class', Buffer.alloc(last, 0x64)]];
    const { servers } = normalizeClientOptions({ servers: [{ ...good, attributes }] }, 'test');
    const server = servers[0]!;
    assert.equal(server.attributes.length, MAX_CONFIGURED_ATTRIBUTES_LENGTH);
    const { packet } = buildAccessRequest(
      {
        server,
        username: Buffer.alloc(253, 0x61),
        password: Buffer.alloc(128, 0x62),
        chap: false,
        state: Buffer.alloc(253, 0x63),
        // The strategy's per-request defaults at their longest.
        extra: encodeAttributeList([['Calling-Station-Id', 'f'.repeat(64)], ['NAS-Port-Type', 'Virtual']], 'test').attributes,
      },
      1,
    );
    assert.equal(packet.length, 4096);
    assert.ok(parsePacket(packet));
  });

  describe('with a polluted Object.prototype', () => {
    const proto = Object.prototype as Record<string, unknown>;
    afterEach(() => {
      delete proto.requireMessageAuthenticator;
      delete proto.failoverOnReject;
      delete proto.protocol;
    });

    it('keeps requireMessageAuthenticator on (options are read as own properties only)', () => {
      proto.requireMessageAuthenticator = false;
      proto.protocol = 'chap';
      proto.failoverOnReject = false;
      const normalized = normalizeClientOptions({ servers: [{ ...good }] }, 'test');
      assert.equal(normalized.servers[0]!.requireMessageAuthenticator, true);
      assert.equal(normalized.servers[0]!.protocol, 'pap');
      assert.equal(normalized.failoverOnReject, true);
    });
  });
});

describe('Per-request attributes (the one Access-Request builder)', () => {
  it('puts Message-Authenticator first, then User-Name, User-Password, configured, per-request (unless configured), State', () => {
    const { servers } = normalizeClientOptions(
      { servers: [{ ...good, attributes: { ...NAS, 'Calling-Station-Id': null, 'NAS-Port': 3 } }] },
      'test',
    );
    const extra = encodeAttributeList(
      [
        ['Calling-Station-Id', '192.0.2.7'],
        ['NAS-Port-Type', 'Virtual'],
      ],
      'test',
    ).attributes;
    const { packet } = buildAccessRequest({ server: servers[0]!, username: Buffer.from('u'), password: Buffer.from('p'), chap: false, extra, state: Buffer.from('st') }, 9);
    const types = parsePacket(packet)!.attributes.map((a) => a.type);
    // 80 Message-Authenticator, 1 User-Name, 2 User-Password, 32 NAS-Identifier, 5 NAS-Port, 61 NAS-Port-Type, 24 State;
    // Calling-Station-Id (31) is configured as null on this server, so the per-request one is left out.
    assert.deepEqual(types, [80, 1, 2, 32, 5, 61, 24]);
  });

  it('refuses reserved attributes per request', async () => {
    const client = new RadiusClient({ servers: [good] });
    await assert.rejects(
      client.authenticate({ username: 'u', password: 'p', attributes: [['State', 'x']] }),
      (err: Error) => err instanceof TypeError && /attributes: "State" is set by the client/.test(err.message),
    );
    await client.close();
  });
});

describe('RadiusClient methods refuse wrong argument types with a TypeError naming the argument', () => {
  let client: RadiusClient;
  before(() => {
    client = new RadiusClient({ servers: [good] });
  });
  after(() => client.close());

  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['a password given as an array of bytes', () => client.authenticate({ username: 'u', password: [0x61, 0x62] as never }), /authenticate: password must be a string/],
    ['a password given as a Buffer', () => client.authenticate({ username: 'u', password: Buffer.from('p') as never }), /authenticate: password must be a string/],
    ['a user name given as an array', () => client.authenticate({ username: ['u'] as never, password: 'p' }), /authenticate: username must be a string/],
    ['no argument', () => client.authenticate(undefined as never), /authenticate: the argument must be an object/],
    ['servers given as a string', () => client.authenticate({ username: 'u', password: 'p', servers: 'a' as never }), /authenticate: servers must be an array/],
    ['attributes given as an object', () => client.authenticate({ username: 'u', password: 'p', attributes: { a: 1 } as never }), /authenticate: attributes must be an array/],
    ['a response given as a number', () => client.respond({ server: 'a', username: 'u', response: 123456 as never }), /respond: response must be a string/],
    ['a State given as a string', () => client.respond({ server: 'a', username: 'u', response: '1', state: 'abc' as never }), /respond: state must be a Buffer/],
    ['a server given as an object', () => client.respond({ server: {} as never, username: 'u', response: '1' }), /respond: server must be a server name/],
    ['a user name given as a number', () => client.respond({ server: 'a', username: 5 as never, response: '1' }), /respond: username must be a string/],
    ['a probe name given as a number', () => client.probe(1 as never), /probe: name must be a server name/],
  ];
  for (const [what, call, message] of cases) {
    it(`refuses ${what}`, async () => {
      await assert.rejects(call(), (err: Error) => err instanceof TypeError && message.test(err.message));
    });
  }
});
