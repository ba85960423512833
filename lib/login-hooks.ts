/**
 * Work on the signed-in session once Passport's `req.logIn` has established it: the strategy's hooks for
 * the Session-Timeout cookie lifetime and the accounting record (RFC 2866) share this one wrapper.
 *
 * @internal
 */
import type { Request } from 'express';

/** `req.logIn` as Passport (0.6+) installs it: `(user, done)` or `(user, options, done)`. */
type LogIn = (user: Express.User, optionsOrDone?: object | ((err?: unknown) => void), done?: (err?: unknown) => void) => void;

/** The session as the hooks of {@link afterLogIn} see it. */
export type LoggedInSession = Record<string, unknown> & { cookie?: { maxAge?: number | null } };

/**
 * Wraps `req.logIn` for this request only (one call): once Passport has established the signed-in
 * session — it regenerates the session (0.6+) and, with `keepSessionInfo`, copies the old one over it, so
 * an earlier change to the session would be lost — each hook runs on the new session (the cookie's
 * `maxAge` from Session-Timeout, the accounting record) and the session is saved again, before the
 * response (and so the Set-Cookie header) is written.
 */
export function afterLogIn(req: Request, hooks: ReadonlyArray<(session: LoggedInSession) => void>): void {
  const target = req as unknown as { login?: LogIn; logIn?: LogIn; session?: unknown };
  const original = target.logIn;
  if (typeof original !== 'function') return;
  const wrapped: LogIn = (user, optionsOrDone, maybeDone) => {
    target.login = target.logIn = original; // one shot
    const options = (typeof optionsOrDone === 'function' ? {} : (optionsOrDone ?? {})) as { session?: boolean };
    const done = typeof optionsOrDone === 'function' ? optionsOrDone : maybeDone;
    if (options.session === false || typeof done !== 'function') return original.call(req, user, optionsOrDone, maybeDone);
    original.call(req, user, options, (err?: unknown) => {
      const session = target.session as (LoggedInSession & { save?: (cb: (err?: unknown) => void) => void }) | undefined;
      if (err || !session || typeof session.save !== 'function') return done(err);
      for (const hook of hooks) hook(session);
      session.save((saveErr) => done(saveErr));
    });
  };
  target.login = target.logIn = wrapped;
}
