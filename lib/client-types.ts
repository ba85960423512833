/**
 * The public shapes of `RadiusClient`'s arguments and events (lib/client.ts does the work).
 */
import type { AccountingEvents } from './accounting';
import type { DropReason, ServerAttempt } from './errors';
import type { AttributeInput } from './protocol/dictionary';
import type { RadiusWarning } from './warnings';

/**
 * Events of `RadiusClient` (and re-emitted by the strategy), accounting ones included
 * (`accounting`, `accounting-error`, see {@link AccountingEvents}). No payload holds a password, code,
 * secret or State.
 */
export interface RadiusClientEvents extends AccountingEvents {
  /** A packet was transmitted; `attempt` counts from 1 (2 and up are retransmissions). */
  request: [{ server: string; username: string; attempt: number }];
  /** A verified Access-Accept arrived; `rttMs` is milliseconds from the first transmission. */
  accept: [{ server: string; username: string; rttMs: number }];
  /** A verified Access-Reject arrived (failover may follow); `rttMs` in milliseconds. */
  reject: [{ server: string; username: string; rttMs: number }];
  /** A verified Access-Challenge arrived; `rttMs` in milliseconds. */
  challenge: [{ server: string; username: string; rttMs: number }];
  /**
   * A server gave no valid reply to one request (`reason` `'timeout'`, `'unreachable'`, `'dns'`, `'socket'`,
   * or over TLS `'tls'` / `'protocol-error'`). Not by itself a sign that the server is down: see `'server-down'`.
   */
  'no-reply': [{ server: string; username: string; reason: ServerAttempt['reason'] }];
  /** @deprecated Renamed `'no-reply'` (it also covers unreachable servers and DNS failures); still emitted until 1.0. */
  timeout: [{ server: string; username: string; reason: ServerAttempt['reason'] }];
  /** The exchange moves on from one server to the next. */
  failover: [{ from: string; to: string; reason: 'reject' | ServerAttempt['reason'] }];
  /** A server was shown dead (its watchdog went unanswered, or its name did not resolve) and is held down until `until` (epoch ms). */
  'server-down': [{ server: string; reason: string; until: number }];
  /** A held-down server answered again. */
  'server-up': [{ server: string }];
  /** A datagram was dropped (RFC 2865 §3 "silently discarded"). */
  dropped: [{ server: string; reason: DropReason }];
  /**
   * A server's configuration is weak (e.g. a shared secret of 12 octets or less). Emitted on the next tick
   * after construction, so listeners added right after `new` see it; also in `RadiusClient.warnings`.
   */
  warning: [RadiusWarning];
}

/** Arguments of `RadiusClient.authenticate`. */
export interface AuthenticateRequest {
  /** User-Name; 1 to 253 bytes of UTF-8. */
  username: string;
  /** The password; at most 128 bytes of UTF-8. Never logged. */
  password: string;
  /**
   * Names of the servers to try, in order. Default: every configured server, in configured order. An
   * unknown name throws {@link RadiusConfigError}; an empty list rejects with {@link RadiusUnavailableError}.
   */
  servers?: readonly string[];
  /**
   * Extra attributes for this request only: a list of `[name, value]` pairs by dictionary name (e.g.
   * `[['Calling-Station-Id', '192.0.2.7']]`), not an object as a server's `attributes` and the strategy's
   * `requestAttributes` may be — an object throws `TypeError`. Validated like configured ones. A server that
   * configures an attribute of the same name (even as `null`) keeps its own. User-Name, User-Password,
   * CHAP-*, State, Proxy-State and Message-Authenticator are refused.
   */
  attributes?: ReadonlyArray<readonly [string, AttributeInput]>;
}

/** Arguments of `RadiusClient.respond`: the follow-up to an Access-Challenge (RFC 2865 §4.4). */
export interface ChallengeResponseRequest {
  /** The server that issued the challenge; the follow-up goes only there. */
  server: string;
  /** The User-Name of the Access-Request that was challenged (the strategy uses the one saved with the challenge). */
  username: string;
  /** What the user typed (the code); sent as User-Password with PAP hiding whatever the protocol. */
  response: string;
  /** The State from the challenge, copied byte for byte; omit when the challenge had none. */
  state?: Buffer;
  /** Extra attributes for this request only, as `[name, value]` pairs (not an object); see {@link AuthenticateRequest.attributes}. */
  attributes?: ReadonlyArray<readonly [string, AttributeInput]>;
}
