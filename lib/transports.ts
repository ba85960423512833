/**
 * The one place where the client creates a transport for a server (CONTRACTS.md item 2): UDP
 * (lib/transport.ts `Destination`) or RADIUS over TLS, RadSec (RFC 6614; lib/transport-tls.ts), by the
 * server's `transport` option.
 *
 * @internal
 */
import type { DropReason } from './errors';
import type { NormalizedServer } from './options';
import { Destination, type ExchangeRequest, type ExchangeResult } from './transport';
import { TlsDestination } from './transport-tls';

/** What the client needs of a transport to one server address. */
export interface Transport {
  /**
   * Sends a request and waits for a verified reply; rejects with `ExchangeError` (`timeout`,
   * `unreachable`, `socket`, `closed`; over TLS also `tls` and `protocol-error`). Never rejects for a bad datagram: those are dropped and counted.
   */
  exchange(request: ExchangeRequest): Promise<ExchangeResult>;
  /** Fails whatever is pending with `closed` and closes the sockets; resolves once they have closed. */
  close(): Promise<void>;
  /** Requests currently in flight. */
  readonly inFlight: number;
}

/**
 * Creates the transport to `server` at `ip` (the server's address, resolved). Each call makes a new one
 * with its own sockets (the health watchdog relies on that for a fresh source port).
 *
 * @param server - the validated server (its options choose the kind of transport).
 * @param ip - the IP address to talk to.
 * @param onDrop - told of every dropped datagram, by reason.
 * @param port - the port to talk to: the server's `port` unless given (its `accountingPort` for accounting).
 * @param onKernelDrops - told how many more datagrams the kernel dropped (receive buffer full) when the
 *   transport finds some (UDP only).
 * @param onWatchdog - told of each connection watchdog's outcome (TLS only; see `TlsDestinationOptions`).
 */
export function createTransport(
  server: NormalizedServer,
  ip: string,
  onDrop: (reason: DropReason) => void,
  port = server.port,
  onKernelDrops?: (count: number) => void,
  onWatchdog?: (answered: boolean) => void,
): Transport {
  if (server.transport === 'tls' && server.tls) {
    return new TlsDestination({
      host: ip,
      port,
      tls: server.tls,
      secret: server.secret,
      requireMessageAuthenticator: server.requireMessageAuthenticator,
      attributes: server.attributes,
      watchdogTimeout: server.timeout,
      onDrop,
      ...(onWatchdog ? { onWatchdog } : {}),
    });
  }
  return new Destination(ip, port, onDrop, onKernelDrops);
}
