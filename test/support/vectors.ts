/** The known-answer vectors of ../shared/radius-vectors.json (checked against the RFC 2865 §7.1 example). */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

interface Vectors {
  conventions: { secret: string; requestAuthenticator: string; requestAuthenticator2: string; user: string; nasIdentifier: string };
  userPassword: Array<{ id: string; secret?: string; requestAuthenticator?: string; password: string; hidden: string }>;
  chapPassword: Array<{ id: string; chapId: number; password: string; chapChallenge: string; chapPassword: string }>;
  packets: Record<string, { hex: string }>;
}

const candidates = [
  process.env.RADIUS_VECTORS,
  resolve(dirname(__filename), '../../../shared/radius-vectors.json'),
  resolve(dirname(__filename), '../fixtures/radius-vectors.json'),
].filter((p): p is string => typeof p === 'string');

function load(): Vectors {
  for (const file of candidates) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Vectors;
    } catch {
      // try the next location
    }
  }
  throw new Error(`radius-vectors.json not found in ${candidates.join(', ')}`);
}

export const vectors = load();

/** A packet vector's bytes. */
export function packet(name: string): Buffer {
  const v = vectors.packets[name];
  if (!v) throw new Error(`no packet vector ${name}`);
  return Buffer.from(v.hex, 'hex');
}
