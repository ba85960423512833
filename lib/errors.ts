/**
 * Errors raised by passport-radius.
 *
 * Every error is a {@link RadiusError} with a stable string {@link RadiusErrorCode} in `code`, so callers
 * can branch without parsing messages. No error message ever contains a password, a challenge response
 * (code), a shared secret or a State.
 *
 * @packageDocumentation
 */

/**
 * Stable codes carried by {@link RadiusError.code}.
 *
 * - `'ERR_RADIUS_UNAVAILABLE'`: no server gave a valid reply — none answered in time, or each was
 *   unreachable, did not resolve or failed otherwise ({@link RadiusUnavailableError}; was `'ERR_RADIUS_TIMEOUT'`).
 * - `'ERR_RADIUS_CLOSED'`: the client was closed while the request was pending ({@link RadiusClosedError}).
 * - `'ERR_RADIUS_CONFIG'`: a value given at run time (not construction) is not usable, e.g. an unknown
 *   server name passed to `authenticate` ({@link RadiusConfigError}).
 * - `'ERR_RADIUS_SESSION'`: the strategy needs `req.session` and there is none ({@link RadiusSessionError}).
 */
export type RadiusErrorCode = 'ERR_RADIUS_UNAVAILABLE' | 'ERR_RADIUS_CLOSED' | 'ERR_RADIUS_CONFIG' | 'ERR_RADIUS_SESSION';

/**
 * Base class of every error passport-radius raises at run time (bad options at construction raise a
 * plain `TypeError` instead).
 */
export class RadiusError extends Error {
  /** Stable machine-readable code; see {@link RadiusErrorCode}. */
  readonly code: RadiusErrorCode;

  /**
   * @param message - human-readable text; never holds secrets, passwords, codes or States.
   * @param code - the stable code.
   * @param options - `cause`, the underlying error if any.
   */
  constructor(message: string, code: RadiusErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RadiusError';
    this.code = code;
  }
}

/**
 * Why one server gave no usable reply, as reported in {@link RadiusUnavailableError.attempts}.
 *
 * - `server`: the server's configured name.
 * - `reason`: `'timeout'` (no valid reply within `timeout` ms), `'unreachable'` (ICMP port unreachable over
 *   UDP; over TLS the TCP connection refused, or no route to the host: nothing listening), `'dns'` (the host name did not resolve), `'socket'` (another
 *   socket error), `'tls'` (RADIUS over TLS: the handshake or a certificate failed; `detail` starts with the
 *   `TlsFailureReason`, e.g. `'unknown-ca (SELF_SIGNED_CERT_IN_CHAIN)'`), `'protocol-error'` (the server
 *   answered Protocol-Error, RFC 7930 §4; `detail` holds its Error-Cause).
 * - `dropped`: replies that arrived but were dropped, counted by reason (see {@link DropReason}).
 * - `detail`: extra text, e.g. the DNS error code.
 * - `transport`: how the client talked to the server, `'udp'` or `'tls'` (RadSec); the error's wording
 *   follows it.
 */
export interface ServerAttempt {
  /** The server's configured name. */
  server: string;
  /** Why no usable reply came: `'timeout'`, `'unreachable'`, `'dns'`, `'socket'`, `'tls'` or `'protocol-error'` (see above). */
  reason: 'timeout' | 'unreachable' | 'dns' | 'socket' | 'tls' | 'protocol-error';
  /** Datagrams dropped while waiting for this server, counted by {@link DropReason}. */
  dropped: Partial<Record<DropReason, number>>;
  /** Extra text, e.g. the DNS or socket error code (`'ENOTFOUND'`, `'ECONNREFUSED'`); absent when none. */
  detail?: string;
  /** The server's `transport`: `'udp'` or `'tls'` (RADIUS over TLS). Set by the client; absent is read as `'udp'`. */
  transport?: 'udp' | 'tls';
}

/**
 * Why a received datagram was dropped rather than taken as the reply (RFC 2865 §3, RFC 3579 §3.2,
 * RFC 5080 §2.2.2). Two of them are authentic replies that came when nothing waited for them:
 * `'duplicate'`, a second reply to a request already answered (the server answered a retransmission
 * too), and `'late'`, a reply to a request that had timed out or failed (and maybe failed over): a
 * server slower than `timeout`.
 */
export type DropReason =
  | 'wrong-source'
  | 'unknown-identifier'
  | 'duplicate'
  | 'late'
  | 'malformed'
  | 'bad-response-authenticator'
  | 'missing-message-authenticator'
  | 'bad-message-authenticator'
  | 'unexpected-code';

/** Per reason: how one dropped reply is described, and how several are. */
const dropText: Record<DropReason, [one: string, many: string]> = {
  'wrong-source': ['reply came from an unexpected address', 'replies came from an unexpected address'],
  'unknown-identifier': ['reply carried an unknown Identifier', 'replies carried an unknown Identifier'],
  duplicate: ['reply was a second reply to a request already answered', 'replies were second replies to requests already answered'],
  late: [
    'reply came after its request had timed out or failed (a slow server?)',
    'replies came after their requests had timed out or failed (a slow server?)',
  ],
  malformed: ['reply was malformed', 'replies were malformed'],
  'bad-response-authenticator': [
    'reply failed verification of the Response Authenticator (check the shared secret)',
    'replies failed verification of the Response Authenticator (check the shared secret)',
  ],
  'missing-message-authenticator': [
    'reply lacked a Message-Authenticator (the server must sign replies, or set requireMessageAuthenticator: false)',
    'replies lacked a Message-Authenticator (the server must sign replies, or set requireMessageAuthenticator: false)',
  ],
  'bad-message-authenticator': [
    'reply failed verification of the Message-Authenticator (check the shared secret)',
    'replies failed verification of the Message-Authenticator (check the shared secret)',
  ],
  'unexpected-code': ['reply had an unexpected packet type', 'replies had an unexpected packet type'],
};

/** How each reason starts the sentence of {@link describeAttempt}. */
const attemptHead: Record<ServerAttempt['reason'], string> = {
  timeout: 'no valid reply in time',
  unreachable: 'unreachable (ICMP port unreachable: nothing listening?)',
  dns: 'host name did not resolve',
  socket: 'socket error',
  tls: 'TLS connection failed',
  'protocol-error': 'answered Protocol-Error (RFC 7930)',
};

/** Over TLS (RFC 6614 runs on TCP) there is no ICMP port unreachable: the TCP connection is refused, or finds no route. */
function tcpUnreachable(code: string | undefined): string {
  return code === 'ECONNREFUSED'
    ? 'unreachable (TCP connection refused: nothing listening?)'
    : 'unreachable (no TCP connection: host or network unreachable?)';
}

/** Describes one {@link ServerAttempt} in a sentence, for logs and error messages. */
export function describeAttempt(attempt: ServerAttempt): string {
  const tls = attempt.transport === 'tls';
  const head = tls && attempt.reason === 'unreachable' ? tcpUnreachable(attempt.detail) : attemptHead[attempt.reason];
  let text = `${attempt.server}: ${head}`;
  if (attempt.detail) text += ` (${attempt.detail})`;
  const drops = Object.entries(attempt.dropped).filter(([, n]) => (n ?? 0) > 0);
  if (attempt.reason === 'timeout' && drops.length === 0) {
    text += tls
      ? ' (no reply at all: check the address and port (RADIUS over TLS is TCP 2083), a firewall on TCP, that this app is' +
        ' a TLS client of the server (FreeRADIUS: proto = tls), that a proxy in between (radsecproxy) reaches its home' +
        ' server, and the shared secret (radsec unless both sides set another): servers silently drop requests they cannot verify)'
      : ' (no reply at all: check the address and port, a firewall on UDP, that this app is registered as a client' +
        ' (NAS) of the server, and the shared secret: servers silently drop requests they cannot verify)';
  }
  if (drops.length > 0) {
    text += '; ' + drops.map(([reason, n]) => `${n} ${dropText[reason as DropReason][n === 1 ? 0 : 1]}`).join(', ');
  }
  return text;
}

/**
 * No server gave a valid reply (RFC 2865 §2.4: the client gives up after its retransmissions): none
 * answered in time, or each was unreachable, did not resolve, or failed otherwise. `attempts` says, per
 * server tried and in order, why. (Was `RadiusTimeoutError`; that name remains a deprecated alias.)
 */
export class RadiusUnavailableError extends RadiusError {
  /** Per server tried, why it gave no usable reply. */
  readonly attempts: readonly ServerAttempt[];

  /** @param attempts - what happened at each server tried, in order. */
  constructor(attempts: readonly ServerAttempt[]) {
    super(
      `No RADIUS server gave a valid reply: ${attempts.map(describeAttempt).join('; ') || 'no server was tried'}`,
      'ERR_RADIUS_UNAVAILABLE',
    );
    this.name = 'RadiusUnavailableError';
    this.attempts = attempts;
  }
}

/**
 * @deprecated Renamed {@link RadiusUnavailableError} (it also covers unreachable servers and DNS
 * failures); the same class, so `instanceof` works with either name. Removed in 1.0.
 */
export const RadiusTimeoutError = RadiusUnavailableError;
/** @deprecated Renamed {@link RadiusUnavailableError}. */
export type RadiusTimeoutError = RadiusUnavailableError;

/** The client (or strategy) was closed while a request was pending, or was used after `close()`. */
export class RadiusClosedError extends RadiusError {
  constructor() {
    super('The RADIUS client was closed', 'ERR_RADIUS_CLOSED');
    this.name = 'RadiusClosedError';
  }
}

/** A value given at run time cannot be used, e.g. a server name that is not configured. */
export class RadiusConfigError extends RadiusError {
  /** @param message - what cannot be used and why; never holds secrets, passwords, codes or States. */
  constructor(message: string) {
    super(message, 'ERR_RADIUS_CONFIG');
    this.name = 'RadiusConfigError';
  }
}

/** The strategy needs session support (`req.session`) for the Access-Challenge flow and found none. */
export class RadiusSessionError extends RadiusError {
  constructor() {
    super(
      'RADIUS authentication requires session support for the Access-Challenge flow. ' +
        'Did you forget to use express-session middleware?',
      'ERR_RADIUS_SESSION',
    );
    this.name = 'RadiusSessionError';
  }
}

/**
 * A server gave no usable reply (or its name did not resolve); carries why. Internal to the failover loops
 * of sign-in (lib/client.ts) and accounting (lib/accounting.ts), which collect the attempts into a
 * {@link RadiusUnavailableError}.
 *
 * @internal
 */
export class AttemptFailure extends Error {
  /** @param attempt - the server and why it gave no usable reply. */
  constructor(readonly attempt: ServerAttempt) {
    super(attempt.reason);
  }
}
