/**
 * The strategy's per-request defaults (lib/request-attributes.ts): Calling-Station-Id only for an IP
 * address (with `trust proxy`, `req.ip` comes from X-Forwarded-For, which the client may fill), and
 * NAS-Port-Type Virtual; the app's own attributes replace a default of the same name.
 */
import { strict as assert } from 'node:assert';
import type { Request } from 'express';
import { requestAttributesFor } from '../lib/request-attributes';

const req = (ip: unknown): Request => ({ ip }) as unknown as Request;

describe('per-request attributes: the strategy defaults', () => {
  for (const ip of ['192.0.2.1', '::1', '2001:db8::1', '::ffff:192.0.2.1', 'fe80::1%eth0']) {
    it(`sends Calling-Station-Id ${ip}`, async () => {
      assert.deepEqual(await requestAttributesFor(req(ip), 'alice', undefined), [
        ['Calling-Station-Id', ip],
        ['NAS-Port-Type', 'Virtual'],
      ]);
    });
  }

  for (const [what, ip] of [
    ['a name from X-Forwarded-For', 'evil.example'],
    ['text longer than any address', `2001:db8::1%${'e'.repeat(80)}`],
    ['an empty string', ''],
    ['no address at all', undefined],
  ] as const) {
    it(`leaves Calling-Station-Id out for ${what}`, async () => {
      assert.deepEqual(await requestAttributesFor(req(ip), 'alice', undefined), [['NAS-Port-Type', 'Virtual']]);
    });
  }

  it("lets the app's own attributes replace a default of the same name, in any letter case", async () => {
    const own = await requestAttributesFor(req('192.0.2.1'), 'alice', () => ({ 'calling-station-id': 'kiosk-7', 'Called-Station-Id': 'console' }));
    assert.deepEqual(own, [
      ['NAS-Port-Type', 'Virtual'],
      ['calling-station-id', 'kiosk-7'],
      ['Called-Station-Id', 'console'],
    ]);
  });
});
