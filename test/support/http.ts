/**
 * HTTP servers for tests that need a real one (a browser, fetch across instances): listen on a free
 * port of 127.0.0.1, and close with every connection, keep-alive ones included.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Serves `handler` (an Express app is one) on a free port of 127.0.0.1. */
export async function listenHttp(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Closes `server` (if any) and its open connections; resolves once it is closed. */
export async function closeHttp(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
}
