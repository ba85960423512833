/**
 * Why a RADIUS/TLS connection failed, in words an operator can act on: Node's socket and TLS error codes
 * (and a server that hangs up right after the handshake) mapped to a {@link TlsFailureReason}. Used by the
 * TLS transport for `ServerAttempt.detail` and by `probe()` for its reason and message.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

/**
 * Why a TLS connection to a server did not carry a reply:
 *
 * - `'connection-refused'`: nothing listens there (TCP refused, host or network unreachable).
 * - `'unknown-ca'`: the server's certificate is not signed by a CA in `tls.ca`.
 * - `'name-mismatch'`: the server's certificate does not name `tls.servername` (or the host of `address`)
 *   among its subject alternative names.
 * - `'expired-certificate'`: the server's certificate has expired (or is not valid yet).
 * - `'client-certificate-refused'`: the server did not accept this client: it refused the client
 *   certificate (or PSK), asked for one that was not given, or hung up right after the handshake (which
 *   FreeRADIUS also does for a client address missing from its `clients` section).
 * - `'handshake-failure'`: the TLS handshake failed otherwise (no common version or cipher suite, not TLS
 *   at that port, a wrong PSK).
 */
export type TlsFailureReason =
  | 'connection-refused'
  | 'unknown-ca'
  | 'name-mismatch'
  | 'expired-certificate'
  | 'client-certificate-refused'
  | 'handshake-failure';

/** A failed connection: the reason, and what Node said (an error code, or how the connection ended). */
export interface TlsFailure {
  /** See {@link TlsFailureReason}. */
  reason: TlsFailureReason;
  /** Node's error code (e.g. `'SELF_SIGNED_CERT_IN_CHAIN'`), or `'closed after handshake'`. */
  code: string;
}

const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ETIMEDOUT', 'EADDRNOTAVAIL']);
const UNKNOWN_CA = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'INVALID_CA',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
/** TLS alerts a server sends when it does not accept the client's certificate (RFC 8446 §6.2). */
const CLIENT_REFUSED = /ALERT_(?:CERTIFICATE_REQUIRED|UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|ACCESS_DENIED)$/;

/**
 * Maps a connection's end to a reason. `error` is the socket's error (undefined when it just closed);
 * `handshakeDone` whether the TLS handshake had completed on the client side (with TLS 1.3 the server
 * judges the client certificate after that).
 */
export function classifyTlsFailure(error: Error | undefined, handshakeDone: boolean): TlsFailure {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || code === 'ECONNRESET' || code === 'EPIPE') {
    return handshakeDone
      ? { reason: 'client-certificate-refused', code: code ?? 'closed after handshake' }
      : { reason: 'handshake-failure', code: code ?? 'closed during handshake' };
  }
  if (REFUSED.has(code)) return { reason: 'connection-refused', code };
  if (UNKNOWN_CA.has(code)) return { reason: 'unknown-ca', code };
  if (EXPIRED.has(code)) return { reason: 'expired-certificate', code };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { reason: 'name-mismatch', code };
  if (CLIENT_REFUSED.test(code) || code === 'ERR_SSL_BAD_PSK' || code.endsWith('ALERT_UNKNOWN_PSK_IDENTITY')) return { reason: 'client-certificate-refused', code };
  return { reason: 'handshake-failure', code };
}

/** One line on what a {@link TlsFailure} means and what to check; holds no key or secret. */
export function explainTlsFailure(failure: TlsFailure, where: string): string {
  switch (failure.reason) {
    case 'connection-refused':
      return `${where} refused the TCP connection (${failure.code}): nothing listens there — check the port (RADIUS over TLS is TCP 2083) and that the RadSec listener runs`;
    case 'unknown-ca':
      return `${where} presented a certificate not signed by a trusted CA (${failure.code}): set tls.ca to the CA that signed the server's certificate`;
    case 'name-mismatch':
      return `${where} presented a certificate for another name (${failure.code}): set tls.servername to a name in its subject alternative names, or reissue the certificate`;
    case 'expired-certificate':
      return `${where} presented an expired (or not yet valid) certificate (${failure.code}): renew the server's certificate or check this machine's clock`;
    case 'client-certificate-refused':
      return (
        `${where} did not accept this client (${failure.code}): check that tls.cert is signed by a CA the server trusts ` +
        '(or the PSK), and that this address is in the server\'s clients with proto = tls'
      );
    default:
      return `${where}: the TLS handshake failed (${failure.code}): check that the port speaks RADIUS over TLS, TLS 1.2 or 1.3, and the PSK if one is used`;
  }
}

/** Checks the server certificate against `name` (DNS name or IP address SAN); an Error when it does not match. */
export function checkIdentity(name: string, cert: PeerCertificate): Error | undefined {
  return checkServerIdentity(name, cert);
}

/** `probe()` failure reasons for RADIUS over TLS (see `ProbeFailureReason`). */
export type TlsProbeFailureReason = 'tls-unknown-ca' | 'tls-name-mismatch' | 'tls-expired-certificate' | 'tls-client-certificate-refused' | 'tls-handshake-failure';

/** The `probe()` reason and message for a failed TLS connection; a refused one is `'unreachable'`. */
export function tlsProbeFailure(failure: TlsFailure, where: string): { reason: TlsProbeFailureReason | 'unreachable'; message: string } {
  return {
    reason: failure.reason === 'connection-refused' ? 'unreachable' : `tls-${failure.reason}`,
    message: explainTlsFailure(failure, where),
  };
}
