/**
 * How `passport-radius login` prints reply attribute values: octets that are printable UTF-8 as a quoted
 * string (a Class "admins"), anything else (binary, control characters, invalid UTF-8) as 0x hex.
 */
import { strict as assert } from 'node:assert';
import { valueText } from '../lib/cli/program';

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
