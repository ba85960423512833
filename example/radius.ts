/**
 * The console's RADIUS side: one strategy, and every change of settings validated, applied with
 * `strategy.setServers` and saved at run time (also changes another instance saved, through the store).
 * Sign-in asks the settings for the user's organization's providers through `selectServers`.
 */
import passport from 'passport';
import { RadiusStrategy, type ChallengeClaims, type RadiusServerOptions } from '../lib';
import type { AlertLog } from './alerts';
import type { ServerMonitor } from './monitor';
import { checkSettings, effectiveSecurity, organizationOfUser, providersForUser, selfImpact, toServerOptions, type Settings } from './settings';
import type { SettingsStore } from './settings-store';

/** The signed-in user kept in the session. */
export interface ExampleUser {
  username: string;
  /** The RADIUS server that accepted. */
  server: string;
  /** `'admin'` when the Access-Accept's Class is "admins" or the user name is listed as an admin, else `'user'`. */
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
  /** User names that are administrators whatever their Class (compared case-insensitively). Default none. */
  admins?: readonly string[];
  /** RADIUS accounting of console sessions (the strategy's `accounting`). Default false. */
  accounting?: boolean;
}

/** Holds the settings and the strategy that applies them. */
export class RadiusConsole {
  /** The Passport instance the app authenticates with (its 'radius' strategy follows the settings). */
  readonly passport = new passport.Passport();
  /** Access-Challenge rounds allowed in one sign-in. */
  readonly maxChallengeRounds: number;
  private current: Settings;
  private readonly active: RadiusStrategy;
  private readonly store: SettingsStore;
  private readonly alerts: AlertLog;
  private readonly monitor: ServerMonitor;
  private readonly challengeClaims: ChallengeClaims | undefined;
  private readonly admins: ReadonlySet<string>;
  private readonly accounting: boolean;

  /** @throws TypeError when the settings are not valid. */
  constructor(options: RadiusConsoleOptions) {
    this.store = options.store;
    this.alerts = options.alerts;
    this.monitor = options.monitor;
    this.maxChallengeRounds = options.maxChallengeRounds ?? 3;
    this.challengeClaims = options.challengeClaims;
    this.admins = new Set((options.admins ?? []).map((a) => a.toLowerCase()));
    this.accounting = options.accounting ?? false;
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
   * Changes the settings: `change` edits a copy; the result is checked (organizations, then every server
   * as the strategy checks them in `setServers`), applied, and saved. Nothing changes when a check fails,
   * and the change is undone when it cannot be saved. With `admin` (the signed-in administrator making
   * the change), a change that would lock them out is refused and one that changes their own sign-in
   * returns a warning (see {@link selfImpact}).
   * @returns the warning for `admin`, if any.
   * @throws TypeError with a sentence for the admin when the new settings are not valid or would lock them out.
   */
  async update(change: (draft: Settings) => void, admin?: ExampleUser): Promise<string | undefined> {
    const previous = this.current;
    const draft = this.settings;
    change(draft);
    checkSettings(draft);
    const impact = admin ? selfImpact(previous, draft, admin) : {};
    if (impact.lockout) throw new TypeError(impact.lockout);
    this.apply(draft);
    try {
      await this.store.save(draft);
    } catch (err) {
      this.apply(previous);
      throw err;
    }
    return impact.warning;
  }

  /**
   * Applies settings (also those saved by another instance). The strategy validates the whole server list
   * first; sign-ins in flight finish on the servers they started with; a pending challenge whose server
   * was removed or moved gets 403. @throws TypeError when they are not valid (nothing changes).
   */
  apply(settings: Settings): void {
    checkSettings(settings);
    this.active.setServers(settings.servers.map(toServerOptions));
    this.current = structuredClone(settings);
    this.monitor.setServers(this.current.servers);
  }

  /** Closes the strategy's sockets. */
  async close(): Promise<void> {
    await this.active.close();
  }

  /** The user for a verified Access-Accept. */
  private userFor(username: string, server: string, classes: string[]): ExampleUser {
    return {
      username,
      server,
      role: classes.includes('admins') || this.admins.has(username.toLowerCase()) ? 'admin' : 'user',
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
        accounting: this.accounting,
        ...(this.challengeClaims ? { challengeClaims: this.challengeClaims } : {}),
      },
      (username, profile, done) => done(null, this.userFor(username, profile.server, profile.class.map((c) => c.toString('utf8')))),
    );
    this.alerts.watch(strategy.client);
    return strategy;
  }

  /** The effective providers of the user's organization (for the sign-in page's messages). */
  providersOf(username: string): { organization: string; providers: string[] } {
    const org = organizationOfUser(this.current, username);
    return { organization: org.name, providers: effectiveSecurity(this.current, org).providers };
  }
}
