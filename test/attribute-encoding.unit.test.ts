/**
 * Encoding attribute/value pairs by dictionary name (lib/protocol/dictionary.ts): text and number values
 * are encoded once and then reused (the per-request attributes of every sign-in); these tests check that
 * reuse never changes an outcome.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { encodeAttributeList, loadDictionaries } from '../lib/protocol/dictionary';

const hex = (pairs: Array<readonly [string, string | number | Buffer | null]>): string[] =>
  encodeAttributeList(pairs, 'test').attributes.map((a) => a.bytes.toString('hex'));

describe('attribute encoding: reuse of encoded pairs', () => {
  it('gives the same bytes the first and the second time, and keeps a number and its text apart', () => {
    assert.deepEqual(hex([['NAS-Port-Type', 'Virtual']]), ['3d0600000005']);
    assert.deepEqual(hex([['NAS-Port-Type', 'Virtual']]), ['3d0600000005']);
    assert.deepEqual(hex([['NAS-Port', 7]]), ['050600000007']);
    // 'Virtual' was encoded for NAS-Port-Type: NAS-Port still refuses it.
    assert.throws(() => hex([['NAS-Port', 'Virtual']]), /"NAS-Port" has a value of the wrong type/);
    assert.throws(() => hex([['NAS-Port', 'Virtual']]), /"NAS-Port" has a value of the wrong type/);
  });

  it('never remembers a refusal: an over-long value is refused every time', () => {
    const long = 'x'.repeat(254);
    for (let i = 0; i < 3; i++) assert.throws(() => hex([['Calling-Station-Id', long]]), /too long \(254 bytes/);
  });

  it('encodes each of more values than it remembers (2,500 Calling-Station-Ids) to its own bytes, twice', () => {
    const ip = (i: number): string => `10.${(i >> 8) & 255}.${i & 255}.1`;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2500; i++) {
        const value = Buffer.from(ip(i));
        assert.equal(hex([['Calling-Station-Id', ip(i)]])[0], Buffer.concat([Buffer.of(31, value.length + 2), value]).toString('hex'));
      }
    }
  });

  it('hands out bytes that a caller cannot use to change what the next request sends', () => {
    const [first] = encodeAttributeList([['NAS-Identifier', 'console']], 'test').attributes;
    assert.ok(first);
    assert.throws(() => {
      (first as { type: number }).type = 99;
    }, TypeError);
    assert.deepEqual(hex([['NAS-Identifier', 'console']]), ['2009636f6e736f6c65']);
  });

  it('a null value names the attribute and sends nothing', () => {
    const { attributes, named } = encodeAttributeList([['Calling-Station-Id', null], ['NAS-Port-Type', 'Virtual']], 'test');
    assert.deepEqual([...named], [31, 61]);
    assert.deepEqual(attributes.map((a) => a.type), [61]);
  });

  it('forgets what it encoded when dictionaries are loaded (a name may then mean another attribute)', () => {
    // Loaded dictionaries stay for the whole process (the `radius` package keeps one set and reloads every
    // file each time), so these files live in test/fixtures and define only a test-only name.
    assert.throws(() => hex([['Passport-Radius-Memo-Test', 'a']]), /unknown attribute/);
    loadDictionaries([join(__dirname, 'fixtures', 'dictionary.memo-1')]);
    assert.deepEqual(hex([['Passport-Radius-Memo-Test', 'a']]), ['e60361']);
    loadDictionaries([join(__dirname, 'fixtures', 'dictionary.memo-2')]); // the last definition wins, as in FreeRADIUS
    assert.deepEqual(hex([['Passport-Radius-Memo-Test', 'a']]), ['e70361']);
  });
});
