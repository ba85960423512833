/**
 * The example app: Express + express-session + Passport with RadiusStrategy.
 * Routes: GET/POST /login, GET/POST /login/challenge, GET /account, POST /logout, GET /status.
 *
 * Organizations choose their RADIUS servers: the user name's domain (`carol@acme.example`) names the
 * organization; an organization lists its own servers or inherits the system-wide default.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import session, { type Store } from 'express-session';
import passport from 'passport';
import { getChallenge, RadiusError, RadiusStrategy, type ChallengeClaims, type RadiusServerOptions } from '../lib';
import { crossOriginProtection, type CrossOriginProtectionOptions } from './csrf';

/** The signed-in user kept in the session. */
export interface ExampleUser {
  username: string;
  /** The RADIUS server that accepted. */
  server: string;
  /** From the Access-Accept's Class: "admins" → `'admin'`, else `'user'`. */
  role: string;
  /** The organization's name, or `'(system-wide)'` for users of no organization. */
  organization: string;
}

/** An organization of the example: users whose name ends in `@domain`. */
export interface Organization {
  name: string;
  /** The user name's domain, e.g. `'acme.example'` (compared case-insensitively). */
  domain: string;
  /**
   * Its own servers, in order; `[]` turns RADIUS sign-in off for it. Absent: it inherits the system-wide
   * default (`defaultServers`).
   */
  servers?: string[];
}

/** How to build the example app. */
export interface ExampleAppOptions {
  servers: RadiusServerOptions[];
  /** Organizations with their own servers or inheriting the default. Default none. */
  organizations?: Organization[];
  /**
   * The system-wide default: servers for users of no organization and of organizations that inherit.
   * Default: every server that no organization names.
   */
  defaultServers?: string[];
  /** express-session store; the memory store when omitted. */
  store?: Store;
  /** Single use of challenges across instances (./challenge-claims.ts); this process's memory when omitted. */
  challengeClaims?: ChallengeClaims;
  /** Session cookie secret. */
  sessionSecret?: string;
  /** Cross-origin (CSRF) protection of the forms, see ./csrf.ts. Default: only the app's own origin posts. */
  csrf?: CrossOriginProtectionOptions;
  /** Where log lines go (one line per RADIUS event). Default: nowhere. */
  log?: (line: string) => void;
}

/** Escapes text for HTML (Reply-Message is untrusted text from the RADIUS server). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}
button{margin-top:1rem;font-size:1rem;padding:.4rem 1.2rem}.error{color:#a00}.ok{color:#070}.muted{color:#555}
table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>`;
}

function takeMessage(req: Request): string | undefined {
  const s = req.session as unknown as { messages?: string[] };
  const last = s.messages?.at(-1);
  delete s.messages;
  return last;
}

function ensureSignedIn(req: Request, res: Response, next: NextFunction): void {
  if (req.isAuthenticated()) return next();
  res.redirect(303, '/login');
}

/** The organization a user name belongs to: by the domain after its last `@`. */
export function organizationOf(username: string, organizations: readonly Organization[]): Organization | undefined {
  const at = username.lastIndexOf('@');
  if (at < 0) return undefined;
  const domain = username.slice(at + 1).toLowerCase();
  return organizations.find((o) => o.domain.toLowerCase() === domain);
}

/**
 * Builds the example app and its strategy (call `strategy.close()` when done).
 * The role is derived from the Access-Accept's Class attribute ("admins" → admin, else user).
 * @throws TypeError when an organization or `defaultServers` names a server that is not configured.
 */
export function createApp(options: ExampleAppOptions): { app: express.Express; strategy: RadiusStrategy } {
  const organizations = options.organizations ?? [];
  const names = new Set(options.servers.map((s) => s.name));
  const claimed = new Set(organizations.flatMap((o) => o.servers ?? []));
  const defaultServers = options.defaultServers ?? options.servers.map((s) => s.name).filter((n) => !claimed.has(n));
  for (const name of [...claimed, ...defaultServers]) {
    if (!names.has(name)) throw new TypeError(`example: server "${name}" is not configured`);
  }
  const strategy = new RadiusStrategy(
    {
      servers: options.servers,
      challengeURL: '/login/challenge',
      // Runs for the password step only; the code always goes back to the server that asked for it.
      // By the user name the strategy sends (body, then query string), never by req.body alone.
      selectServers: (_req, username) => organizationOf(username, organizations)?.servers ?? defaultServers,
      // The signed-in session lasts as long as the RADIUS server allows (Session-Timeout), when it says.
      applySessionTimeout: true,
      ...(options.challengeClaims ? { challengeClaims: options.challengeClaims } : {}),
    },
    (username, profile, done) => {
      const classes = profile.class.map((c) => c.toString('utf8'));
      const user: ExampleUser = {
        username,
        server: profile.server,
        role: classes.includes('admins') ? 'admin' : 'user',
        organization: organizationOf(username, organizations)?.name ?? '(system-wide)',
      };
      done(null, user);
    },
  );
  const log = options.log;
  if (log) {
    const c = strategy.client;
    // User names come from the form: JSON quoting escapes quotes, newlines and control characters, so a
    // user name cannot forge a log line or send escape sequences to a terminal.
    const q = (text: string): string => JSON.stringify(text);
    c.on('accept', (e) => log(`Auth.notice: (Access-Accept ${e.server} ${q(e.username)}) Login OK, ${Math.round(e.rttMs)} ms`));
    c.on('reject', (e) => log(`Auth.notice: (Access-Reject ${e.server} ${q(e.username)}) Login incorrect`));
    c.on('challenge', (e) => log(`Auth.notice: (Access-Challenge ${e.server} ${q(e.username)}) code requested`));
    c.on('timeout', (e) => log(`Auth.warn: (${e.server} ${q(e.username)}) no valid reply: ${e.reason}`));
    c.on('failover', (e) => log(`Auth.warn: failover from ${e.from} to ${e.to} after ${e.reason}`));
    c.on('server-down', (e) => log(`Auth.error: ${e.server} held down until ${new Date(e.until).toISOString()}: ${e.reason}`));
    c.on('server-up', (e) => log(`Auth.notice: ${e.server} answers again`));
    c.on('dropped', (e) => log(`Auth.warn: ${e.server} dropped a reply: ${e.reason}`));
  }

  const pp = new passport.Passport();
  pp.use(strategy);
  pp.serializeUser((user, done) => done(null, user));
  pp.deserializeUser((user: ExampleUser, done) => done(null, user));

  const app = express();
  app.disable('x-powered-by');
  // CSRF: POSTs from another origin are refused (Sec-Fetch-Site / Origin), before any session work.
  app.use(crossOriginProtection(options.csrf));
  app.use(express.urlencoded({ extended: false }));
  app.use(
    session({
      secret: options.sessionSecret ?? 'passport-radius example: change me',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax' },
      ...(options.store ? { store: options.store } : {}),
    }),
  );
  app.use(pp.session());

  app.get('/', (req, res) => res.redirect(303, req.isAuthenticated() ? '/account' : '/login'));

  app.get('/login', (req, res) => {
    const message = takeMessage(req);
    res.type('html').send(
      page(
        'Sign in',
        `${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/login">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required autofocus placeholder="name or name@organization">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
      ),
    );
  });

  const authenticate = pp.authenticate('radius', { successRedirect: '/account', failureRedirect: '/login', failureMessage: true });
  app.post('/login', authenticate);

  app.get('/login/challenge', (req, res) => {
    const challenge = getChallenge(req);
    if (!challenge) return res.redirect(303, '/login');
    res.type('html').send(
      page(
        'Verify it is you',
        `<p id="prompt">${escapeHtml(challenge.prompt || 'Enter your verification code')}</p>
<form method="post" action="/login/challenge">
<label for="code">Code for ${escapeHtml(challenge.username)}</label>
<input id="code" name="code" type="${challenge.echo ? 'text' : 'password'}" autocomplete="one-time-code" inputmode="numeric" required autofocus>
<button type="submit">Verify</button>
</form>
<p class="muted">Step ${challenge.round}. <a href="/login">Start again</a></p>`,
      ),
    );
  });
  app.post('/login/challenge', authenticate);

  app.get('/account', ensureSignedIn, (req, res) => {
    const user = req.user as ExampleUser;
    res.type('html').send(
      page(
        'Account',
        `<p>Signed in as <strong id="username">${escapeHtml(user.username)}</strong> (<span id="role">${escapeHtml(user.role)}</span>),
organization <strong id="organization">${escapeHtml(user.organization)}</strong>,
accepted by RADIUS server <strong id="server">${escapeHtml(user.server)}</strong>.</p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
      ),
    );
  });

  app.post('/logout', (req, res, next) => {
    req.logout((err) => (err ? next(err) : res.redirect(303, '/login')));
  });

  // Each server's state; /status?test=1 also runs the reachability test ("testing…" → Reachable / Failed).
  // Administrators only: it shows the servers' addresses and makes the app send them requests.
  app.get('/status', ensureSignedIn, async (req, res, next) => {
    if ((req.user as ExampleUser).role !== 'admin') {
      res.status(403).type('html').send(page('RADIUS servers', '<p class="error" role="alert">Administrators only.</p>'));
      return;
    }
    try {
      const client = strategy.client;
      const testing = req.query.test === '1';
      const probes = testing ? await Promise.all(client.serverNames.map((name) => client.probe(name))) : [];
      const rows = client
        .servers()
        .map((s, i) => {
          const probe = probes[i];
          const test = !probe
            ? ''
            : probe.status === 'reachable'
              ? `<td class="ok">Reachable (${Math.round(probe.rttMs)} ms, ${probe.method})</td>`
              : `<td class="error">Failed: ${escapeHtml(probe.message)}</td>`;
          return (
            `<tr><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.address)}</td><td>${s.state === 'up' ? 'in use' : 'held down'}</td>` +
            `<td>${s.lastRttMs === undefined ? '–' : `${s.lastRttMs.toFixed(1)} ms`}</td><td>${escapeHtml(s.lastError ?? '')}</td>${test}</tr>`
          );
        })
        .join('\n');
      const head = `<tr><th>Server</th><th>Address</th><th>State</th><th>Last round trip</th><th>Last error</th>${testing ? '<th>Test</th>' : ''}</tr>`;
      res
        .type('html')
        .send(page('RADIUS servers', `<table>${head}\n${rows}</table>\n<p><a href="/status?test=1">Test every server</a></p>`));
    } catch (err) {
      next(err);
    }
  });

  // Errors (e.g. no RADIUS server answered) become a plain page; messages never hold secrets.
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    void _next;
    // express-session saves or touches the session after the page is written; when that fails (the
    // session store went away meanwhile) the page is already on its way and express-session ends it.
    if (res.headersSent) return;
    // Client errors raised by middleware (e.g. 413 for an oversized body) keep their status.
    const status = (err as { status?: unknown }).status;
    const code = typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
    // RADIUS errors name servers and what went wrong with them: that is for the operator's log, not for
    // visitors, who get a plain sentence.
    const radius = err instanceof RadiusError;
    if (radius) log?.(`Auth.error: ${err.message}`);
    const text = radius ? 'The sign-in service is not answering. Please try again in a few minutes.' : err.message;
    res.status(code).type('html').send(page('Sign-in is unavailable', `<p class="error" role="alert">${escapeHtml(text)}</p><p><a href="/login">Back</a></p>`));
  });

  return { app, strategy };
}
