/**
 * Configuration warnings (issue 12 item 5): a shared secret of 12 octets or less is reported as a
 * `'warning'` event, a debug line and `client.warnings` (draft-ietf-radext-deprecating-radius), never
 * holding the secret.
 */
import { strict as assert } from 'node:assert';
import createDebug from 'debug';
import { RadiusClient, type RadiusServerOptions, type RadiusWarning } from '../lib';

const server = (name: string, secret: string | Buffer): RadiusServerOptions => ({
  name,
  address: '127.0.0.1:1812',
  secret,
  attributes: { 'NAS-Identifier': 'console' },
});

describe('Shared secret warnings', () => {
  const clients: RadiusClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  it('warns about a secret of 12 octets or less, on the next tick so a listener added after new sees it', async () => {
    const client = new RadiusClient({ servers: [server('short', 'abcdefghijkl'), server('ok', 'abcdefghijklm'), server('bytes', Buffer.alloc(8, 1))] });
    clients.push(client);
    const seen: RadiusWarning[] = [];
    client.on('warning', (w) => seen.push(w));
    assert.equal(seen.length, 0, 'not emitted inside the constructor');
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(
      seen.map((w) => [w.server, w.code]),
      [
        ['short', 'short-secret'],
        ['bytes', 'short-secret'],
      ],
    );
    assert.deepEqual(client.warnings, seen);
    assert.match(seen[0]!.message, /12 octets/);
    assert.ok(!seen[0]!.message.includes('abcdefghijkl'), 'the secret is never in the warning');
  });

  it('writes a debug line at construction, without the secret', () => {
    const lines: string[] = [];
    const original = createDebug.log;
    const previous = createDebug.disable();
    createDebug.enable('passport-radius:*');
    createDebug.log = (...args: unknown[]) => lines.push(args.map(String).join(' '));
    try {
      clients.push(new RadiusClient({ servers: [server('short', 'tiny-secret')] }));
    } finally {
      createDebug.log = original;
      createDebug.enable(previous);
    }
    assert.ok(lines.some((l) => /warning: .*shared secret of "short" is 11 octets/.test(l)), lines.join('\n'));
    assert.ok(!lines.join('\n').includes('tiny-secret'));
  });

  it('says nothing about a RadSec server: its default secret `radsec` travels inside TLS (RFC 6614 §2.3)', async () => {
    const radsec: RadiusServerOptions = {
      name: 'radsec',
      address: '127.0.0.1:2083',
      transport: 'tls',
      tls: { psk: { identity: 'console', key: Buffer.alloc(32, 7) } },
      attributes: { 'NAS-Identifier': 'console' },
    };
    const client = new RadiusClient({ servers: [radsec, server('udp', 'radsec')] });
    clients.push(client);
    const seen: RadiusWarning[] = [];
    client.on('warning', (w) => seen.push(w));
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(seen.map((w) => [w.server, w.code]), [['udp', 'short-secret']], 'the same 6-octet secret over UDP is still reported');
  });

  it('says nothing about a long secret', async () => {
    const client = new RadiusClient({ servers: [server('long', 'x'.repeat(64))] });
    clients.push(client);
    let warned = false;
    client.on('warning', () => (warned = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(warned, false);
    assert.deepEqual(client.warnings, []);
  });
});
