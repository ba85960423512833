/**
 * RADIUS packets written by hand for tests that play the other side of the wire: the attributes of a
 * PAP Access-Request, and a server's signed reply to a raw request. Built with lib/protocol's encoders,
 * whose bytes test/codec.unit.test.ts checks against independently computed vectors.
 */
import { Attr, Code, encodeAttribute, hidePassword } from '../../lib/protocol/packet';
import { encodeReply } from '../../lib/testing/reply';

/**
 * User-Name, User-Password (hidden with the shared secret and the Request Authenticator, RFC 2865 §5.2)
 * and NAS-Identifier: the attributes of a PAP Access-Request.
 */
export function papAttributes(username: string, password: string, secret: Buffer, requestAuthenticator: Buffer, nasIdentifier: string): Buffer[] {
  return [
    encodeAttribute(Attr.UserName, Buffer.from(username)),
    encodeAttribute(Attr.UserPassword, hidePassword(Buffer.from(password), secret, requestAuthenticator)),
    encodeAttribute(Attr.NasIdentifier, Buffer.from(nasIdentifier)),
  ];
}

/**
 * A server's reply to the raw `request` (same Identifier), signed as FreeRADIUS signs it: Message-Authenticator
 * first (RFC 3579 §3.2), then the Response Authenticator (RFC 2865 §3).
 */
export function signedReply(request: Buffer, secret: Buffer, code: number = Code.AccessAccept, attributes: Buffer[] = []): Buffer {
  return encodeReply({ code, identifier: request[1]!, requestAuthenticator: request.subarray(4, 20), attributes, secret, messageAuthenticator: 'valid' });
}
