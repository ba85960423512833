/**
 * optionsFromEnv(): what each environment variable becomes, and the TypeError naming a missing or malformed
 * one. `new RadiusStrategy()` / `new RadiusStrategy(verify)` signing in from the environment:
 * test/env.udp.test.ts (test server) and test/env.freeradius.test.ts.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionsFromEnv } from '../lib';

const BASE = { RADIUS_ADDRESS: '127.0.0.1:1812', RADIUS_SECRET: 'env-secret', RADIUS_NAS_IDENTIFIER: 'console' };

describe('optionsFromEnv', () => {
  it('builds one server from RADIUS_ADDRESS, RADIUS_SECRET and RADIUS_NAS_IDENTIFIER', () => {
    assert.deepEqual(optionsFromEnv(BASE), {
      servers: [{ name: '127.0.0.1:1812', address: '127.0.0.1:1812', secret: 'env-secret', attributes: [['NAS-Identifier', 'console']] }],
    });
  });

  it('lists several comma-separated addresses in order, with protocol, timeout, NAS-IP-Address and the challenge URL', () => {
    const options = optionsFromEnv({
      ...BASE,
      RADIUS_ADDRESS: '10.0.0.5, [::1]:1645',
      RADIUS_NAS_IP_ADDRESS: '192.0.2.7',
      RADIUS_PROTOCOL: 'chap',
      RADIUS_TIMEOUT: '3s',
      RADIUS_CHALLENGE_URL: '/login/challenge',
    });
    assert.deepEqual(
      options.servers.map((s) => [s.name, s.address, s.protocol, s.timeout]),
      [
        ['10.0.0.5', '10.0.0.5', 'chap', 3000],
        ['[::1]:1645', '[::1]:1645', 'chap', 3000],
      ],
    );
    assert.deepEqual(options.servers[0]!.attributes, [
      ['NAS-Identifier', 'console'],
      ['NAS-IP-Address', '192.0.2.7'],
    ]);
    assert.equal(options.challengeURL, '/login/challenge');
  });

  it('takes RADIUS_SERVERS as the servers option takes them, the other variables filling what a server leaves out', () => {
    const options = optionsFromEnv({
      RADIUS_SERVERS: JSON.stringify([
        { name: 'a', address: '10.0.0.1' },
        { name: 'b', address: '10.0.0.2', secret: 'own', attributes: { 'NAS-Identifier': 'b-nas' }, timeout: 1500 },
      ]),
      RADIUS_SECRET: 'shared',
      RADIUS_NAS_IDENTIFIER: 'console',
      RADIUS_TIMEOUT: '4000',
    });
    assert.deepEqual(options.servers, [
      { name: 'a', address: '10.0.0.1', secret: 'shared', attributes: [['NAS-Identifier', 'console']], timeout: 4000 },
      { name: 'b', address: '10.0.0.2', secret: 'own', attributes: { 'NAS-Identifier': 'b-nas' }, timeout: 1500 },
    ]);
  });

  it('reads the secret from RADIUS_SECRET_FILE without its trailing line break', () => {
    const dir = mkdtempSync(join(tmpdir(), 'passport-radius-env-'));
    try {
      const file = join(dir, 'secret');
      writeFileSync(file, 's3cret with spaces \n');
      const options = optionsFromEnv({ ...BASE, RADIUS_SECRET: undefined, RADIUS_SECRET_FILE: file });
      assert.equal(options.servers[0]!.secret, 's3cret with spaces ');
      writeFileSync(file, '\n');
      assert.throws(() => optionsFromEnv({ ...BASE, RADIUS_SECRET: undefined, RADIUS_SECRET_FILE: file }), /RADIUS_SECRET_FILE is empty/);
      assert.throws(() => optionsFromEnv({ ...BASE, RADIUS_SECRET: undefined, RADIUS_SECRET_FILE: join(dir, 'none') }), /RADIUS_SECRET_FILE cannot be read \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ['no server variable', { RADIUS_SECRET: 'x', RADIUS_NAS_IDENTIFIER: 'y' }, /RADIUS_SERVERS or RADIUS_ADDRESS is not set/],
    ['no secret', { ...BASE, RADIUS_SECRET: '' }, /RADIUS_SECRET \(or RADIUS_SECRET_FILE\) is not set/],
    ['both secrets', { ...BASE, RADIUS_SECRET_FILE: '/x' }, /RADIUS_SECRET or RADIUS_SECRET_FILE, not both/],
    ['no NAS attribute', { ...BASE, RADIUS_NAS_IDENTIFIER: undefined }, /RADIUS_NAS_IDENTIFIER \(or RADIUS_NAS_IP_ADDRESS\) is not set/],
    ['a bad address', { ...BASE, RADIUS_ADDRESS: 'radius server' }, /RADIUS_ADDRESS \("radius server"\)\.address must be host\[:port\]/],
    ['a bad protocol', { ...BASE, RADIUS_PROTOCOL: 'mschap' }, /RADIUS_PROTOCOL must be "pap" or "chap", not "mschap"/],
    ['a timeout without unit that looks like seconds', { ...BASE, RADIUS_TIMEOUT: '5' }, /RADIUS_TIMEOUT is in milliseconds: 5 ms is too short \(did you mean "5s"\?\)/],
    ['a fractional timeout without unit', { ...BASE, RADIUS_TIMEOUT: '0.5' }, /RADIUS_TIMEOUT is in milliseconds: 0\.5 ms is too short \(did you mean "0\.5s"\?\)/],
    // "0s" and "0.0001s" are refused too: no hint that suggests another invalid value.
    ['a zero timeout', { ...BASE, RADIUS_TIMEOUT: '0' }, /^RadiusStrategy: RADIUS_TIMEOUT is in milliseconds: 0 ms is too short \(at least 100, or with a unit: "5s", "50ms"\)$/],
    ['a timeout of a tenth of a millisecond in seconds', { ...BASE, RADIUS_TIMEOUT: '0.0001' }, /^RadiusStrategy: RADIUS_TIMEOUT is in milliseconds: 0\.0001 ms is too short \(at least 100, or with a unit: "5s", "50ms"\)$/],
    ['a timeout that is not a number', { ...BASE, RADIUS_TIMEOUT: 'soon' }, /RADIUS_TIMEOUT must be milliseconds/],
    ['a timeout too long', { ...BASE, RADIUS_TIMEOUT: '601s' }, /RADIUS_TIMEOUT must be a whole number of milliseconds from 1 to 600000/],
    ['a bad NAS-IP-Address', { ...BASE, RADIUS_NAS_IP_ADDRESS: 'not-an-ip' }, /RADIUS_ADDRESS .*NAS-IP-Address/],
    ['a challenge URL that is not a path', { ...BASE, RADIUS_CHALLENGE_URL: 'javascript:alert(1)' }, /RADIUS_CHALLENGE_URL must be a path/],
    ['RADIUS_SERVERS that is not JSON', { RADIUS_SERVERS: '[{name:', RADIUS_SECRET: 'x' }, /RADIUS_SERVERS is not valid JSON/],
    ['RADIUS_SERVERS that is not a list', { RADIUS_SERVERS: '{}', RADIUS_SECRET: 'x' }, /RADIUS_SERVERS must be a JSON array/],
    ['a listed server without a secret', { RADIUS_SERVERS: '[{"name":"a","address":"10.0.0.1","attributes":{"NAS-Identifier":"n"}}]' }, /RADIUS_SERVERS\[0\] has no "secret"/],
    ['a listed server with a bad option', { RADIUS_SERVERS: '[{"name":"a","address":"10.0.0.1","timeout":-1}]', ...BASE, RADIUS_ADDRESS: undefined }, /RADIUS_SERVERS\[0\]\.timeout must be a number/],
    ['a name used twice', { RADIUS_SERVERS: '[{"name":"a","address":"10.0.0.1"},{"name":"a","address":"10.0.0.2"}]', ...BASE, RADIUS_ADDRESS: undefined }, /RADIUS_SERVERS: the server name "a" is used twice/],
    ['both server variables', { ...BASE, RADIUS_SERVERS: '[]' }, /RADIUS_SERVERS or RADIUS_ADDRESS, not both/],
  ];
  for (const [what, env, message] of cases) {
    it(`throws a TypeError naming the variable for ${what}`, () => {
      assert.throws(
        () => optionsFromEnv(env),
        (err: unknown) => err instanceof TypeError && message.test(err.message) && !err.message.includes('env-secret'),
      );
    });
  }
});

describe('optionsFromEnv with RADIUS_SERVERS that is not JSON', () => {
  // Node's JSON.parse message quotes the input around the error: here, the shared secret.
  const cases: Array<[string, string, RegExp]> = [
    ['an unquoted secret', '[{"name":"a","secret":TOPSECRET-hunter2}]', /\(unexpected character at line 1, column 23\)$/],
    ['a bare secret', 'TOPSECRET-hunter2', /\(unexpected character at line 1, column 1\)$/],
    ['a trailing comma on line 2', '[{"name":"a",\n "secret":"TOPSECRET-hunter2",}]', /\(property name expected at line 2, column 31\)$/],
    ['a missing closing brace', '[{"name":"a","secret":"TOPSECRET-hunter2"', /\(closing brace expected at line 1, column 42\)$/],
    ['a control character in the secret', '[{"name":"a","secret":"TOPSECRET-\u0001hunter2"}]', /RADIUS_SERVERS is not valid JSON \(.* at line 1, column \d+\)$/],
  ];
  for (const [what, value, position] of cases) {
    it(`names the variable and the position for ${what}, never quoting the value`, () => {
      assert.throws(
        () => optionsFromEnv({ RADIUS_SERVERS: value, RADIUS_SECRET: 'x' }),
        (err: unknown) => {
          assert.ok(err instanceof TypeError);
          assert.match(err.message, /^RadiusStrategy: RADIUS_SERVERS is not valid JSON \(/);
          assert.match(err.message, position);
          assert.ok(!/TOPSECRET|hunter2|secret"/.test(err.message), err.message);
          assert.equal(err.cause, undefined);
          return true;
        },
      );
    });
  }
});
