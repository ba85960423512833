/**
 * B2 app: Express + express-session (memory store) + Passport, POST /login with a form body.
 *
 *   node --import tsx bench/http-app.ts --mode radius --radius-port N
 *   node --import tsx bench/http-app.ts --mode local
 *
 * `radius`: RadiusStrategy against the bench responder. `local`: passport-local checking a fixed
 * password. Everything else is the same: a sign-in regenerates and saves the session (req.logIn) and
 * answers 200 `{"user":NAME}`; a refusal is 401. Prints `{"port":N}` once listening on 127.0.0.1.
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { RadiusStrategy } from '../lib';
import { PASSWORD, SECRET } from './common';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'radius' },
    'radius-port': { type: 'string' },
  },
});

interface BenchUser {
  username: string;
}

const pp = new passport.Passport();
if (values.mode === 'radius') {
  pp.use(
    new RadiusStrategy(
      {
        servers: [{ name: 'bench', address: `127.0.0.1:${values['radius-port']}`, secret: SECRET, attributes: { 'NAS-Identifier': 'bench' } }],
        holdDown: 0,
      },
      (username, _profile, done) => done(null, { username }),
    ),
  );
} else if (values.mode === 'local') {
  pp.use(new LocalStrategy((username, password, done) => done(null, password === PASSWORD ? { username } : false)));
} else {
  throw new Error(`unknown --mode ${values.mode}`);
}
pp.serializeUser((user, done) => done(null, (user as BenchUser).username));
pp.deserializeUser((username: string, done) => done(null, { username }));

const app = express();
app.use(express.urlencoded({ extended: false }));
app.use(session({ secret: 'bench', resave: false, saveUninitialized: false }));
app.use(pp.session());
app.post('/login', pp.authenticate(values.mode === 'radius' ? 'radius' : 'local', { failWithError: false }), (req: Request, res: Response) => {
  res.json({ user: (req.user as BenchUser).username });
});
app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
  void _next;
  res.status(500).json({ error: err.message });
});

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
