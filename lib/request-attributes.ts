/**
 * The attributes the strategy adds to each Access-Request for the HTTP request at hand (RFC 2865 §5):
 * Calling-Station-Id = the client's IP address as Express reports it (`req.ip`, so the app's `trust proxy`
 * setting decides which address counts), NAS-Port-Type = Virtual (5), then the app's own
 * `requestAttributes(req, username)`. Two-factor servers read Calling-Station-Id for their policies and
 * show it to the user (Duo's `client_ip_attr`, privacyIDEA, multiOTP, NPS conditions). A server that
 * configures an attribute of the same name (or configures it as `null`) keeps its own (see lib/request.ts).
 */
import type { Request } from 'express';
import { isIP } from 'node:net';
import type { AttributeInput } from './protocol/dictionary';
import { MAX_CALLING_STATION_ID_OCTETS } from './request';

/** Per-request attributes by dictionary name: an object, or `[name, value]` pairs (for repeated names). */
export type RequestAttributes = Readonly<Record<string, AttributeInput>> | ReadonlyArray<readonly [string, AttributeInput]>;

/**
 * `requestAttributes(req, username)`: attributes for this sign-in (sync or async), by dictionary name, e.g.
 * `{ 'Called-Station-Id': 'console.example.com' }`. A name given here replaces the strategy's default of
 * that name (Calling-Station-Id, NAS-Port-Type).
 */
export type RequestAttributesFunction = (req: Request, username: string) => RequestAttributes | Promise<RequestAttributes>;

/** NAS-Port-Type Virtual (RFC 2865 §5.41): the user reaches the NAS — this app — over the network, not a port. */
const NAS_PORT_TYPE: readonly [string, AttributeInput] = ['NAS-Port-Type', 'Virtual'];

function pairs(value: RequestAttributes): Array<readonly [string, AttributeInput]> {
  if (Array.isArray(value)) return [...(value as ReadonlyArray<readonly [string, AttributeInput]>)];
  if (typeof value === 'object' && value !== null) return Object.entries(value as Record<string, AttributeInput>);
  throw new TypeError('requestAttributes must return an object or an array of [name, value] pairs');
}

/**
 * The per-request attributes of one sign-in step: the defaults, then the app's. Values are validated by
 * the client (a bad name or value is a `TypeError` there). Synchronous when the app has no
 * `requestAttributes` function (no promise on every sign-in for nothing).
 */
export function requestAttributesFor(
  req: Request,
  username: string,
  extra: RequestAttributesFunction | undefined,
): Array<readonly [string, AttributeInput]> | Promise<Array<readonly [string, AttributeInput]>> {
  if (!extra) return withDefaults(req, []);
  return Promise.resolve(extra(req, username)).then((value) => withDefaults(req, pairs(value)));
}

/** The strategy's defaults, unless the app's own attributes name them, then the app's. */
function withDefaults(req: Request, own: Array<readonly [string, AttributeInput]>): Array<readonly [string, AttributeInput]> {
  const named = own.length === 0 ? undefined : new Set(own.map(([name]) => name.toLowerCase()));
  const defaults: Array<readonly [string, AttributeInput]> = [];
  const ip = req.ip;
  // Only an address: with `trust proxy`, req.ip comes from X-Forwarded-For, which the client may fill.
  if (!named?.has('calling-station-id') && typeof ip === 'string' && ip.length <= MAX_CALLING_STATION_ID_OCTETS && isIP(ip) !== 0) defaults.push(['Calling-Station-Id', ip]);
  if (!named?.has('nas-port-type')) defaults.push(NAS_PORT_TYPE);
  return own.length === 0 ? defaults : [...defaults, ...own];
}
