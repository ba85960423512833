/**
 * One Access-Request exchange as the transport needs it ({@link ExchangeRequest}): the packet built by the
 * one builder for the Identifier the transport chose, and each transmission counted and reported. One
 * object per exchange instead of a closure per callback.
 *
 * @internal
 */
import createDebug from 'debug';
import type { ServerRuntime } from './pool';
import { buildAccessRequest, type AccessRequestParts } from './request';
import { ACCESS_REPLY_CODES } from './result';
import type { ExchangeRequest } from './transport';

const debug = createDebug('passport-radius:client');

/** One Access-Request exchange with one server (see the module notes). */
export class AccessExchange implements ExchangeRequest {
  /** The server's shared secret (verifies the reply). */
  readonly secret: Buffer;
  /** Drop replies without a valid Message-Authenticator (the server's option). */
  readonly requireMessageAuthenticator: boolean;
  /** Access-Accept, -Reject, -Challenge. */
  readonly expectCodes = ACCESS_REPLY_CODES;
  /** The server's `timeout` (ms). */
  readonly timeout: number;
  /** The server's `retries`. */
  readonly retries: number;
  /** `performance.now()` when the request went out (set by the client). */
  startedAt = 0;

  /**
   * @param events - told of each transmission (`'request'`).
   * @param runtime - the server.
   * @param username - the User-Name as text, for events and debug lines.
   * @param parts - what the one builder puts in the packet.
   */
  constructor(
    private readonly events: { emit(name: 'request', payload: { server: string; username: string; attempt: number }): boolean },
    readonly runtime: ServerRuntime,
    readonly username: string,
    private readonly parts: AccessRequestParts,
  ) {
    const { config } = runtime;
    this.secret = config.secret;
    this.requireMessageAuthenticator = config.requireMessageAuthenticator;
    this.timeout = config.timeout;
    this.retries = config.retries;
  }

  /** Builds the packet for `identifier` (called once by the transport). */
  build(identifier: number): { packet: Buffer; requestAuthenticator: Buffer } {
    return buildAccessRequest(this.parts, identifier);
  }

  /** Counts and reports transmission `attempt` (from 1). */
  onSend(attempt: number): void {
    const name = this.runtime.config.name;
    if (attempt > 1) this.runtime.status.counters.retransmissions++;
    if (debug.enabled) debug('%s: Access-Request for %o, transmission %d', name, this.username, attempt);
    this.events.emit('request', { server: name, username: this.username, attempt });
  }
}
