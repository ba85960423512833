/**
 * How an option table is read: an {@link OptionSpec} per option (validation and default in one function),
 * the common specs (numbers in a range, booleans), and {@link readOptions}, which reads a table's options
 * from the caller's object. The tables themselves are in lib/options.ts (servers, client),
 * lib/strategy-options.ts and lib/session-accounting.ts.
 *
 * Options are read as own properties only: a polluted `Object.prototype` (e.g. a `requireMessageAuthenticator`
 * set there by another library's bug) can neither switch an option nor smuggle one in.
 *
 * @internal
 */

/** How one option is read: validation and default in one function. */
export interface OptionSpec<T> {
  /**
   * Validates `value` (`undefined` when the option is absent) and returns it normalised, the default
   * filled in. Throws `TypeError` whose message starts with `label` (e.g. `RadiusStrategy: servers[1].timeout`).
   */
  parse(value: unknown, label: string): T;
}

/** The normalised value of each option of a schema. */
export type Parsed<S> = { [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

/** Throws `TypeError(message)` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TypeError(message);
}

/** A number from `min` to `max` (a whole number when `integer`), `fallback` when absent. */
export function numberOption(fallback: number, min: number, max: number, integer = false): OptionSpec<number> {
  return {
    parse(value, label) {
      if (value === undefined) return fallback;
      check(typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max, `${label} must be a number from ${min} to ${max}`);
      check(!integer || Number.isInteger(value), `${label} must be a whole number`);
      return value;
    },
  };
}

/** `true` or `false`, `fallback` when absent. */
export function booleanOption(fallback: boolean): OptionSpec<boolean> {
  return {
    parse(value, label) {
      if (value === undefined) return fallback;
      check(typeof value === 'boolean', `${label} must be true or false`);
      return value;
    },
  };
}

/**
 * Reads the options of `schema` from `input` as own properties only, refusing unknown names (a misspelt
 * option such as `failoverOnRejct` would otherwise be ignored silently), and parses each in schema order.
 */
export function readOptions<S extends Record<string, OptionSpec<unknown>>>(
  input: unknown,
  schema: S,
  label: string,
  join: (label: string, key: string) => string = (l, k) => `${l}.${k}`,
  extraKeys: readonly string[] = [],
): Parsed<S> {
  check(typeof input === 'object' && input !== null && !Array.isArray(input), `${label} must be an object`);
  for (const key of Object.keys(input)) {
    check(Object.hasOwn(schema, key) || extraKeys.includes(key), `${label}: unknown option "${key}"`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema)) {
    const value = Object.hasOwn(input, key) ? (input as Record<string, unknown>)[key] : undefined;
    out[key] = schema[key]!.parse(value, join(label, key));
  }
  return out as Parsed<S>;
}

/** Joins a client-level option name to the caller's prefix: `RadiusStrategy: holdDown`. */
export const topLevel = (prefix: string, key: string): string => `${prefix}: ${key}`;
