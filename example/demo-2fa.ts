/**
 * The demo's two-factor RADIUS server logic (a `RadiusHandler` for the in-process test server): the
 * password, then an Access-Challenge for a code; a wrong code is answered with a new Access-Challenge
 * ("That code is not right…") while tries remain, as many two-factor servers do, then an Access-Reject.
 * For demos only.
 */
import { randomBytes } from 'node:crypto';
import { accept, challenge, reject, type HandlerReply, type HandlerRequest, type RadiusHandler } from '../lib/testing';

/** A two-factor demo user. */
export interface DemoTwoFactorUser {
  password: string;
  /** The code the user must enter after the password. */
  code: string;
}

/** Codes a user may get wrong before the server rejects (the first code plus this many retries). */
const RETRIES = 2;
/** How long a challenge can be answered, in ms. */
const EXPIRY_MS = 5 * 60_000;

interface Pending {
  username: string;
  wrong: number;
  expires: number;
}

/** Decides the demo two-factor server's replies. */
export class DemoTwoFactorHandler implements RadiusHandler {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly users: Readonly<Record<string, DemoTwoFactorUser>>) {}

  handle(req: HandlerRequest): HandlerReply {
    const username = req.username ?? '';
    const user = this.users[username];
    if (!user) return reject();
    if (!req.state) {
      if (!req.proves(Buffer.from(user.password, 'utf8'))) return reject();
      return this.ask(username, 0, 'Enter the code sent to your phone');
    }
    const key = req.state.toString('hex');
    const pending = this.pending.get(key);
    this.pending.delete(key); // each State answers once
    if (!pending || pending.username !== username || pending.expires <= Date.now()) return reject();
    if (req.password?.equals(Buffer.from(user.code, 'utf8'))) return accept({ message: `Welcome ${username}` });
    if (pending.wrong < RETRIES) return this.ask(username, pending.wrong + 1, 'That code is not right. Enter the code sent to your phone');
    return reject({ message: 'Too many wrong codes. Please sign in again.' });
  }

  close(): void {
    this.pending.clear();
  }

  private ask(username: string, wrong: number, message: string): HandlerReply {
    const now = Date.now();
    for (const [k, p] of this.pending) if (p.expires <= now) this.pending.delete(k);
    const state = randomBytes(16);
    this.pending.set(state.toString('hex'), { username, wrong, expires: now + EXPIRY_MS });
    return challenge({ message, state, echo: false });
  }
}
