/**
 * How `passport-radius login` prints reply attribute values: octets that are printable UTF-8 as a quoted
 * string (a Class "admins"), anything else (binary, control characters, invalid UTF-8) as 0x hex; with
 * `--json` the same rule, but text starting with "0x" stays hex (so a "0x…" string is always octets).
 */
import { strict as assert } from 'node:assert';
import { valueJson, valueText } from '../lib/cli/program';

describe('passport-radius login: attribute values', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['ASCII octets', Buffer.from('admins'), '"admins"'],
    ['UTF-8 octets', Buffer.from('équipe ✓'), '"équipe ✓"'],
    ['octets with a quote', Buffer.from('a"b'), '"a\\"b"'],
    ['binary octets', Buffer.from([0x00, 0x01, 0xfe]), '0x0001fe'],
    ['a control character (ESC)', Buffer.from('\u001b[2Jadmins'), '0x1b5b324a61646d696e73'],
    ['invalid UTF-8', Buffer.from([0x61, 0xc3]), '0x61c3'],
    ['no octets', Buffer.alloc(0), '0x'],
  ];
  for (const [what, value, shown] of cases) {
    it(`shows ${what} as ${shown}`, () => {
      assert.equal(valueText(value), shown);
    });
  }
});

describe('passport-radius login --json: attribute values', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['ASCII octets', Buffer.from('admins'), 'admins'],
    ['UTF-8 octets', Buffer.from('équipe ✓'), 'équipe ✓'],
    ['octets with a quote', Buffer.from('a"b'), 'a"b'],
    ['binary octets', Buffer.from([0x00, 0x01, 0xfe]), '0x0001fe'],
    ['a control character (ESC)', Buffer.from('\u001b[2Jadmins'), '0x1b5b324a61646d696e73'],
    ['invalid UTF-8', Buffer.from([0x61, 0xc3]), '0x61c3'],
    ['no octets', Buffer.alloc(0), '0x'],
    ['text that starts with 0x', Buffer.from('0xab'), '0x30786162'],
    ['text that starts with 0X', Buffer.from('0X'), '0x3058'],
  ];
  for (const [what, value, shown] of cases) {
    it(`shows ${what} as the JSON string ${JSON.stringify(shown)}`, () => {
      assert.equal(valueJson(value), shown);
    });
  }
  it('keeps numbers, and dates as ISO 8601', () => {
    assert.equal(valueJson(3600), 3600);
    assert.equal(valueJson(new Date(Date.UTC(2026, 11, 3))), '2026-12-03T00:00:00.000Z');
  });
});
