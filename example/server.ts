/**
 * Runs the example console. Configuration, by environment:
 *
 * - Settings (servers, organizations) are saved in SETTINGS_FILE (default `.data/console-settings.json`,
 *   mode 0600: it holds shared secrets), or in Redis when REDIS_URL is set (every instance shares them).
 * - Servers from RADIUS_SERVERS or RADIUS_ADDRESS, RADIUS_SECRET / RADIUS_SECRET_FILE,
 *   RADIUS_NAS_IDENTIFIER, … (see `optionsFromEnv`) are merged into the saved settings at each start (see
 *   withEnvironmentServers); with none of these, two embedded demo servers (for demos only) with demo
 *   users and organizations (see ./demo.ts), started again at each start.
 * - PORT (default 3000) and HOST (default 127.0.0.1) choose where the app listens.
 * - REDIS_URL (redis://[user:password@]host:port) also keeps sessions and sign-in throttling counts in
 *   Redis; then SESSION_SECRET must be set too, the same on every instance.
 * - CONSOLE_ADMINS: comma-separated user names that are administrators (besides users whose
 *   Access-Accept carries Class "admins").
 * - MONITOR_INTERVAL (seconds, default 30) between two reachability tests of every server; 0 turns it off.
 * - CONSOLE_ACCOUNTING=1: RADIUS accounting (RFC 2866) of console sessions, Start at sign-in and Stop at
 *   sign-out, to each server's accounting address (default: its host, port 1813).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { optionsFromEnv } from '../lib';
import { createApp } from './app';
import { redisChallengeClaims } from './challenge-claims';
import { DEMO_USERS, refreshDemoServers, startDemo, type Demo } from './demo';
import { createSessionStore } from './session-store';
import { checkSettings, fromServerOptions, initialSettings, SYSTEM_ID, type ServerSetting, type Settings } from './settings';
import { createSettingsStore } from './settings-store';

/**
 * Servers from RADIUS_* variables, merged into the saved settings at each start: they replace saved servers
 * of the same name or are added; demo servers (and organizations' choices of them) are left out; the
 * system-wide organization uses them when it has no other provider.
 */
function withEnvironmentServers(saved: Settings | undefined, envServers: ServerSetting[]): Settings {
  const base = saved ?? initialSettings([], [], []);
  const names = new Set(envServers.map((s) => s.name));
  const demoNames = new Set(base.servers.filter((s) => s.demo).map((s) => s.name));
  const organizations = base.organizations.map((o) => ({ ...o, providers: o.providers.filter((p) => !demoNames.has(p)) }));
  const system = organizations.find((o) => o.id === SYSTEM_ID);
  if (system && system.providers.length === 0) system.providers = envServers.map((s) => s.name);
  return { servers: [...base.servers.filter((s) => !s.demo && !names.has(s.name)), ...envServers], organizations };
}

/** The settings to start with, and the demo servers when the settings use them. */
async function startingSettings(saved: Settings | undefined): Promise<{ settings: Settings; demo?: Demo }> {
  const env = process.env;
  if (env.RADIUS_SERVERS || env.RADIUS_ADDRESS) {
    return { settings: withEnvironmentServers(saved, optionsFromEnv(env).servers.map((s) => fromServerOptions(s))) };
  }
  if (saved && !saved.servers.some((s) => s.demo)) return { settings: saved };
  const demo = await startDemo();
  return { settings: saved ? refreshDemoServers(saved, demo) : demo.settings, demo };
}

/** CONSOLE_ACCOUNTING: `1`/`true`/`on` or `0`/`false`/`off`/unset. @throws TypeError for anything else. */
function accountingFrom(value: string | undefined): boolean {
  const text = (value ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'off', 'no'].includes(text)) return false;
  if (['1', 'true', 'on', 'yes'].includes(text)) return true;
  throw new TypeError(`CONSOLE_ACCOUNTING must be 1 (on) or 0 (off), not ${JSON.stringify(value)}`);
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL || undefined;
  if (redisUrl && !process.env.SESSION_SECRET) {
    throw new TypeError('REDIS_URL is set, so SESSION_SECRET must be set too (the same on every instance)');
  }
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  const settingsStore = await createSettingsStore({ redisUrl, file: process.env.SETTINGS_FILE ?? '.data/console-settings.json' });
  const { settings, demo } = await startingSettings(await settingsStore.load());
  try {
    checkSettings(settings);
  } catch (err) {
    await demo?.close();
    await settingsStore.close();
    const from = process.env.RADIUS_SERVERS || process.env.RADIUS_ADDRESS ? `${settingsStore.where} and the RADIUS_* variables` : settingsStore.where;
    throw new TypeError(`The settings in ${from} cannot be used: ${(err as Error).message} Correct that entry and start again.`, { cause: err });
  }
  await settingsStore.save(settings);
  const store = createSessionStore(redisUrl, { log });
  const throttleRedis = redisUrl ? createClient({ url: redisUrl }) : undefined;
  throttleRedis?.on('error', () => undefined);
  await throttleRedis?.connect();
  const interval = Number(process.env.MONITOR_INTERVAL ?? 30);
  const accounting = accountingFrom(process.env.CONSOLE_ACCOUNTING);
  const built = createApp({
    settings,
    settingsStore,
    // With shared sessions, one code must also be spent once across instances: claims in the same Redis.
    ...(store ? { store, challengeClaims: redisChallengeClaims(store.redis) } : {}),
    sessionSecret: process.env.SESSION_SECRET ?? randomBytes(32).toString('hex'),
    log,
    ...(throttleRedis ? { throttle: { redis: throttleRedis } } : {}),
    monitorIntervalMs: Number.isFinite(interval) && interval > 0 ? interval * 1000 : 0,
    admins: (process.env.CONSOLE_ADMINS ?? '').split(',').map((a) => a.trim()).filter((a) => a !== ''),
    accounting,
  });
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  const http = built.app.listen(port, host, (err?: Error) => {
    if (err) return; // reported by the 'error' handler below
    const { port: actual } = http.address() as AddressInfo;
    console.log(`passport-radius example console listening on http://${host}:${actual}/login`);
    console.log(`Settings: ${settingsStore.where}`);
    console.log(store ? 'Sessions: Redis (REDIS_URL), shared by every instance' : 'Sessions: in memory (this process only; set REDIS_URL to share them)');
    console.log(`RADIUS servers: ${settings.servers.map((s) => `${s.name} (${s.address})`).join(', ')}`);
    if (accounting) console.log(`Accounting (CONSOLE_ACCOUNTING): Start at sign-in, Stop at sign-out, to ${settings.servers.map((s) => `${s.name} (${s.accountingAddress ?? 'port 1813'})`).join(', ')}`);
    if (demo) {
      const { alice, bob, carol, dave } = DEMO_USERS;
      console.log('Embedded RADIUS test servers (demo only, not for production): system and acme-2fa.');
      console.log('Demo users:');
      console.log(`  ${alice.username} / ${alice.password} (system-wide server, administrator: manages servers and organizations)`);
      console.log(`  ${bob.username} / ${bob.password} (Globex, inherits the system-wide settings)`);
      console.log(`  ${carol.username} / ${carol.password}, then the code ${carol.code} (Acme's own two-factor server)`);
      console.log(`  ${dave.username} / ${dave.password}, then the code ${dave.code} (Acme Research, inherits Acme's)`);
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
    void built.close();
    void demo?.close();
    void store?.close();
    void settingsStore.close();
    void throttleRedis?.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
