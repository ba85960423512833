/**
 * Loaded by `npm run test:unit` (mocha --require): any socket, server or child process opened by a
 * `*.unit.test.ts` file throws "unit tests open no sockets: …", so a test that needs the network cannot
 * hide among the unit tests. Such a test belongs in a file of another kind (test/README.md).
 */
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';

function refuse(what: string): () => never {
  return () => {
    throw new Error(`unit tests open no sockets: ${what} called (move the test to a *.udp/*.freeradius/… file, see test/README.md)`);
  };
}

const patches: Array<[object, string]> = [
  [dgram, 'createSocket'],
  [net, 'connect'],
  [net, 'createConnection'],
  [net.Server.prototype, 'listen'],
  [net.Socket.prototype, 'connect'],
  [tls, 'connect'],
  ...(['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const).map((name): [object, string] => [childProcess, name]),
];
for (const [target, name] of patches) {
  Object.defineProperty(target, name, { value: refuse(name), configurable: true, writable: true });
}
