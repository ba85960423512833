/**
 * The profile handed to the verify callback: who signed in, where, and what the server said about them
 * (RFC 2865 §5: Class §5.25, Filter-Id §5.11, Session-Timeout §5.27, Idle-Timeout §5.28, Reply-Message §5.18).
 */
import type { AcceptResult } from './client';
import { decodeAttributes, type DecodedAttributes } from './protocol/dictionary';
import { Attr } from './protocol/packet';

/**
 * Reply attributes that only the protocol needs, never kept in the profile: without a verify callback
 * the profile is `req.user` and stays in the session while the user is signed in. State (RFC 2865
 * §5.24) and Proxy-State (§5.33) are opaque to the NAS, Message-Authenticator (RFC 3579 §3.2) and
 * EAP-Message (79, RFC 3579 §3.1) are protocol framing, and User-Password, CHAP-Password and
 * CHAP-Challenge (§5.2, §5.3, §5.40) never belong in a reply.
 */
const PROTOCOL_ONLY: ReadonlySet<number> = new Set([
  Attr.UserPassword,
  Attr.ChapPassword,
  Attr.State,
  Attr.ProxyState,
  Attr.ChapChallenge,
  79, // EAP-Message
  Attr.MessageAuthenticator,
]);

/** What the verify callback receives about a verified Access-Accept. */
export interface RadiusProfile {
  /** Always `'radius'` (Passport's profile convention). */
  provider: 'radius';
  /** The User-Name that was accepted. */
  username: string;
  /** Name of the server that sent the Access-Accept. */
  server: string;
  /**
   * Every reply attribute by dictionary name, except those only the protocol needs (State, Proxy-State,
   * Message-Authenticator, EAP-Message, and any User-Password or CHAP-* a server would echo); several of
   * one attribute form an array in order. Unknown attributes appear as `Attr-<type>` (Buffer); unknown
   * vendor attributes under `Vendor-Specific` as `{ vendorId, type, value }` (hex).
   */
  attributes: DecodedAttributes;
  /** Class attributes, opaque octets, in order (empty when none). */
  class: Buffer[];
  /** Filter-Id attributes in order (empty when none). */
  filterId: string[];
  /** Session-Timeout in seconds, when sent. */
  sessionTimeout: number | undefined;
  /** Idle-Timeout in seconds, when sent. */
  idleTimeout: number | undefined;
  /** Reply-Message attributes joined in order, when sent. Untrusted text. */
  replyMessage: string | undefined;
}

function uint32(result: AcceptResult, type: number): number | undefined {
  const a = result.rawAttributes.find((x) => x.type === type && x.value.length === 4);
  return a ? a.value.readUInt32BE(0) : undefined;
}

/** The Access-Accept's decoded attributes without the protocol-only ones (decoded again only when it had some). */
function userAttributes(result: AcceptResult): DecodedAttributes {
  // decodeAttributes already skips Message-Authenticator, which nearly every reply carries.
  if (!result.rawAttributes.some((a) => a.type !== Attr.MessageAuthenticator && PROTOCOL_ONLY.has(a.type))) return result.attributes;
  return decodeAttributes(result.rawAttributes.filter((a) => !PROTOCOL_ONLY.has(a.type)));
}

/** Builds the {@link RadiusProfile} of an Access-Accept. */
export function buildProfile(username: string, result: AcceptResult): RadiusProfile {
  return {
    provider: 'radius',
    username,
    server: result.server,
    attributes: userAttributes(result),
    class: result.rawAttributes.filter((a) => a.type === Attr.Class).map((a) => Buffer.from(a.value)),
    filterId: result.rawAttributes.filter((a) => a.type === Attr.FilterId).map((a) => a.value.toString('utf8')),
    sessionTimeout: uint32(result, Attr.SessionTimeout),
    idleTimeout: uint32(result, Attr.IdleTimeout),
    replyMessage: result.replyMessage,
  };
}
