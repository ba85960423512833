/**
 * The example's demo setup, used when no RADIUS server is configured: two in-process RADIUS test servers
 * (for demos only, not production servers) and an organization tree.
 *
 * - "system": the system-wide server. alice (Class "admins") and bob@globex.example.
 * - "acme-2fa": Acme's own two-factor server (./demo-2fa.ts). carol@acme.example and
 *   dave@research.acme.example: password, then a code; a wrong code is asked again twice.
 * - System-wide uses "system"; Acme (acme.example) sets its own: "acme-2fa"; its child Acme Research
 *   (research.acme.example) inherits Acme's; Globex (globex.example) inherits the system-wide settings.
 */
import { randomBytes } from 'node:crypto';
import type { RadiusServerOptions } from '../lib';
import { RadiusTestServer } from '../lib/testing';
import { DemoTwoFactorHandler } from './demo-2fa';
import { fromServerOptions, initialSettings, SYSTEM_ID, type OrganizationSetting, type ServerSetting, type Settings } from './settings';

/** The demo users (printed at start; the example's tests sign each of them in). */
export const DEMO_USERS = {
  /** System-wide server; Class "admins" → role admin. */
  alice: { username: 'alice', password: 'alice-password', server: 'system' },
  /** Globex inherits the system-wide server. */
  bob: { username: 'bob@globex.example', password: 'bob-password', server: 'system' },
  /** Acme's own server asks for a code after the password. */
  carol: { username: 'carol@acme.example', password: 'carol-password', code: '123456', server: 'acme-2fa' },
  /** Acme Research inherits Acme's settings, so the same two-factor server. */
  dave: { username: 'dave@research.acme.example', password: 'dave-password', code: '654321', server: 'acme-2fa' },
} as const;

/** The demo organizations below the system-wide one. */
export const DEMO_ORGANIZATIONS: OrganizationSetting[] = [
  { id: 'acme', name: 'Acme', parent: SYSTEM_ID, domain: 'acme.example', inherit: false, method: 'radius', providers: ['acme-2fa'] },
  { id: 'acme-research', name: 'Acme Research', parent: 'acme', domain: 'research.acme.example', inherit: true, method: 'radius', providers: [] },
  { id: 'globex', name: 'Globex', parent: SYSTEM_ID, domain: 'globex.example', inherit: true, method: 'radius', providers: [] },
];

/** The running demo servers and the options that point the example at them. */
export interface Demo {
  servers: RadiusServerOptions[];
  /** Settings for a first start: the demo servers and organizations. */
  settings: Settings;
  system: RadiusTestServer;
  acme: RadiusTestServer;
  close(): Promise<void>;
}

/**
 * Points the demo entries of saved settings at the freshly started demo servers (new ports and secrets at
 * each start); servers the admin added are left alone.
 */
export function refreshDemoServers(settings: Settings, demo: Demo): Settings {
  const fresh = new Map(demo.servers.map((s) => [s.name, s]));
  const servers: ServerSetting[] = settings.servers.map((s) => {
    const now = s.demo ? fresh.get(s.name) : undefined;
    return now ? { ...s, address: now.address, secret: String(now.secret) } : s;
  });
  return { ...settings, servers };
}

/** Starts the two demo RADIUS test servers on 127.0.0.1 (random ports, random shared secrets). */
export async function startDemo(): Promise<Demo> {
  const systemSecret = randomBytes(16).toString('hex');
  const acmeSecret = randomBytes(16).toString('hex');
  const { alice, bob, carol, dave } = DEMO_USERS;
  const system = new RadiusTestServer({
    secret: systemSecret,
    users: {
      [alice.username]: { password: alice.password, replyMessage: 'Welcome alice', attributes: [[25, Buffer.from('admins')]] },
      [bob.username]: { password: bob.password, replyMessage: 'Welcome bob', attributes: [[25, Buffer.from('staff')]] },
    },
  });
  const acme = new RadiusTestServer({
    secret: acmeSecret,
    handler: new DemoTwoFactorHandler({
      [carol.username]: { password: carol.password, code: carol.code },
      [dave.username]: { password: dave.password, code: dave.code },
    }),
  });
  try {
    await system.listen();
    await acme.listen();
  } catch (err) {
    await Promise.allSettled([system.close(), acme.close()]);
    throw err;
  }
  const nas = { 'NAS-Identifier': 'passport-radius-example' };
  const servers: RadiusServerOptions[] = [
    { name: 'system', address: system.address, secret: systemSecret, attributes: nas },
    { name: 'acme-2fa', address: acme.address, secret: acmeSecret, attributes: nas },
  ];
  return {
    servers,
    settings: initialSettings(
      servers.map((s) => fromServerOptions(s, true)),
      DEMO_ORGANIZATIONS,
      ['system'],
    ),
    system,
    acme,
    close: async () => {
      await Promise.all([system.close(), acme.close()]);
    },
  };
}
