/**
 * A small Express app around RadiusStrategy for HTTP-level tests: JSON outcomes, a memory session store
 * the test can inspect, and every strategy it builds closed by `closeAll()`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import session, { MemoryStore } from 'express-session';
import passport from 'passport';
import { RadiusStrategy, type RadiusStrategyOptions, type VerifyFunction } from '../../lib';

export interface TestApp {
  app: express.Express;
  strategy: RadiusStrategy;
  store: MemoryStore;
  /** Every session the store holds, serialised as the store keeps them. */
  storeDump(): string;
}

const strategies: RadiusStrategy[] = [];

/** A Passport instance of its own using `strategies`, keeping the whole user object in the session. */
export function passportFor(...using: RadiusStrategy[]): passport.Authenticator {
  const pp = new passport.Passport();
  for (const s of using) pp.use(s);
  pp.serializeUser((user, done) => done(null, user));
  pp.deserializeUser((user: Express.User, done) => done(null, user));
  return pp;
}

/** Closes every strategy built by {@link buildApp}. */
export async function closeAll(): Promise<void> {
  await Promise.all(strategies.splice(0).map((s) => s.close()));
}

/**
 * Routes: POST /login (JSON: 200 {user, info}; other statuses {info}; 303 to the challenge URL),
 * POST /login/challenge (same), GET /whoami (200 {user} or 401), GET /session (the raw session).
 */
export function buildApp(
  options: RadiusStrategyOptions,
  verify?: VerifyFunction,
  extra: { useSession?: boolean; route?: { servers?: string[] } } = {},
): TestApp {
  const strategy = new RadiusStrategy({ holdDown: 0, ...options }, verify);
  strategies.push(strategy);
  const store = new MemoryStore();
  const pp = passportFor(strategy);
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(express.json());
  if (extra.useSession !== false) {
    app.use(session({ secret: 'test', resave: false, saveUninitialized: false, store }));
    app.use(pp.session());
  }
  const handler = (req: Request, res: Response, next: NextFunction): void => {
    pp.authenticate('radius', { ...(extra.route ?? {}) }, (err: unknown, user: Express.User | false, info: unknown, status: number | undefined) => {
      if (err) return next(err);
      if (!user) return res.status(status ?? 401).json({ info: info ?? null });
      if (extra.useSession === false) return res.json({ user, info });
      req.logIn(user, (loginErr) => (loginErr ? next(loginErr) : res.json({ user, info })));
    })(req, res, next);
  };
  app.post('/login', handler);
  app.post('/login/challenge', handler);
  app.get('/whoami', (req, res) => (req.user ? res.json({ user: req.user }) : res.status(401).json({})));
  app.get('/session', (req, res) => res.json(req.session ?? null));
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    void _next;
    res.status(500).json({ error: err.message, name: err.name, code: (err as { code?: string }).code });
  });
  return {
    app,
    strategy,
    store,
    storeDump: () => JSON.stringify((store as unknown as { sessions: Record<string, string> }).sessions),
  };
}
