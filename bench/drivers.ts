/**
 * The Node clients under test, behind one shape: `send()` resolves after a verified Access-Accept and
 * rejects on anything else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import NodeRadiusClient from 'node-radius-client';
import { RadiusClient } from '../lib/client';
import { LimitClient } from './limit-client';

/** One client under test. */
export interface Driver {
  /** One Access-Request; resolves on a verified Access-Accept, rejects otherwise. */
  send(): Promise<void>;
  close(): Promise<void>;
  /** Counters worth reporting (retransmissions, drops). */
  notes?(): string;
}

/** Names of the Node clients: passport-radius's RadiusClient, the limit client, node-radius-client. */
export type NodeClientKind = 'ours' | 'ours-tls' | 'limit' | 'nrc';

/** Target and credentials of a driver. */
export interface DriverTarget {
  host: string;
  port: number;
  secret: string;
  username: string;
  password: string;
  /** For `ours-tls`: a directory with ca.pem, client.pem and client.key (RADIUS over TLS). */
  tlsDir?: string;
}

/** Builds the driver for `kind`. Throws for an unknown kind. */
export function createDriver(kind: string, t: DriverTarget): Driver {
  if (kind === 'ours' || kind === 'ours-tls') {
    const tls = kind === 'ours-tls';
    if (tls && !t.tlsDir) throw new Error('ours-tls needs --tls-dir');
    const file = (name: string): Buffer => readFileSync(join(t.tlsDir!, name));
    const client = new RadiusClient({
      servers: [
        {
          name: 'bench',
          address: `${t.host}:${t.port}`,
          secret: t.secret,
          attributes: { 'NAS-Identifier': 'bench' },
          ...(tls ? { transport: 'tls' as const, tls: { ca: file('ca.pem'), cert: file('client.pem'), key: file('client.key') } } : {}),
        },
      ],
      holdDown: 0,
    });
    const request = { username: t.username, password: t.password };
    return {
      async send() {
        const result = await client.authenticate(request);
        if (result.type !== 'accept') throw new Error(`Access-${result.type}`);
      },
      close: () => client.close(),
      notes() {
        const c = client.serverStatus()[0]!.counters;
        const dropped = Object.entries(c.dropped).map(([k, v]) => `${k} ${v}`);
        return `retransmissions ${c.retransmissions}${dropped.length ? `, dropped ${dropped.join(', ')}` : ''}`;
      },
    };
  }
  if (kind === 'limit') {
    const client = new LimitClient(t.host, t.port, Buffer.from(t.secret, 'utf8'));
    return {
      async send() {
        const code = await client.request(t.username, t.password);
        if (code !== 2) throw new Error(`code ${code}`);
      },
      close: async () => client.close(),
    };
  }
  if (kind === 'nrc') {
    const client = new NodeRadiusClient({ host: t.host, hostPort: t.port });
    return {
      async send() {
        // A fresh object each time: accessRequest() writes into it.
        await client.accessRequest({
          secret: t.secret,
          add_message_authenticator: true,
          attributes: [
            ['User-Name', t.username],
            ['User-Password', t.password],
            ['NAS-Identifier', 'bench'],
          ],
        });
      },
      close: async () => {},
    };
  }
  throw new Error(`unknown client ${kind}`);
}
