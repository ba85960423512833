/**
 * The "limit" client: the least work a correct Node RADIUS client can do for a PAP Access-Request with a
 * Message-Authenticator. One connected UDP socket per 256 requests in flight (an Identifier table each),
 * the same hashing and verification as passport-radius (HMAC-MD5 Message-Authenticator, MD5 User-Password
 * hiding, MD5 Response Authenticator check, timingSafeEqual; Request Authenticators from the CSPRNG, drawn
 * from a pool) and nothing else: no retransmission, no
 * events, no attribute decoding; one coarse sweep times requests out. Each socket asks for a 1 MiB
 * receive buffer so that a burst of 256 replies is not dropped by the kernel.
 */
import { createHash, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

interface Pending {
  authenticator: Buffer;
  startedAt: number;
  resolve(code: number): void;
  reject(error: Error): void;
}

interface Channel {
  socket: Socket;
  pending: Array<Pending | undefined>;
  inFlight: number;
  cursor: number;
  /** Packets waiting for connect() to finish (a connected socket cannot send before). */
  queue: Buffer[] | undefined;
}

const ZERO16 = Buffer.alloc(16);

/**
 * Request Authenticators come from a pool refilled from the CSPRNG 4 KiB at a time (as
 * crypto.randomUUID does): one randomFillSync per 256 requests instead of one per request.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
function randomAuthenticator(): Buffer {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  pool.fill(0, poolOffset, poolOffset + 16);
  poolOffset += 16;
  return out;
}

/** Minimal correct RADIUS PAP client, for the benchmark only. */
export class LimitClient {
  private readonly channels: Channel[] = [];
  private readonly sweep: NodeJS.Timeout;
  private readonly nasIdentifier: Buffer;

  /**
   * @param host - server IPv4 address.
   * @param port - server UDP port.
   * @param secret - shared secret.
   * @param timeoutMs - a request without a valid reply by then rejects (default 5000).
   */
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly secret: Buffer,
    private readonly timeoutMs = 5000,
  ) {
    this.nasIdentifier = attribute(32, Buffer.from('bench'));
    this.sweep = setInterval(() => this.expire(), 500);
    this.sweep.unref();
  }

  /** Sends one Access-Request; resolves with the reply's code once it is verified. */
  request(username: string, password: string): Promise<number> {
    const channel = this.channel();
    let id = channel.cursor;
    while (channel.pending[id] !== undefined) id = (id + 1) & 0xff;
    channel.cursor = (id + 1) & 0xff;

    const authenticator = randomAuthenticator();
    const user = attribute(1, Buffer.from(username, 'utf8'));
    const pw = attribute(2, hide(Buffer.from(password, 'utf8'), this.secret, authenticator));
    const length = 20 + 18 + user.length + pw.length + this.nasIdentifier.length;
    const packet = Buffer.alloc(length);
    packet[0] = 1;
    packet[1] = id;
    packet.writeUInt16BE(length, 2);
    authenticator.copy(packet, 4);
    packet[20] = 80;
    packet[21] = 18;
    let o = 38;
    o += user.copy(packet, o);
    o += pw.copy(packet, o);
    this.nasIdentifier.copy(packet, o);
    createHmac('md5', this.secret).update(packet).digest().copy(packet, 22);

    return new Promise<number>((resolve, reject) => {
      channel.pending[id] = { authenticator, startedAt: performance.now(), resolve, reject };
      channel.inFlight++;
      if (channel.queue) channel.queue.push(packet);
      else channel.socket.send(packet);
    });
  }

  /** Closes the sockets; pending requests reject. */
  close(): void {
    clearInterval(this.sweep);
    for (const c of this.channels.splice(0)) {
      for (const p of c.pending) p?.reject(new Error('closed'));
      c.socket.close();
    }
  }

  private channel(): Channel {
    for (const c of this.channels) if (c.inFlight < 256) return c;
    const socket = createSocket('udp4');
    const channel: Channel = { socket, pending: new Array<Pending | undefined>(256), inFlight: 0, cursor: 0, queue: [] };
    socket.connect(this.port, this.host, () => {
      // 256 replies can arrive in one burst; the default receive buffer (~210 KB) holds about 200.
      try {
        socket.setRecvBufferSize(1024 * 1024);
      } catch {
        // keep the default
      }
      const queued = channel.queue ?? [];
      channel.queue = undefined;
      for (const packet of queued) socket.send(packet);
    });
    socket.on('message', (msg) => this.onMessage(channel, msg));
    socket.on('error', (err) => {
      for (let i = 0; i < 256; i++) this.finish(channel, i)?.reject(err);
    });
    this.channels.push(channel);
    return channel;
  }

  private finish(channel: Channel, id: number): Pending | undefined {
    const p = channel.pending[id];
    if (p) {
      channel.pending[id] = undefined;
      channel.inFlight--;
    }
    return p;
  }

  private onMessage(channel: Channel, msg: Buffer): void {
    if (msg.length < 20) return;
    const length = msg.readUInt16BE(2);
    if (length < 20 || length > msg.length) return;
    const p = channel.pending[msg[1]!];
    if (!p) return;
    const expected = createHash('md5')
      .update(msg.subarray(0, 4))
      .update(p.authenticator)
      .update(msg.subarray(20, length))
      .update(this.secret)
      .digest();
    if (!timingSafeEqual(expected, msg.subarray(4, 20))) return;
    let ma = -1;
    for (let o = 20; o + 2 <= length; ) {
      const len = msg[o + 1]!;
      if (len < 2 || o + len > length) return;
      if (msg[o] === 80) {
        if (ma !== -1 || len !== 18) return;
        ma = o + 2;
      }
      o += len;
    }
    if (ma === -1) return;
    const mac = createHmac('md5', this.secret)
      .update(msg.subarray(0, 4))
      .update(p.authenticator)
      .update(msg.subarray(20, ma))
      .update(ZERO16)
      .update(msg.subarray(ma + 16, length))
      .digest();
    if (!timingSafeEqual(mac, msg.subarray(ma, ma + 16))) return;
    this.finish(channel, msg[1]!);
    p.resolve(msg[0]!);
  }

  private expire(): void {
    const deadline = performance.now() - this.timeoutMs;
    for (const c of this.channels) {
      for (let i = 0; i < 256; i++) {
        const p = c.pending[i];
        if (p && p.startedAt < deadline) this.finish(c, i)?.reject(new Error('timeout'));
      }
    }
  }
}

function attribute(type: number, value: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + value.length);
  out[0] = type;
  out[1] = 2 + value.length;
  value.copy(out, 2);
  return out;
}

/** RFC 2865 §5.2 User-Password hiding. */
function hide(password: Buffer, secret: Buffer, authenticator: Buffer): Buffer {
  const length = Math.max(16, Math.ceil(password.length / 16) * 16);
  const out = Buffer.alloc(length);
  password.copy(out);
  let previous = authenticator;
  for (let o = 0; o < length; o += 16) {
    const b = createHash('md5').update(secret).update(previous).digest();
    for (let i = 0; i < 16; i++) out[o + i]! ^= b[i]!;
    previous = out.subarray(o, o + 16);
  }
  return out;
}
