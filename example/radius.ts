/**
 * The console's RADIUS side: the strategy built from the current settings, and every change of settings
 * validated, saved and applied at run time (also changes another instance saved, through the store).
 * Sign-in asks the settings for the user's organization's providers through `selectServers`.
 */
import passport from 'passport';
import { MemoryChallengeClaims, RadiusStrategy, type ChallengeClaims, type RadiusServerOptions } from '../lib';
import type { AlertLog } from './alerts';
import type { ServerMonitor } from './monitor';
import { checkSettings, effectiveSecurity, organizationOfUser, providersForUser, toServerOptions, type Settings } from './settings';
import type { SettingsStore } from './settings-store';

/** The signed-in user kept in the session. */
export interface ExampleUser {
  username: string;
  /** The RADIUS server that accepted. */
  server: string;
  /** From the Access-Accept's Class: "admins" → `'admin'`, else `'user'`. */
  role: 'admin' | 'user';
  /** The user's organization's name (the system-wide organization's for users of no organization). */
  organization: string;
}

/** Where the challenge page is; the strategy redirects there after an Access-Challenge. */
export const CHALLENGE_URL = '/login/challenge';

/** Options of {@link RadiusConsole}. */
export interface RadiusConsoleOptions {
  settings: Settings;
  store: SettingsStore;
  alerts: AlertLog;
  monitor: ServerMonitor;
  /** Access-Challenge rounds in one sign-in (the strategy's `maxChallengeRounds`). Default 3. */
  maxChallengeRounds?: number;
  /** Single use of challenges across instances (see ../challenge-claims.ts). Default: this process's memory. */
  challengeClaims?: ChallengeClaims;
}

/** Holds the settings and the strategy that applies them. */
export class RadiusConsole {
  /** The Passport instance the app authenticates with (its 'radius' strategy follows the settings). */
  readonly passport = new passport.Passport();
  /** Access-Challenge rounds allowed in one sign-in. */
  readonly maxChallengeRounds: number;
  private current: Settings;
  private active: RadiusStrategy;
  private readonly retired = new Set<RadiusStrategy>();
  private readonly store: SettingsStore;
  private readonly alerts: AlertLog;
  private readonly monitor: ServerMonitor;
  /** One for every strategy this console builds, so that a code is spent once across a change of settings. */
  private readonly challengeClaims: ChallengeClaims;

  /** @throws TypeError when the settings are not valid. */
  constructor(options: RadiusConsoleOptions) {
    this.store = options.store;
    this.alerts = options.alerts;
    this.monitor = options.monitor;
    this.maxChallengeRounds = options.maxChallengeRounds ?? 3;
    this.challengeClaims = options.challengeClaims ?? new MemoryChallengeClaims();
    checkSettings(options.settings);
    this.current = structuredClone(options.settings);
    this.active = this.build(this.current.servers.map(toServerOptions));
    this.passport.use(this.active);
    this.passport.serializeUser((user, done) => done(null, user));
    this.passport.deserializeUser((user: ExampleUser, done) => done(null, user));
    this.monitor.setServers(this.current.servers);
    this.store.watch((settings) => {
      try {
        this.apply(settings);
        this.alerts.add('notice', 'settings changed on another instance: applied');
      } catch (err) {
        this.alerts.add('error', `settings saved elsewhere could not be applied: ${(err as Error).message}`);
      }
    });
  }

  /** The current settings (a copy: change them with {@link RadiusConsole.update}). */
  get settings(): Settings {
    return structuredClone(this.current);
  }

  /** The strategy in use now. */
  get strategy(): RadiusStrategy {
    return this.active;
  }

  /**
   * Changes the settings: `change` edits a copy; the result is checked (organizations and every server,
   * as the strategy checks them), saved, then applied. Nothing changes when a check fails.
   * @throws TypeError with a sentence for the admin when the new settings are not valid.
   */
  async update(change: (draft: Settings) => void): Promise<void> {
    const draft = this.settings;
    change(draft);
    checkSettings(draft);
    const next = this.build(draft.servers.map(toServerOptions)); // throws TypeError for a bad server
    try {
      await this.store.save(draft);
    } catch (err) {
      await next.close();
      throw err;
    }
    this.swap(draft, next);
  }

  /** Applies settings saved by another instance. @throws TypeError when they are not valid. */
  apply(settings: Settings): void {
    checkSettings(settings);
    this.swap(structuredClone(settings), this.build(settings.servers.map(toServerOptions)));
  }

  /** Closes every strategy's sockets. */
  async close(): Promise<void> {
    await Promise.all([this.active.close(), ...[...this.retired].map((s) => s.close())]);
  }

  /** The user for a verified Access-Accept. */
  private userFor(username: string, server: string, classes: string[]): ExampleUser {
    return {
      username,
      server,
      role: classes.includes('admins') ? 'admin' : 'user',
      organization: organizationOfUser(this.current, username).name,
    };
  }

  private build(servers: RadiusServerOptions[]): RadiusStrategy {
    const strategy = new RadiusStrategy(
      {
        servers,
        challengeURL: CHALLENGE_URL,
        maxChallengeRounds: this.maxChallengeRounds,
        // Runs for the password step only (the code goes back to the server that asked for it), with the
        // user name the strategy will send: the providers of the user's organization, in order.
        selectServers: (_req, username) => providersForUser(this.current, username),
        applySessionTimeout: true,
        challengeClaims: this.challengeClaims,
      },
      (username, profile, done) => done(null, this.userFor(username, profile.server, profile.class.map((c) => c.toString('utf8')))),
    );
    this.alerts.watch(strategy.client);
    return strategy;
  }

  /**
   * Puts `next` in place for new sign-ins. Sign-ins in flight finish on the strategy they started with,
   * which is closed once its longest timeout has passed. A pending challenge is answered by the new
   * strategy only while its server keeps its name and address (the strategy checks both); otherwise 403.
   */
  private swap(settings: Settings, next: RadiusStrategy): void {
    const old = this.active;
    this.current = settings;
    this.active = next;
    this.passport.use(next);
    this.monitor.setServers(settings.servers);
    this.retired.add(old);
    const grace = Math.max(...settings.servers.map((s) => s.timeoutSeconds * 1000), 5000) * 2;
    setTimeout(() => {
      this.retired.delete(old);
      void old.close();
    }, grace).unref();
  }

  /** The effective providers of the user's organization (for the sign-in page's messages). */
  providersOf(username: string): { organization: string; providers: string[] } {
    const org = organizationOfUser(this.current, username);
    return { organization: org.name, providers: effectiveSecurity(this.current, org).providers };
  }
}
