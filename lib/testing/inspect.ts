/**
 * What the test server reads from a request before any decision: the record kept in `received`, the
 * unhidden User-Password and the Message-Authenticator check.
 *
 * @internal
 */
import type { RemoteInfo } from 'node:dgram';
import {
  Attr,
  HEADER_LENGTH,
  MAX_PASSWORD_LENGTH,
  bytesEqual,
  replyMessageAuthenticator,
  unhidePassword,
  type ParsedPacket,
} from '../protocol/packet';
import type { ReceivedRequest } from './types';

/** The unhidden User-Password (RFC 2865 §5.2), or undefined when absent or not 16 to 128 bytes in 16-byte blocks. */
export function papPassword(packet: ParsedPacket, secret: Buffer): Buffer | undefined {
  const hidden = packet.attributes.find((a) => a.type === Attr.UserPassword)?.value;
  if (!hidden || hidden.length < 16 || hidden.length > MAX_PASSWORD_LENGTH || hidden.length % 16 !== 0) return undefined;
  return unhidePassword(hidden, secret, packet.authenticator);
}

/** The {@link ReceivedRequest} record of a request (copies of its bytes). */
export function describeRequest(packet: ParsedPacket, rinfo: RemoteInfo, secret: Buffer): ReceivedRequest {
  const attributes = packet.attributes.map((a) => ({ type: a.type, value: Buffer.from(a.value) }));
  const entry: ReceivedRequest = {
    code: packet.code,
    identifier: packet.identifier,
    authenticator: Buffer.from(packet.authenticator),
    attributes,
    raw: Buffer.from(packet.bytes),
    hasMessageAuthenticatorFirst: attributes[0]?.type === Attr.MessageAuthenticator,
    from: { address: rinfo.address, port: rinfo.port },
  };
  const user = attributes.find((a) => a.type === Attr.UserName);
  if (user) entry.username = user.value.toString('utf8');
  const state = attributes.find((a) => a.type === Attr.State);
  if (state) entry.state = Buffer.from(state.value);
  const password = papPassword(packet, secret);
  if (password) entry.password = password.toString('utf8');
  if (attributes.some((a) => a.type === Attr.ChapPassword)) entry.chap = true;
  return entry;
}

/** Verifies a request's Message-Authenticator (RFC 3579 §3.2): HMAC-MD5 over the request with its value zeroed. */
export function checkMessageAuthenticator(packet: ParsedPacket, secret: Buffer): 'absent' | 'ok' | 'bad' | 'malformed' {
  let valueOffset = -1;
  let offset = HEADER_LENGTH;
  for (const attribute of packet.attributes) {
    if (attribute.type === Attr.MessageAuthenticator) {
      if (valueOffset !== -1 || attribute.value.length !== 16) return 'malformed';
      valueOffset = offset + 2;
    }
    offset += 2 + attribute.value.length;
  }
  if (valueOffset === -1) return 'absent';
  // For a request the "Request Authenticator" in the HMAC input is the packet's own authenticator field.
  const expected = replyMessageAuthenticator(packet.bytes, valueOffset, packet.authenticator, secret);
  return bytesEqual(expected, packet.bytes.subarray(valueOffset, valueOffset + 16)) ? 'ok' : 'bad';
}
