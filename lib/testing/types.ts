/**
 * The public shapes of {@link RadiusTestServer}: options, what it reports it received, why it dropped a
 * datagram, its events.
 *
 * @packageDocumentation
 */
import type { RawAttribute } from '../protocol/packet';
import type { Faults } from './faults';
import type { RadiusHandler } from './handler';
import type { TestUser } from './users';

/** Options of {@link RadiusTestServer}. */
export interface RadiusTestServerOptions {
  /** The shared secret: a non-empty string (used as UTF-8) or Buffer. Required. */
  secret: string | Buffer;
  /**
   * Users by User-Name, decided by a {@link UsersHandler}. Default none (every Access-Request is rejected).
   * Not together with `handler`.
   */
  users?: Record<string, TestUser>;
  /**
   * What decides each authentic Access-Request: a {@link RadiusHandler}, e.g. a vendor profile such as
   * `new DuoProfile({...})`. Default: a {@link UsersHandler} over `users`.
   */
  handler?: RadiusHandler;
  /**
   * IP address to bind: IPv4 or IPv6 (e.g. `'::1'`, served over udp6 only). Host names are not accepted.
   * With a wildcard (`'0.0.0.0'`, `'::'`) {@link RadiusTestServer.address} names the wildcard; give clients a
   * concrete address instead. Default `'127.0.0.1'`.
   */
  host?: string;
  /** UDP port to bind, 0 to 65535. Default 0: an ephemeral port, see {@link RadiusTestServer.port} after `listen()`. */
  port?: number;
  /** Put a Message-Authenticator first in every reply (RFC 3579 §3.2). Default `true`. */
  signReplies?: boolean;
  /**
   * Drop Access-Requests that carry no Message-Authenticator. One that is present is always verified and
   * the request dropped when it is wrong. Status-Server always requires one (RFC 5997 §3). Default `true`.
   */
  requireMessageAuthenticator?: boolean;
  /** Answer Status-Server (RFC 5997) with an Access-Accept signed with a Message-Authenticator. Default `true`. */
  statusServer?: boolean;
  /** How long an issued Access-Challenge can be answered, in milliseconds (with `users`). Default 300000 (5 minutes). */
  challengeExpiryMs?: number;
  /** Fault injection switches; default none. */
  faults?: Faults;
}

/** Where {@link RadiusTestServer.listen} bound. */
export interface ListenInfo {
  /** The bound IP address, e.g. `'127.0.0.1'` or `'::1'`. */
  host: string;
  /** The bound UDP port. */
  port: number;
  /** `'host:port'`, or `'[v6]:port'` for IPv6: usable as a client's server `address`. */
  address: string;
}

/** A request as the server saw it, kept in {@link RadiusTestServer.received} in arrival order. */
export interface ReceivedRequest {
  /** Packet code (1 Access-Request, 12 Status-Server). */
  code: number;
  /** The request's Identifier (0 to 255). */
  identifier: number;
  /** The Request Authenticator (16 bytes). */
  authenticator: Buffer;
  /** Attributes in wire order (copies). */
  attributes: RawAttribute[];
  /** The packet bytes up to its Length field (a copy). */
  raw: Buffer;
  /** User-Name as UTF-8, when present. */
  username?: string;
  /** The State attribute's value, byte for byte, when present. */
  state?: Buffer;
  /** The User-Password unhidden with the shared secret (RFC 2865 §5.2) as UTF-8, when present and well-formed. */
  password?: string;
  /** True when the request carried a CHAP-Password (RFC 2865 §5.3). */
  chap?: boolean;
  /** True when the first attribute is a Message-Authenticator (RFC 3579 §3.2, as BlastRADIUS mitigations require). */
  hasMessageAuthenticatorFirst: boolean;
  /** The sender's address and port. */
  from: { address: string; port: number };
}

/**
 * Why the server sent nothing for a datagram (payload of the `'dropped'` event, keys of
 * {@link RadiusTestServer.drops}):
 *
 * - `'malformed'`: bad framing (RFC 2865 §3, §5), or more than one / a wrong-sized Message-Authenticator.
 * - `'unsupported-code'`: not an Access-Request (1) or Status-Server (12).
 * - `'missing-message-authenticator'` / `'bad-message-authenticator'`: RFC 3579 §3.2, RFC 5997 §3.
 * - `'status-server-disabled'`: a Status-Server while `statusServer` is false.
 * - `'fault-drop-first'`: the `dropFirst` fault.
 * - `'send-failed'`: the reply could not be sent (socket error).
 * - `'in-progress'`: a retransmission of a request the handler is still deciding (a held push), dropped as
 *   RFC 5080 §2.2.2 asks so that one sign-in never becomes two decisions.
 * - `'no-reply'`: the handler decided to send nothing.
 * - `'internal-error'`: a bug in the server or its handler (it is swallowed, never thrown).
 */
export type TestServerDropReason =
  | 'malformed'
  | 'unsupported-code'
  | 'missing-message-authenticator'
  | 'bad-message-authenticator'
  | 'status-server-disabled'
  | 'fault-drop-first'
  | 'in-progress'
  | 'no-reply'
  | 'send-failed'
  | 'internal-error';

/** Events of {@link RadiusTestServer}. */
export interface RadiusTestServerEvents {
  /** A well-formed Access-Request or Status-Server arrived (emitted before it is checked or answered). */
  request: [ReceivedRequest];
  /** A reply was handed to the socket (once per reply, however many datagrams the faults turn it into); `identifier` is the one written in the reply. */
  reply: [{ code: number; identifier: number }];
  /** A datagram got no reply. */
  dropped: [{ reason: TestServerDropReason }];
}

