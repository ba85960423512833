/**
 * Runs the example app. Configuration, by environment:
 *   RADIUS_SERVERS='[{"name":"corp","address":"10.0.0.5:1812","secret":"…","attributes":{"NAS-Identifier":"console"}}]'
 * or RADIUS_ADDRESS, RADIUS_SECRET, RADIUS_NAS_IDENTIFIER (and optionally RADIUS_PROTOCOL=chap).
 * With none of these it starts the project's in-process test server (for demos only) with demo users.
 * PORT (default 3000) and HOST (default 127.0.0.1) choose where the app listens.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { RadiusServerOptions } from '../lib';
import { RadiusTestServer } from '../lib/testing';
import { createApp } from './app';

/** The demo users of the embedded test server (printed at start). */
export const DEMO_USERS = {
  alice: { password: 'alice-password' },
  carol: { password: 'carol-password', code: '123456' },
};

async function configuredServers(): Promise<{ servers: RadiusServerOptions[]; demo?: RadiusTestServer }> {
  const env = process.env;
  if (env.RADIUS_SERVERS) {
    const parsed: unknown = JSON.parse(env.RADIUS_SERVERS);
    if (!Array.isArray(parsed)) throw new TypeError('RADIUS_SERVERS must be a JSON array of server objects');
    return { servers: parsed as RadiusServerOptions[] };
  }
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
    };
  }
  const secret = randomBytes(16).toString('hex');
  const demo = new RadiusTestServer({
    secret,
    users: {
      alice: { password: DEMO_USERS.alice.password, replyMessage: 'Welcome alice', attributes: [[25, Buffer.from('admins')]] },
      carol: {
        password: DEMO_USERS.carol.password,
        challenge: [{ code: DEMO_USERS.carol.code, prompt: 'Enter the code sent to your phone', echo: false }],
        replyMessage: 'Welcome carol',
      },
    },
  });
  const { address } = await demo.listen();
  return {
    servers: [{ name: 'demo', address, secret, attributes: { 'NAS-Identifier': 'passport-radius-example' } }],
    demo,
  };
}

async function main(): Promise<void> {
  const { servers, demo } = await configuredServers();
  const { app, strategy } = createApp({
    servers,
    sessionSecret: process.env.SESSION_SECRET ?? randomBytes(32).toString('hex'),
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  const http = app.listen(port, host, () => {
    const { port: actual } = http.address() as AddressInfo;
    console.log(`passport-radius example listening on http://${host}:${actual}/login`);
    if (demo) {
      console.log(`Embedded RADIUS test server (demo only, not for production) on ${demo.address}. Demo users:`);
      console.log(`  alice / ${DEMO_USERS.alice.password}`);
      console.log(`  carol / ${DEMO_USERS.carol.password}, then the code ${DEMO_USERS.carol.code} (two-factor)`);
    } else {
      console.log(`RADIUS servers: ${servers.map((s) => `${s.name} (${s.address})`).join(', ')}`);
    }
  });
  const stop = (): void => {
    http.close();
    void strategy.close();
    void demo?.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
