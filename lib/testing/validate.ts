/**
 * Option checks shared by the test server, its handlers and its vendor profiles: each problem throws a
 * `TypeError` naming the option.
 *
 * @internal
 */
import { Attr, MAX_ATTRIBUTE_VALUE_LENGTH, MAX_PASSWORD_LENGTH, encodeAttribute } from '../protocol/packet';

/** Throws `TypeError(message)` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TypeError(message);
}

/** True for a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value`, or `fallback` when undefined; anything but a boolean throws. */
export function optionalBoolean(value: unknown, fallback: boolean, label: string): boolean {
  if (value === undefined) return fallback;
  check(typeof value === 'boolean', `${label} must be true or false`);
  return value;
}

/** Throws unless `value` is undefined or a whole number from 0 to `max`. */
export function nonNegativeInteger(value: unknown, label: string, max: number): void {
  check(
    value === undefined || (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max),
    `${label} must be a whole number from 0 to ${max}`,
  );
}

/** Reply-Message attributes (RFC 2865 §5.18) for a string or an array of strings, each 1 to 253 bytes of UTF-8. */
export function textAttributes(value: unknown, label: string): Buffer[] {
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  return items.map((item, i) => {
    const where = Array.isArray(value) ? `${label}[${i}]` : label;
    check(typeof item === 'string' && item.length > 0, `${where} must be a non-empty string`);
    const bytes = Buffer.from(item, 'utf8');
    check(bytes.length <= MAX_ATTRIBUTE_VALUE_LENGTH, `${where} must be at most 253 bytes of UTF-8`);
    return encodeAttribute(Attr.ReplyMessage, bytes);
  });
}

/** A string that fits a User-Password (at most 128 bytes in `encoding`, RFC 2865 §5.2), as bytes. */
export function passwordBytes(value: unknown, label: string, encoding: BufferEncoding = 'utf8'): Buffer {
  check(typeof value === 'string', `${label} must be a string`);
  const bytes = Buffer.from(value, encoding);
  check(bytes.length <= MAX_PASSWORD_LENGTH, `${label} must be at most 128 bytes`);
  return bytes;
}

/** A delay in milliseconds: `fallback` when undefined, else a whole number from 0 to 600000 (or TypeError). */
export function optionalDelay(value: unknown, fallback: number, label: string): number {
  if (value === undefined) return fallback;
  nonNegativeInteger(value, label, 600_000);
  return value as number;
}

/** Throws for a key of `input` not in `known` (a misspelt option would otherwise be ignored). */
export function knownKeys(input: Record<string, unknown>, known: readonly string[], label: string): void {
  for (const key of Object.keys(input)) check(known.includes(key), `${label}: unknown option "${key}"`);
}
