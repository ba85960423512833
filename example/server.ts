/**
 * Runs the example app. Configuration, by environment:
 *   RADIUS_SERVERS='[{"name":"corp","address":"10.0.0.5:1812","secret":"…","attributes":{"NAS-Identifier":"console"}}]'
 * or RADIUS_ADDRESS, RADIUS_SECRET, RADIUS_NAS_IDENTIFIER (and optionally RADIUS_PROTOCOL=chap).
 * RADIUS_ORGANIZATIONS='[{"name":"Acme","domain":"acme.example","servers":["acme-2fa"]},{"name":"Globex","domain":"globex.example"}]'
 * gives organizations their own servers (or, without `servers`, the system-wide default: every server no
 * organization names).
 * With none of these it starts two in-process test servers (for demos only) with demo users and two
 * organizations (see ./demo.ts).
 * PORT (default 3000) and HOST (default 127.0.0.1) choose where the app listens.
 * REDIS_URL (redis://[user:password@]host:port) keeps sessions in Redis so that several instances can
 * share them; then SESSION_SECRET must be set too, the same on every instance. Unset: the memory store.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { RadiusServerOptions } from '../lib';
import { parseJson } from '../lib/json';
import { createApp, type Organization } from './app';
import { redisChallengeClaims } from './challenge-claims';
import { DEMO_USERS, startDemo, type Demo } from './demo';
import { createSessionStore } from './session-store';

function jsonArray(name: string): unknown[] | undefined {
  const text = process.env[name];
  if (!text) return undefined;
  // Only the position: RADIUS_SERVERS holds shared secrets, and Node's message would quote the value.
  const parsed = parseJson(text, (position) => {
    throw new TypeError(`${name} is not valid JSON (${position})`);
  });
  if (!Array.isArray(parsed)) throw new TypeError(`${name} must be a JSON array`);
  return parsed;
}

async function configuredServers(): Promise<{ servers: RadiusServerOptions[]; organizations: Organization[]; defaultServers?: string[]; demo?: Demo }> {
  const env = process.env;
  const organizations = (jsonArray('RADIUS_ORGANIZATIONS') ?? []) as Organization[];
  const servers = jsonArray('RADIUS_SERVERS') as RadiusServerOptions[] | undefined;
  if (servers) return { servers, organizations };
  if (env.RADIUS_ADDRESS) {
    return {
      servers: [
        {
          name: env.RADIUS_NAME ?? 'radius',
          address: env.RADIUS_ADDRESS,
          secret: env.RADIUS_SECRET ?? '',
          protocol: env.RADIUS_PROTOCOL === 'chap' ? 'chap' : 'pap',
          attributes: { 'NAS-Identifier': env.RADIUS_NAS_IDENTIFIER ?? 'passport-radius-example' },
        },
      ],
      organizations,
    };
  }
  const demo = await startDemo();
  return { servers: demo.servers, organizations: demo.organizations, defaultServers: demo.defaultServers, demo };
}

async function main(): Promise<void> {
  if (process.env.REDIS_URL && !process.env.SESSION_SECRET) {
    throw new TypeError('REDIS_URL is set, so SESSION_SECRET must be set too (the same on every instance)');
  }
  const { servers, organizations, defaultServers, demo } = await configuredServers();
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  const store = createSessionStore(process.env.REDIS_URL, { log });
  const { app, strategy } = createApp({
    servers,
    organizations,
    ...(defaultServers ? { defaultServers } : {}),
    // With shared sessions, one code must also be spent once across instances: claims in the same Redis.
    ...(store ? { store, challengeClaims: redisChallengeClaims(store.redis) } : {}),
    sessionSecret: process.env.SESSION_SECRET ?? randomBytes(32).toString('hex'),
    log,
  });
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  const http = app.listen(port, host, (err?: Error) => {
    if (err) return; // reported by the 'error' handler below
    const { port: actual } = http.address() as AddressInfo;
    console.log(`passport-radius example listening on http://${host}:${actual}/login`);
    console.log(store ? 'Sessions: Redis (REDIS_URL), shared by every instance' : 'Sessions: in memory (this process only; set REDIS_URL to share them)');
    if (demo) {
      const { alice, bob, carol } = DEMO_USERS;
      console.log(`Embedded RADIUS test servers (demo only, not for production): system on ${demo.system.address}, acme-2fa on ${demo.acme.address}.`);
      console.log('Organizations: Acme (acme.example) uses its own server acme-2fa; Globex (globex.example) and everyone else use the system-wide server.');
      console.log('Demo users:');
      console.log(`  ${alice.username} / ${alice.password} (system-wide server, role admin)`);
      console.log(`  ${bob.username} / ${bob.password} (Globex, inherits the system-wide server)`);
      console.log(`  ${carol.username} / ${carol.password}, then the code ${carol.code} (Acme's own two-factor server)`);
    } else {
      console.log(`RADIUS servers: ${servers.map((s) => `${s.name} (${s.address})`).join(', ')}`);
      for (const o of organizations) console.log(`  organization ${o.name} (${o.domain}): ${o.servers ? o.servers.join(', ') || 'RADIUS sign-in off' : 'system-wide default'}`);
    }
  });
  http.on('error', (err: NodeJS.ErrnoException) => {
    console.error(
      err.code === 'EADDRINUSE'
        ? `Port ${port} on ${host} is already in use: stop the other program or choose another with PORT=...`
        : `Cannot listen on ${host}:${port}: ${err.message}`,
    );
    stop();
    process.exitCode = 1;
  });
  const stop = (): void => {
    http.close();
    void strategy.close();
    void demo?.close();
    void store?.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
