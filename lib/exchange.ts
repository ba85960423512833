/**
 * What one exchange with a RADIUS server takes and gives (CONTRACTS.md item 2): the request, the verified
 * reply, the error with its reason. Shared by the UDP transport (lib/transport.ts) and RadSec.
 *
 * @internal
 */
import type { DropReason } from './errors';
import type { ParsedPacket } from './protocol/packet';


/** Drop counts by reason. */
export type DropCounts = Partial<Record<DropReason, number>>;

/** What one exchange needs. */
export interface ExchangeRequest {
  /** Builds the packet for the Identifier the transport chose; called once (over TLS, once per connection tried). */
  build(identifier: number): { packet: Buffer; requestAuthenticator: Buffer };
  /** The shared secret, for verifying replies. */
  secret: Buffer;
  /** Drop replies without a Message-Authenticator (RFC 3579 §3.2). */
  requireMessageAuthenticator: boolean;
  /** Packet codes accepted as a reply (e.g. Access-Accept, -Reject, -Challenge). */
  expectCodes: readonly number[];
  /** Total wait for a valid reply, in milliseconds. */
  timeout: number;
  /** Retransmissions within `timeout`, spaced evenly. */
  retries: number;
  /** Called before each transmission; `attempt` counts from 1. */
  onSend?(attempt: number): void;
}

/** A verified reply. */
export interface ExchangeResult {
  /** The reply, after framing, Response Authenticator and Message-Authenticator checks passed. */
  packet: ParsedPacket;
  /** Milliseconds from the first transmission to the verified reply. */
  rttMs: number;
  /** Datagrams dropped while this request waited. */
  dropped: DropCounts;
}

/**
 * Why an exchange ended without a verified reply: `timeout` (nothing valid within `timeout` ms),
 * `unreachable` (ICMP error such as port unreachable; over TLS, TCP refused), `socket` (another socket
 * error), `closed` ({@link Destination.close} was called); over TLS also `tls` (handshake or certificate,
 * see lib/tls/failure.ts) and `protocol-error` (a Protocol-Error reply, RFC 7930 §4).
 */
export class ExchangeError extends Error {
  /**
   * @param reason - why the exchange ended (see above).
   * @param dropped - datagrams dropped while the request waited, by reason.
   * @param detail - the socket error code, e.g. `'ECONNREFUSED'`, when there is one.
   */
  constructor(
    readonly reason: 'timeout' | 'unreachable' | 'socket' | 'closed' | 'tls' | 'protocol-error',
    readonly dropped: DropCounts,
    readonly detail?: string,
  ) {
    super(`RADIUS exchange failed: ${reason}${detail ? ` (${detail})` : ''}`);
    this.name = 'ExchangeError';
  }
}
