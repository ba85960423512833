/**
 * The example app: the seed's administrator console on Express + Passport with RadiusStrategy.
 *
 * Pages: sign-in and challenge (./pages/sign-in.ts), account, and for admins (Class "admins"): RADIUS
 * servers (Settings > Security > RADIUS), organizations and their security settings, alerts and log,
 * server status. Settings change at run time and persist (./settings-store.ts); the strategy follows them
 * (./radius.ts). Security headers (helmet), no-store caching, cross-origin POSTs refused (./csrf.ts),
 * sign-in throttling (./throttle.ts), /healthz.
 */
import { dirname, join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import session, { type Store } from 'express-session';
import helmet from 'helmet';
import { RadiusError, RadiusUnavailableError, type ChallengeClaims, type RadiusServerOptions, type RadiusStrategy } from '../lib';
import { AlertLog } from './alerts';
import { crossOriginProtection, type CrossOriginProtectionOptions } from './csrf';
import { escapeHtml, page } from './html';
import { ServerMonitor } from './monitor';
import { accountRoutes } from './pages/account';
import { alertRoutes } from './pages/alerts';
import { organizationRoutes } from './pages/organizations';
import { serverRoutes } from './pages/servers';
import { signInRoutes } from './pages/sign-in';
import { statusRoutes } from './pages/status';
import { RadiusConsole } from './radius';
import { fromServerOptions, initialSettings, type Settings } from './settings';
import { MemorySettingsStore, type SettingsStore } from './settings-store';
import { createThrottle, type ThrottleOptions } from './throttle';

export type { ExampleUser } from './radius';
export { escapeHtml } from './html';

/** How to build the example app. */
export interface ExampleAppOptions {
  /** The settings to start with (from the settings store, or a first start). */
  settings?: Settings;
  /** Or, for a first start: these servers, every one used system-wide. */
  servers?: RadiusServerOptions[];
  /** Where changes are saved. Default: memory (lost at exit). */
  settingsStore?: SettingsStore;
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
  /** Sign-in throttling (limits, and a Redis client to share counts). Default: in memory, see ./throttle.ts. */
  throttle?: ThrottleOptions;
  /** Milliseconds between two reachability tests of every server; 0 (default) tests only on demand. */
  monitorIntervalMs?: number;
  /** Access-Challenge rounds in one sign-in. Default 3. */
  maxChallengeRounds?: number;
  /** User names that are administrators whatever their Class (e.g. from CONSOLE_ADMINS). Default none. */
  admins?: readonly string[];
  /**
   * RADIUS accounting (RFC 2866) of each console session: Start after sign-in, Stop at sign-out, to each
   * server's accounting address (e.g. from CONSOLE_ACCOUNTING). Default false.
   */
  accounting?: boolean;
}

/** The built app and its parts. */
export interface ExampleApp {
  app: express.Express;
  /** The console's RADIUS side: settings, the strategy in use, changes. */
  radius: RadiusConsole;
  /** The strategy (its servers follow the settings through `setServers`). */
  strategy: RadiusStrategy;
  alerts: AlertLog;
  monitor: ServerMonitor;
  /** Stops the monitor and closes every RADIUS socket (not the stores given in the options). */
  close(): Promise<void>;
}

/**
 * Builds the example app.
 * @throws TypeError when the settings (or servers) are not valid.
 */
export function createApp(options: ExampleAppOptions): ExampleApp {
  const settings = options.settings ?? initialSettings((options.servers ?? []).map((s) => fromServerOptions(s)));
  const log = options.log;
  const alerts = new AlertLog(500, log);
  const monitor = new ServerMonitor(alerts, options.monitorIntervalMs ?? 0);
  const radius = new RadiusConsole({
    settings,
    store: options.settingsStore ?? new MemorySettingsStore(),
    alerts,
    monitor,
    ...(options.maxChallengeRounds !== undefined ? { maxChallengeRounds: options.maxChallengeRounds } : {}),
    ...(options.challengeClaims ? { challengeClaims: options.challengeClaims } : {}),
    ...(options.admins ? { admins: options.admins } : {}),
    ...(options.accounting ? { accounting: true } : {}),
  });
  const throttle = createThrottle(options.throttle);

  const app = express();
  app.disable('x-powered-by');
  app.use(
    helmet({
      // The app may run on plain http on a private network: do not make browsers rewrite its URLs.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );
  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok', servers: radius.settings.servers.length });
  });
  app.use('/assets', express.static(join(dirname(__filename), 'public'), { index: false, maxAge: '1h' }));
  // CSRF: POSTs from another origin are refused (Sec-Fetch-Site / Origin), before any session work.
  app.use(crossOriginProtection(options.csrf));
  // Pages show who is signed in and settings: never cached (a shared or back-button cache must not show them).
  app.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  app.use(express.urlencoded({ extended: false, limit: '32kb' }));
  app.use(
    session({
      secret: options.sessionSecret ?? 'passport-radius example: change me',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax' },
      ...(options.store ? { store: options.store } : {}),
    }),
  );
  app.use(radius.passport.session());

  app.use(signInRoutes(radius, throttle));
  app.use(accountRoutes(radius));
  app.use(serverRoutes(radius, monitor));
  app.use(organizationRoutes(radius));
  app.use(alertRoutes(alerts));
  app.use(statusRoutes(radius));
  monitor.start();

  // Errors (e.g. no RADIUS server answered) become a plain page; messages never hold secrets.
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    void _next;
    // express-session saves or touches the session after the page is written; when that fails (the
    // session store went away meanwhile) the page is already on its way and express-session ends it.
    if (res.headersSent) return;
    // Client errors raised by middleware (e.g. 413 for an oversized body) keep their status.
    const status = (err as { status?: unknown }).status;
    // No server answered: the service is unavailable for now (503, with a hint when to retry), not broken.
    const unavailable = err instanceof RadiusUnavailableError;
    const code = typeof status === 'number' && status >= 400 && status < 500 ? status : unavailable ? 503 : 500;
    if (unavailable) res.set('Retry-After', '60');
    // RADIUS errors name servers and what went wrong with them: that is for the operator's log, not for
    // visitors, who get a plain sentence.
    const radiusError = err instanceof RadiusError;
    if (radiusError) alerts.add('error', err.message);
    const text = radiusError ? 'The sign-in service is not answering. Please try again in a few minutes.' : err.message;
    res
      .status(code)
      .type('html')
      .send(page({ title: code < 500 ? 'The request was refused' : 'Sign-in is unavailable', card: true }, `<p class="message error" role="alert">${escapeHtml(text)}</p><p><a href="/login">Back</a></p>`));
  });

  return {
    app,
    radius,
    strategy: radius.strategy,
    alerts,
    monitor,
    close: async () => {
      await monitor.stop();
      await radius.close();
    },
  };
}
