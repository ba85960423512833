/**
 * Bench responder: the peer every B1/B2/B3 client talks to. One UDP socket on 127.0.0.1 (a free port),
 * answers every Access-Request with a signed Access-Accept: a Message-Authenticator (RFC 3579 §3.2,
 * computed first) and then the Response Authenticator (RFC 2865 §3). Nothing else.
 *
 *   node --import tsx bench/responder.ts [--secret S] [--delay MS] [--verify PASSWORD] [--tls-dir DIR]
 *
 * Prints `{"port":N}` on stdout once bound. With `--tls-dir` (server.pem, server.key and ca.pem in DIR) it
 * also answers RADIUS over TLS (RFC 6614) on a TCP port, the same way, and prints `{"port":N,"tlsPort":M}`.
 * Its shared secret is the same `--secret` on both. With `--delay`, each reply is sent MS milliseconds later
 * (B3 keeps requests in flight that way). With `--verify`, it checks each request's Message-Authenticator
 * and that the hidden User-Password is PASSWORD, and counts the ones that are not (`bad`): every client
 * must send correct packets, or its numbers would not be comparable. It still answers those.
 *
 * Started with an IPC channel (`fork`), it answers `{ cmd: 'stats' }` with
 * `{ received, answered, bad, malformed }` and `{ cmd: 'reset' }` by zeroing them.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    secret: { type: 'string', default: 'bench-secret' },
    delay: { type: 'string', default: '0' },
    verify: { type: 'string' },
    'tls-dir': { type: 'string' },
  },
});
const secret = Buffer.from(values.secret, 'utf8');
const delay = Number(values.delay);
const expectedPassword = values.verify === undefined ? undefined : Buffer.from(values.verify, 'utf8');

const stats = { received: 0, answered: 0, bad: 0, malformed: 0 };
const ZERO16 = Buffer.alloc(16);

/** True when the request's Message-Authenticator and User-Password are right. */
function verifyRequest(msg: Buffer, length: number, password: Buffer): boolean {
  let maOffset = -1;
  let pw: Buffer | undefined;
  for (let o = 20; o + 2 <= length; ) {
    const type = msg[o]!;
    const len = msg[o + 1]!;
    if (len < 2 || o + len > length) return false;
    if (type === 80 && len === 18) maOffset = o + 2;
    if (type === 2) pw = msg.subarray(o + 2, o + len);
    o += len;
  }
  if (maOffset === -1 || !pw || pw.length % 16 !== 0) return false;
  const h = createHmac('md5', secret);
  h.update(msg.subarray(0, maOffset));
  h.update(ZERO16);
  h.update(msg.subarray(maOffset + 16, length));
  if (!timingSafeEqual(h.digest(), msg.subarray(maOffset, maOffset + 16))) return false;
  const clear = Buffer.alloc(pw.length);
  let previous = msg.subarray(4, 20);
  for (let o = 0; o < pw.length; o += 16) {
    const b = createHash('md5').update(secret).update(previous).digest();
    for (let i = 0; i < 16; i++) clear[o + i] = pw[o + i]! ^ b[i]!;
    previous = pw.subarray(o, o + 16);
  }
  let end = clear.length;
  while (end > 0 && clear[end - 1] === 0) end--;
  return end === password.length && clear.subarray(0, end).equals(password);
}

/** Access-Accept with one attribute, Message-Authenticator; signed as RFC 3579 §3.2 and RFC 2865 §3 say. */
function accept(request: Buffer): Buffer {
  const reply = Buffer.alloc(38);
  reply[0] = 2;
  reply[1] = request[1]!;
  reply.writeUInt16BE(38, 2);
  request.copy(reply, 4, 4, 20); // Request Authenticator in place while the MA is computed
  reply[20] = 80;
  reply[21] = 18;
  createHmac('md5', secret).update(reply).digest().copy(reply, 22);
  createHash('md5').update(reply).update(secret).digest().copy(reply, 4);
  return reply;
}

const socket = createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  stats.received++;
  if (msg.length < 20 || msg[0] !== 1) {
    stats.malformed++;
    return;
  }
  const length = msg.readUInt16BE(2);
  if (length < 20 || length > msg.length) {
    stats.malformed++;
    return;
  }
  if (expectedPassword && !verifyRequest(msg, length, expectedPassword)) stats.bad++;
  const reply = accept(msg);
  const send = (): void => {
    socket.send(reply, rinfo.port, rinfo.address);
    stats.answered++;
  };
  if (delay > 0) setTimeout(send, delay);
  else send();
});
socket.on('error', (err) => {
  console.error(`responder: ${err.message}`);
  process.exit(1);
});
/** RADIUS over TLS: packets framed by their Length field (RFC 6614 §2.5), each answered like a datagram. */
function listenTls(dir: string): Promise<number> {
  const server = createTlsServer({
    key: readFileSync(join(dir, 'server.key')),
    cert: readFileSync(join(dir, 'server.pem')),
    ca: readFileSync(join(dir, 'ca.pem')),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('secureConnection', (conn) => {
    conn.setNoDelay(true);
    conn.on('error', () => {});
    let buffered: Buffer = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      while (buffered.length >= 20 && buffered.length >= buffered.readUInt16BE(2)) {
        const length = buffered.readUInt16BE(2);
        const msg = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        stats.received++;
        if (msg[0] !== 1 || length < 20) {
          stats.malformed++;
          continue;
        }
        if (expectedPassword && !verifyRequest(msg, length, expectedPassword)) stats.bad++;
        const reply = accept(msg);
        const send = (): void => {
          if (!conn.destroyed) conn.write(reply);
          stats.answered++;
        };
        if (delay > 0) setTimeout(send, delay);
        else send();
      }
    });
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port)));
}

socket.bind(0, '127.0.0.1', () => {
  // Bursts of thousands of requests must not overflow the kernel queue (capped by net.core.rmem_max).
  try {
    socket.setRecvBufferSize(4 * 1024 * 1024);
    socket.setSendBufferSize(4 * 1024 * 1024);
  } catch {
    // keep the defaults
  }
  const port = socket.address().port;
  const tlsDir = values['tls-dir'];
  if (tlsDir === undefined) process.stdout.write(`${JSON.stringify({ port })}\n`);
  else void listenTls(tlsDir).then((tlsPort) => process.stdout.write(`${JSON.stringify({ port, tlsPort })}\n`));
});

process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'stats') process.send?.({ stats: { ...stats } });
  if (m.cmd === 'reset') {
    stats.received = stats.answered = stats.bad = stats.malformed = 0;
    process.send?.({ stats: { ...stats } });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
