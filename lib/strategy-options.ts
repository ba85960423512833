/**
 * The strategy's own options in the one schema style of lib/options.ts: names, types, defaults and
 * validation in one table ({@link STRATEGY_OPTIONS}). The client's options are {@link CLIENT_OPTIONS};
 * the strategy accepts both.
 */
import { booleanOption, check, readOptions, topLevel, type OptionSpec, type Parsed } from './option-schema';
import { CLIENT_OPTIONS } from './options';
import type { ChallengeClaims } from './challenge';
import type { RequestAttributesFunction } from './request-attributes';
import { ACCOUNTING_STRATEGY_OPTIONS } from './session-accounting';
import type { RadiusStrategyClient, RadiusStrategyOwnOptions, RadiusStrategyOptionsWithClient, RadiusStrategyOptionsWithRequest } from './strategy-types';

function text(fallback: string): OptionSpec<string> {
  return {
    parse(value, label) {
      if (value === undefined) return fallback;
      check(typeof value === 'string' && value !== '', `${label} must be a non-empty string`);
      return value;
    },
  };
}

/**
 * Session keys the strategy may not use: Object.prototype's names (`__proto__` would make every
 * password step hang), the names express-session's Session gives its own fields and methods, and
 * Passport's own key.
 */
const RESERVED_SESSION_KEYS = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  'cookie',
  'id',
  'req',
  'regenerate',
  'destroy',
  'reload',
  'save',
  'touch',
  'resetMaxAge',
  'passport',
]);

/** The strategy option schema: one entry per strategy option (the compiler checks it against the options type). */
export const STRATEGY_OPTIONS = {
  name: text('radius'),
  usernameField: text('username'),
  passwordField: text('password'),
  codeField: text('code'),
  sessionKey: {
    parse(value: unknown, label: string): string {
      const key = text('radius').parse(value, label);
      check(
        !RESERVED_SESSION_KEYS.has(key),
        `${label} must not be "${key}": express-session, Passport or Object.prototype own that name (use e.g. "radius")`,
      );
      return key;
    },
  },
  challengeURL: {
    parse(value: unknown, label: string): string | undefined {
      check(value === undefined || (typeof value === 'string' && value !== ''), `${label} must be a non-empty string`);
      return value;
    },
  },
  challengeTimeout: {
    parse(value: unknown, label: string): number {
      if (value === undefined) return 300_000;
      check(typeof value === 'number' && Number.isFinite(value) && value > 0, `${label} must be a positive number of milliseconds`);
      return value;
    },
  },
  maxChallengeRounds: {
    parse(value: unknown, label: string): number {
      if (value === undefined) return 3;
      check(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 20, `${label} must be a whole number from 1 to 20`);
      return value as number;
    },
  },
  challengeClaims: {
    parse(value: unknown, label: string): ChallengeClaims | undefined {
      check(
        value === undefined || (typeof value === 'object' && value !== null && typeof (value as Partial<ChallengeClaims>).claim === 'function'),
        `${label} must be an object with a claim(id, ttlMs) method`,
      );
      return value as ChallengeClaims | undefined;
    },
  },
  client: {
    parse(value: unknown, label: string): RadiusStrategyClient | undefined {
      if (value === undefined) return undefined;
      const c = value as Partial<Record<keyof RadiusStrategyClient, unknown>>;
      check(
        typeof value === 'object' && value !== null && Array.isArray(c.serverNames) &&
          (typeof c.serverStatus === 'function' || typeof c.servers === 'function') &&
          (['authenticate', 'respond', 'close'] as const).every((m) => typeof c[m] === 'function'),
        `${label} must be a RADIUS client: serverNames, serverStatus(), authenticate(), respond() and close()`,
      );
      return value as RadiusStrategyClient;
    },
  },
  selectServers: {
    parse(value: unknown, label: string): RadiusStrategyOwnOptions['selectServers'] {
      check(value === undefined || typeof value === 'function', `${label} must be a function`);
      return value as RadiusStrategyOwnOptions['selectServers'];
    },
  },
  applySessionTimeout: booleanOption(false),
  requestAttributes: {
    parse(value: unknown, label: string): RequestAttributesFunction | undefined {
      check(value === undefined || typeof value === 'function', `${label} must be a function (req, username) => attributes`);
      return value as RequestAttributesFunction | undefined;
    },
  },
  allowQueryCredentials: booleanOption(false),
  passReqToCallback: booleanOption(false),
  ...ACCOUNTING_STRATEGY_OPTIONS,
} satisfies {
  [K in Exclude<keyof Required<RadiusStrategyOptionsWithRequest & RadiusStrategyOptionsWithClient<RadiusStrategyClient>>, keyof typeof CLIENT_OPTIONS>]: OptionSpec<unknown>;
};

/** Names of the strategy's own options. */
export const STRATEGY_OPTION_NAMES: readonly string[] = Object.keys(STRATEGY_OPTIONS);

/** The strategy's own options after validation. @internal */
export type NormalizedStrategyOptions = Parsed<typeof STRATEGY_OPTIONS>;

/**
 * Validates the strategy's own options (own properties only) and refuses unknown names; returns them with
 * the client's options split off (own properties only too), for `RadiusClient` to validate.
 *
 * @throws TypeError naming the option, prefixed `RadiusStrategy`.
 */
export function normalizeStrategyOptions(input: unknown): { strategy: NormalizedStrategyOptions; client: Record<string, unknown> } {
  check(typeof input === 'object' && input !== null, 'RadiusStrategy: options must be an object');
  const clientKeys = Object.keys(CLIENT_OPTIONS);
  const strategy = readOptions(input, STRATEGY_OPTIONS, 'RadiusStrategy', topLevel, clientKeys);
  const client = Object.fromEntries(Object.entries(input).filter(([key]) => clientKeys.includes(key)));
  return { strategy, client };
}
