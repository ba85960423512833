/**
 * B4 app (push-held sign-ins): Express + express-session (memory store) + Passport, POST /login with a form
 * body, against a responder that holds every Access-Request like a push server waiting for a phone.
 *
 *   node --expose-gc --import tsx bench/push-app.ts --mode radius|limit --radius-port N [--timeout MS]
 *
 * `radius`: RadiusStrategy (timeout 60 s, as the README recommends for push servers; one retransmission,
 * at 30 s, after the responder's 20 s). `limit`: the same app with a minimal Passport strategy around the
 * limit client (bench/limit-client.ts), the least a correct client does. Both regenerate and save the
 * session on sign-in (req.logIn). Prints `{"port":N}` once listening on 127.0.0.1. Over IPC it answers
 * `{ cmd: 'sample' }` with memory after a full GC and `{ cmd: 'loop' }` with the event-loop delay
 * histogram since the last `{ cmd: 'loop-reset' }` or `{ cmd: 'loop' }` (which resets it) (perf_hooks.monitorEventLoopDelay, 10 ms resolution).
 */
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy } from 'passport-strategy';
import { RadiusStrategy } from '../lib';
import { SECRET } from './common';
import { LimitClient } from './limit-client';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'radius' },
    'radius-port': { type: 'string' },
    timeout: { type: 'string', default: '60000' },
  },
});
const port = Number(values['radius-port']);
const timeout = Number(values.timeout);

interface BenchUser {
  username: string;
}

/** The least a Passport strategy can do with the limit client: one Access-Request, Accept → success. */
class LimitStrategy extends Strategy {
  name = 'limit';
  private readonly client = new LimitClient('127.0.0.1', port, Buffer.from(SECRET), timeout);

  override authenticate(req: Request): void {
    const body = req.body as Record<string, string | undefined>;
    const username = body.username;
    const password = body.password;
    if (!username || !password) return this.fail({ message: 'Missing credentials' }, 400);
    this.client.request(username, password).then(
      (code) => (code === 2 ? this.success({ username }) : this.fail({ message: 'Invalid username or password' }, 401)),
      (err: unknown) => this.error(err instanceof Error ? err : new Error(String(err))),
    );
  }
}

const pp = new passport.Passport();
if (values.mode === 'radius') {
  pp.use(
    new RadiusStrategy(
      {
        servers: [
          {
            name: 'push',
            address: `127.0.0.1:${port}`,
            secret: SECRET,
            attributes: { 'NAS-Identifier': 'bench' },
            timeout,
            retries: 1,
          },
        ],
        holdDown: 0,
      },
      (username, _profile, done) => done(null, { username }),
    ),
  );
} else if (values.mode === 'limit') {
  pp.use(new LimitStrategy());
} else {
  throw new Error(`unknown --mode ${values.mode}`);
}
pp.serializeUser((user, done) => done(null, (user as BenchUser).username));
pp.deserializeUser((username: string, done) => done(null, { username }));

const app = express();
app.use(express.urlencoded({ extended: false }));
app.use(session({ secret: 'bench', resave: false, saveUninitialized: false }));
app.use(pp.session());
app.post('/login', pp.authenticate(values.mode === 'radius' ? 'radius' : 'limit', { failWithError: false }), (req: Request, res: Response) => {
  res.json({ user: (req.user as BenchUser).username });
});
app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
  void _next;
  res.status(500).json({ error: err.message });
});

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'sample') {
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    process.send?.({ heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss });
  } else if (message.cmd === 'loop-reset') {
    loop.reset();
    process.send?.({ ok: true });
  } else if (message.cmd === 'loop') {
    const ms = (ns: number): number => ns / 1e6;
    process.send?.({ p50Ms: ms(loop.percentile(50)), p99Ms: ms(loop.percentile(99)), maxMs: ms(loop.max), meanMs: ms(loop.mean) });
    loop.reset();
  }
});

const server = app.listen(0, '127.0.0.1', 4096, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
server.maxConnections = 20_000;
server.headersTimeout = 120_000;
server.requestTimeout = 120_000;
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
