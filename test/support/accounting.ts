/**
 * Accounting test helpers (test/accounting.*.test.ts): the shared secret, a server entry whose accounting
 * goes to one port, and the attributes of an Accounting-Request by type.
 */

/** The shared secret of the accounting tests' servers and vectors. */
export const SECRET = 'testing123';

/** Attributes of an Accounting-Request: type → values, in order. */
export function attributesOf(packet: Buffer): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  for (let offset = 20; offset < packet.length; offset += packet[offset + 1]!) {
    const type = packet[offset]!;
    out.set(type, [...(out.get(type) ?? []), packet.subarray(offset + 2, offset + packet[offset + 1]!)]);
  }
  return out;
}

/** A server entry on 127.0.0.1 whose Access-Requests and Accounting-Requests both go to `port`. */
export function accountingServer(name: string, port: number, extra: Record<string, unknown> = {}): { name: string; address: string; secret: string; attributes: Record<string, string>; accountingAddress: string } {
  return { name, address: `127.0.0.1:${port}`, secret: SECRET, attributes: { 'NAS-Identifier': 'acct-test' }, accountingAddress: `127.0.0.1:${port}`, ...extra };
}

