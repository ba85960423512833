/**
 * The example's demo setup, used when no RADIUS server is configured: two in-process RADIUS test servers
 * (for demos only, not production servers) and two organizations.
 *
 * - "system": the system-wide default server. alice (Class "admins") and bob@globex.example.
 * - "acme-2fa": Acme's own two-factor server. carol@acme.example: password, then a code.
 * - Acme (acme.example) uses its own server; Globex (globex.example) inherits the system-wide default,
 *   like every user whose domain belongs to no organization.
 */
import { randomBytes } from 'node:crypto';
import type { RadiusServerOptions } from '../lib';
import { RadiusTestServer } from '../lib/testing';
import type { Organization } from './app';

/** The demo users (printed at start; the example's tests sign each of them in). */
export const DEMO_USERS = {
  /** System-wide server; Class "admins" → role admin. */
  alice: { username: 'alice', password: 'alice-password', server: 'system' },
  /** Globex inherits the system-wide server. */
  bob: { username: 'bob@globex.example', password: 'bob-password', server: 'system' },
  /** Acme's own server asks for a code after the password. */
  carol: { username: 'carol@acme.example', password: 'carol-password', code: '123456', server: 'acme-2fa' },
} as const;

/** The demo organizations: Acme with its own server, Globex inheriting the system-wide default. */
export const DEMO_ORGANIZATIONS: Organization[] = [
  { name: 'Acme', domain: 'acme.example', servers: ['acme-2fa'] },
  { name: 'Globex', domain: 'globex.example' },
];

/** The running demo servers and the options that point the example at them. */
export interface Demo {
  servers: RadiusServerOptions[];
  organizations: Organization[];
  /** The names of the system-wide default servers. */
  defaultServers: string[];
  system: RadiusTestServer;
  acme: RadiusTestServer;
  close(): Promise<void>;
}

/** Starts the two demo RADIUS test servers on 127.0.0.1 (random ports, random shared secrets). */
export async function startDemo(): Promise<Demo> {
  const systemSecret = randomBytes(16).toString('hex');
  const acmeSecret = randomBytes(16).toString('hex');
  const system = new RadiusTestServer({
    secret: systemSecret,
    users: {
      [DEMO_USERS.alice.username]: { password: DEMO_USERS.alice.password, replyMessage: 'Welcome alice', attributes: [[25, Buffer.from('admins')]] },
      [DEMO_USERS.bob.username]: { password: DEMO_USERS.bob.password, replyMessage: 'Welcome bob', attributes: [[25, Buffer.from('staff')]] },
    },
  });
  const acme = new RadiusTestServer({
    secret: acmeSecret,
    users: {
      [DEMO_USERS.carol.username]: {
        password: DEMO_USERS.carol.password,
        challenge: [{ code: DEMO_USERS.carol.code, prompt: 'Enter the code sent to your phone', echo: false }],
        replyMessage: 'Welcome carol',
      },
    },
  });
  try {
    await system.listen();
    await acme.listen();
  } catch (err) {
    await Promise.allSettled([system.close(), acme.close()]);
    throw err;
  }
  const nas = { 'NAS-Identifier': 'passport-radius-example' };
  return {
    servers: [
      { name: 'system', address: system.address, secret: systemSecret, attributes: nas },
      { name: 'acme-2fa', address: acme.address, secret: acmeSecret, attributes: nas },
    ],
    organizations: DEMO_ORGANIZATIONS,
    defaultServers: ['system'],
    system,
    acme,
    close: async () => {
      await Promise.all([system.close(), acme.close()]);
    },
  };
}
