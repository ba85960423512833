/**
 * Accounting-Request packets (RFC 2866): the attribute values this project sends and the Request
 * Authenticator, which in accounting is not random but an MD5 over the packet and the shared secret
 * (RFC 2866 §3). Byte-exact; the reply is verified by `verifyReply` in ./packet like any other reply
 * (the Response Authenticator has the same form, RFC 2866 §3).
 *
 * @internal
 */
import { createHash } from 'node:crypto';
import { Attr, Code, HEADER_LENGTH, MAX_PACKET_LENGTH, encodeAttribute } from './packet';

/** Attribute types of accounting (RFC 2866 §5, RFC 2869 §5.3) and Calling-Station-Id (RFC 2865 §5.31). */
export const AcctAttr = {
  Class: 25,
  CallingStationId: 31,
  AcctStatusType: 40,
  AcctDelayTime: 41,
  AcctSessionId: 44,
  AcctAuthentic: 45,
  AcctSessionTime: 46,
  AcctTerminateCause: 49,
  EventTimestamp: 55,
} as const;

/** Acct-Status-Type values sent (RFC 2866 §5.1). */
export const ACCT_STATUS_TYPE = { Start: 1, Stop: 2, 'Interim-Update': 3 } as const;

/** Acct-Status-Type names this project sends. */
export type AcctStatusType = keyof typeof ACCT_STATUS_TYPE;

/** Acct-Terminate-Cause values accepted for a Stop (RFC 2866 §5.10). */
export const ACCT_TERMINATE_CAUSE = { 'User-Request': 1, 'Idle-Timeout': 4, 'Session-Timeout': 5, 'Admin-Reset': 6 } as const;

/** Acct-Terminate-Cause names accepted for a Stop. */
export type AcctTerminateCause = keyof typeof ACCT_TERMINATE_CAUSE;

/** Acct-Authentic RADIUS (RFC 2866 §5.6): the user was authenticated by RADIUS. */
const ACCT_AUTHENTIC_RADIUS = 1;

/** The attribute types this builder writes itself: configured attributes of these types are left out. */
const ACCOUNTING_OWN_TYPES: ReadonlySet<number> = new Set([
  AcctAttr.AcctStatusType,
  AcctAttr.AcctDelayTime,
  AcctAttr.AcctSessionId,
  AcctAttr.AcctAuthentic,
  AcctAttr.AcctSessionTime,
  AcctAttr.AcctTerminateCause,
  AcctAttr.EventTimestamp,
]);

function integer(type: number, value: number): Buffer {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(Math.max(0, Math.min(0xffff_ffff, Math.floor(value))), 0);
  return encodeAttribute(type, v);
}

/** What one Accounting-Request says, before framing. */
export interface AccountingFields {
  /** Start, Stop or Interim-Update. */
  statusType: AcctStatusType;
  /** Acct-Session-Id, the same in every record of one session (RFC 2866 §5.5). 1 to 253 bytes. */
  sessionId: string;
  /** User-Name as it was signed in (RFC 2866 §4.1). 1 to 253 bytes. */
  username: string;
  /** Seconds the record has waited to be sent (Acct-Delay-Time, RFC 2866 §5.2). */
  delaySeconds: number;
  /** When the event happened, epoch seconds (Event-Timestamp, RFC 2869 §5.3). */
  eventTimestamp: number;
  /** Seconds signed in (Acct-Session-Time, RFC 2866 §5.7), for Stop and Interim-Update. */
  sessionTime?: number;
  /** Why the session ended (Acct-Terminate-Cause, RFC 2866 §5.10), for Stop. */
  terminateCause?: AcctTerminateCause;
  /** Calling-Station-Id (RFC 2865 §5.31): the browser's IP address. */
  callingStationId?: string;
  /** Class values of the Access-Accept, echoed unmodified, in order (RFC 2865 §5.25). */
  classes?: readonly Buffer[];
  /** The server's configured attributes (NAS-Identifier …), already encoded. */
  nasAttributes: Buffer;
}

/**
 * Encodes the attributes of an Accounting-Request: Acct-Status-Type, Acct-Session-Id, User-Name, the
 * configured NAS attributes (without any Acct-* or Event-Timestamp, which are written here),
 * Calling-Station-Id (unless configured), the Class values, Acct-Authentic RADIUS, Acct-Session-Time, Acct-Terminate-Cause, Event-Timestamp, Acct-Delay-Time.
 * Throws `RangeError` for a value over 253 bytes.
 */
export function encodeAccountingAttributes(fields: AccountingFields): Buffer {
  const parts: Buffer[] = [
    integer(AcctAttr.AcctStatusType, ACCT_STATUS_TYPE[fields.statusType]),
    encodeAttribute(AcctAttr.AcctSessionId, Buffer.from(fields.sessionId, 'utf8')),
    encodeAttribute(Attr.UserName, Buffer.from(fields.username, 'utf8')),
  ];
  const nas = fields.nasAttributes;
  let configuredCallingStation = false;
  for (let offset = 0; offset + 1 < nas.length; offset += nas[offset + 1]!) {
    const type = nas[offset]!;
    if (type === AcctAttr.CallingStationId) configuredCallingStation = true;
    if (!ACCOUNTING_OWN_TYPES.has(type)) parts.push(nas.subarray(offset, offset + nas[offset + 1]!));
  }
  // A configured Calling-Station-Id wins over the browser's address (as in the Access-Request).
  if (fields.callingStationId && !configuredCallingStation) parts.push(encodeAttribute(AcctAttr.CallingStationId, Buffer.from(fields.callingStationId, 'utf8')));
  for (const value of fields.classes ?? []) parts.push(encodeAttribute(AcctAttr.Class, value));
  parts.push(integer(AcctAttr.AcctAuthentic, ACCT_AUTHENTIC_RADIUS));
  if (fields.sessionTime !== undefined) parts.push(integer(AcctAttr.AcctSessionTime, fields.sessionTime));
  if (fields.terminateCause !== undefined) parts.push(integer(AcctAttr.AcctTerminateCause, ACCT_TERMINATE_CAUSE[fields.terminateCause]));
  parts.push(integer(AcctAttr.EventTimestamp, fields.eventTimestamp));
  parts.push(integer(AcctAttr.AcctDelayTime, fields.delaySeconds));
  return Buffer.concat(parts);
}

/**
 * Frames an Accounting-Request (Code 4) and computes its Request Authenticator (RFC 2866 §3):
 * MD5(Code ‖ Identifier ‖ Length ‖ 16 zero octets ‖ attributes ‖ shared secret). No Message-Authenticator:
 * RFC 2866 has none, and the Request Authenticator already covers every byte with the secret.
 * Throws `RangeError` past 4096 bytes.
 */
export function encodeAccountingRequest(identifier: number, attributes: Buffer, secret: Buffer): { packet: Buffer; requestAuthenticator: Buffer } {
  const length = HEADER_LENGTH + attributes.length;
  if (length > MAX_PACKET_LENGTH) throw new RangeError(`packet would be ${length} bytes; the limit is 4096`);
  const packet = Buffer.alloc(length);
  packet[0] = Code.AccountingRequest;
  packet[1] = identifier;
  packet.writeUInt16BE(length, 2);
  attributes.copy(packet, HEADER_LENGTH);
  const requestAuthenticator = createHash('md5').update(packet).update(secret).digest();
  requestAuthenticator.copy(packet, 4);
  return { packet, requestAuthenticator };
}
