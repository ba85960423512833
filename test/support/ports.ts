/**
 * Ports and sockets on the loopback for tests: a free (so also closed: nothing listens) UDP port on
 * 127.0.0.1 and ::1, a free TCP port, and how many UDP sockets this process holds open.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

function bindUdp(type: 'udp4' | 'udp6', address: string, port: number): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolvePromise, reject) => {
    const socket = createSocket({ type, ipv6Only: type === 'udp6' });
    const close = (): Promise<void> =>
      new Promise((done) => {
        try {
          socket.close(() => done());
        } catch {
          done();
        }
      });
    socket.once('error', (err) => {
      void close().then(() => reject(err));
    });
    socket.bind(port, address, () => {
      resolvePromise({ port: socket.address().port, close });
    });
  });
}

/**
 * A UDP port that is currently free on 127.0.0.1 and (when IPv6 loopback exists) on ::1: bound, then
 * released, so it is also a closed port (a datagram sent there gets ICMP port unreachable).
 */
export async function freeUdpPort(): Promise<number> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    let v4: { port: number; close: () => Promise<void> } | undefined;
    try {
      v4 = await bindUdp('udp4', '127.0.0.1', 0);
      const port = v4.port;
      try {
        const v6 = await bindUdp('udp6', '::1', port);
        await v6.close();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // No IPv6 loopback at all: the v4 port is still good.
        if (code !== 'EADDRNOTAVAIL' && code !== 'EAFNOSUPPORT') throw err;
      }
      return port;
    } catch (err) {
      lastError = err;
    } finally {
      if (v4) await v4.close();
    }
  }
  throw new Error(`could not find a free UDP port: ${String(lastError)}`);
}

/** A TCP port that is currently free on 127.0.0.1. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

/** UDP sockets open in this process (referenced or not), from the libuv handle list. */
export function openUdpSockets(): number {
  const report = process.report.getReport() as { libuv: Array<{ type: string; is_active: boolean }> };
  return report.libuv.filter((h) => h.type === 'udp' && h.is_active).length;
}
