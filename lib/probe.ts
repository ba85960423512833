/**
 * Reachability test for one RADIUS server: is it there, and does it share our secret? Says *why* not.
 *
 * Order of attempts, within the total timeout:
 *
 * 1. **Status-Server** (RFC 5997 §3; code 12, random Request Authenticator, Message-Authenticator first,
 *    plus the server's configured attributes such as NAS-Identifier), one third of the time, not
 *    retransmitted. A verified Access-Accept (or Access-Reject) proves the server is reachable and that the
 *    shared secret is right. FreeRADIUS answers only with `status_server = yes`; otherwise it drops it.
 * 2. **Access-Request** with a Message-Authenticator, for a random user name that cannot exist and a random
 *    password, one third of the time, with the server's retransmissions. A verified Access-Reject (or any
 *    verified reply) proves the same.
 * 3. Only when nothing at all came back: the same **Access-Request without a Message-Authenticator**, for
 *    the last third. Servers silently drop a request whose Message-Authenticator fails (a wrong secret looks
 *    exactly like a closed firewall); a server that does not require one (FreeRADIUS
 *    `require_message_authenticator = no`) answers this one, and a reply whose Response Authenticator fails
 *    proves a wrong secret. No credential is in it: the user name and password are random.
 *
 * A reply that fails verification ends the probe at once with its reason. A reply is never taken for a
 * success unless fully verified (RFC 2865 §3, RFC 3579 §3.2) — the transport does all of that.
 */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import createDebug from 'debug';
import type { DropReason } from './errors';
import { normalizeServer, type NormalizedServer, type RadiusServerOptions } from './options';
import { Attr, Code, chapPassword, encodeAttribute, encodeRequest, hidePassword } from './protocol/packet';
import { Destination, ExchangeError, type DropCounts } from './transport';

const debug = createDebug('passport-radius:probe');

/**
 * Why a probe failed.
 *
 * - `'dns'`: the host name did not resolve.
 * - `'unreachable'`: ICMP port (or host) unreachable: nothing listens on that address and port (also
 *   another socket error; its code is in `detail`).
 * - `'timeout'`: no reply at all (a firewall, the app not registered as a client, or a wrong shared secret:
 *   servers silently drop requests signed with a wrong secret).
 * - `'bad-secret'`: a reply came whose Response Authenticator failed: the shared secrets differ.
 * - `'missing-message-authenticator'`: a reply came, correctly authenticated, but without the
 *   Message-Authenticator that `requireMessageAuthenticator` demands (RFC 3579 §3.2, CVE-2024-3596).
 * - `'malformed-reply'`: a reply came that is not a well-formed RADIUS packet, or whose Message-Authenticator
 *   is wrong although its Response Authenticator is right.
 */
export type ProbeFailureReason =
  | 'dns'
  | 'unreachable'
  | 'timeout'
  | 'bad-secret'
  | 'missing-message-authenticator'
  | 'malformed-reply';

/** The request that produced the result: Status-Server (RFC 5997) or the Access-Request fallback. */
export type ProbeMethod = 'status-server' | 'access-request';

/** Fields of every {@link ProbeResult}. */
interface ProbeResultBase {
  /** The server's configured name. */
  server: string;
  /** The server's configured address (`host[:port]`). */
  address: string;
  /** The last request sent (for `'dns'`, the one that would have been first: `'status-server'`). */
  method: ProbeMethod;
  /**
   * One sentence for people: `'Reachable (3 ms, status-server)'`, or what failed and what to check. Holds no
   * secret, password or State.
   */
  message: string;
  /** Replies dropped during the probe, by reason. */
  dropped: DropCounts;
}

/** The server answered with a verified reply: reachable, and the shared secret is right. */
export interface ProbeReachable extends ProbeResultBase {
  /** Discriminant: a verified reply came back. */
  status: 'reachable';
  /** Milliseconds from the first transmission of the answered request to its verified reply. */
  rttMs: number;
  /** Never set on success (lets `result.reason` be read without narrowing). */
  reason?: undefined;
  /**
   * True when only the request without a Message-Authenticator was answered (step 3): the server does not
   * require one from this client, which weakens it against forged requests (CVE-2024-3596).
   */
  unsignedRequestAnswered: boolean;
}

/** The server could not be shown reachable; `reason` says why. */
export interface ProbeFailed extends ProbeResultBase {
  /** Discriminant: the server could not be shown reachable. */
  status: 'failed';
  /** Why; see {@link ProbeFailureReason}. `message` says what to check. */
  reason: ProbeFailureReason;
  /** Never set on failure (lets `result.rttMs` be read without narrowing). */
  rttMs?: undefined;
  /** Extra detail, e.g. the DNS or socket error code (`'ENOTFOUND'`, `'ECONNREFUSED'`). */
  detail?: string;
}

/** Outcome of {@link probe} and `RadiusClient.probe()`. */
export type ProbeResult = ProbeReachable | ProbeFailed;

/** Options of {@link probe}. */
export interface ProbeOptions {
  /**
   * Total time for all attempts, in milliseconds (1 to 600000), split in thirds between Status-Server, the
   * Access-Request and the unsigned Access-Request. Default: the server's `timeout` (default 5000).
   */
  timeout?: number;
}

/** Drop reasons that prove something about the server; anything else (stray, duplicate) is ignored. */
const DECISIVE: Partial<Record<DropReason, ProbeFailureReason>> = {
  'bad-response-authenticator': 'bad-secret',
  'missing-message-authenticator': 'missing-message-authenticator',
  'bad-message-authenticator': 'malformed-reply',
  malformed: 'malformed-reply',
};

/**
 * Tests whether a RADIUS server is reachable with this configuration (see the module notes for the
 * order of attempts). Never rejects for a network outcome: those are `status: 'failed'` with a reason.
 *
 * ```ts
 * const result = await probe({ name: 'corp', address: 'radius.corp:1812', secret, attributes: { 'NAS-Identifier': 'console' } });
 * if (result.status === 'failed') logger.warn(`RADIUS server corp: ${result.message}`);
 * ```
 *
 * @param server - the server, as in the strategy's `servers` (its `timeout` is the default total time).
 * @param options - see {@link ProbeOptions}.
 * @throws TypeError when the server options or `options.timeout` are invalid (before anything is sent).
 */
export async function probe(server: RadiusServerOptions, options: ProbeOptions = {}): Promise<ProbeResult> {
  const config = normalizeServer(server, 'probe: server');
  return probeServer(config, options);
}

/**
 * {@link probe} for an already-validated server (used by `RadiusClient.probe`).
 *
 * @internal
 * @throws TypeError when `options.timeout` is invalid.
 */
export async function probeServer(config: NormalizedServer, options: ProbeOptions = {}): Promise<ProbeResult> {
  const total = options.timeout ?? config.timeout;
  if (typeof total !== 'number' || !Number.isFinite(total) || total < 1 || total > 600_000) {
    throw new TypeError('probe: timeout must be a number of milliseconds from 1 to 600000');
  }
  const base = { server: config.name, address: config.address };
  const failed = (method: ProbeMethod, reason: ProbeFailureReason, message: string, dropped: DropCounts, detail?: string): ProbeFailed => {
    debug('%s: failed (%s, %s)%s', config.name, reason, method, detail ? ` ${detail}` : '');
    return { ...base, status: 'failed', reason, method, message, dropped, ...(detail ? { detail } : {}) };
  };

  let ip = config.host;
  if (isIP(ip) === 0) {
    try {
      ip = (await lookup(config.host)).address;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'lookup failed';
      return failed(
        'status-server',
        'dns',
        `host name "${config.host}" did not resolve (${code}): check the server address and this machine's DNS`,
        {},
        code,
      );
    }
  }
  const where = `${ip.includes(':') ? `[${ip}]` : ip}:${config.port}`;

  const dropped: DropCounts = {};
  let decisive: { reason: ProbeFailureReason; drop: DropReason } | undefined;
  const destination = new Destination(ip, config.port, (reason) => {
    dropped[reason] = (dropped[reason] ?? 0) + 1;
    debug('%s: dropped a reply (%s)', config.name, reason);
    const verdict = DECISIVE[reason];
    if (verdict && !decisive) {
      decisive = { reason: verdict, drop: reason };
      // The reply settles it: end the pending exchange now rather than wait for the timeout.
      void destination.close();
    }
  });

  const share = Math.max(1, Math.floor(total / 3));
  const userName = encodeAttribute(Attr.UserName, Buffer.from(`passport-radius-probe-${randomBytes(12).toString('hex')}`, 'utf8'));
  const password = randomBytes(16);
  const accessRequest = (signed: boolean) => ({
    build: (identifier: number) => {
      const requestAuthenticator = randomBytes(16);
      const credential =
        config.protocol === 'chap'
          ? encodeAttribute(Attr.ChapPassword, chapPassword(randomBytes(1)[0]!, password, requestAuthenticator))
          : encodeAttribute(Attr.UserPassword, hidePassword(password, config.secret, requestAuthenticator));
      const attributes = Buffer.concat([userName, credential, config.attributes]);
      const packet = encodeRequest({ code: Code.AccessRequest, identifier, requestAuthenticator, attributes, secret: config.secret, messageAuthenticator: signed });
      return { packet, requestAuthenticator };
    },
    expectCodes: [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge],
    retries: config.retries,
  });
  const attempts: Array<{ method: ProbeMethod; signed: boolean; run: () => ReturnType<Destination['exchange']> }> = [
    {
      method: 'status-server',
      signed: true,
      run: () =>
        destination.exchange({
          build: (identifier) => {
            const requestAuthenticator = randomBytes(16);
            const packet = encodeRequest({
              code: Code.StatusServer,
              identifier,
              requestAuthenticator,
              attributes: config.attributes,
              secret: config.secret,
              messageAuthenticator: true,
            });
            return { packet, requestAuthenticator };
          },
          secret: config.secret,
          requireMessageAuthenticator: config.requireMessageAuthenticator,
          // RFC 5997 §3: Access-Accept; a verified Access-Reject proves reachability just as well.
          expectCodes: [Code.AccessAccept, Code.AccessReject],
          timeout: share,
          // RFC 5997: Status-Server is not retransmitted; a lost one is simply unanswered.
          retries: 0,
          onSend: () => debug('%s: Status-Server to %s', config.name, where),
        }),
    },
    ...[true, false].map((signed) => ({
      method: 'access-request' as const,
      signed,
      run: () =>
        destination.exchange({
          ...accessRequest(signed),
          secret: config.secret,
          requireMessageAuthenticator: config.requireMessageAuthenticator,
          timeout: share,
          onSend: (attempt: number) =>
            debug('%s: Access-Request (%s Message-Authenticator) to %s, transmission %d', config.name, signed ? 'with' : 'without', where, attempt),
        }),
    })),
  ];

  try {
    let method: ProbeMethod = 'status-server';
    for (const attempt of attempts) {
      method = attempt.method;
      try {
        const { rttMs } = await attempt.run();
        const ms = Math.max(0, Math.round(rttMs));
        debug('%s: reachable in %d ms (%s)', config.name, ms, method);
        return {
          ...base,
          status: 'reachable',
          method,
          rttMs,
          unsignedRequestAnswered: !attempt.signed,
          message: `Reachable (${ms} ms, ${method})${
            attempt.signed
              ? ''
              : '; note: the server answered only a request without Message-Authenticator — it should require one ' +
                '(FreeRADIUS: require_message_authenticator = yes in the client entry)'
          }`,
          dropped: { ...dropped },
        };
      } catch (err) {
        if (!(err instanceof ExchangeError)) throw err;
        if (decisive) return failed(method, decisive.reason, decisiveMessage(decisive.reason, decisive.drop, where), { ...dropped });
        if (err.reason === 'unreachable' || err.reason === 'socket') {
          return failed(
            method,
            'unreachable',
            `${where} is unreachable (${err.detail ?? err.reason}): nothing is listening there — check the port ` +
              '(RADIUS authentication is UDP 1812) and that the RADIUS service is running',
            { ...dropped },
            err.detail,
          );
        }
        if (err.reason === 'closed') throw err;
        // 'timeout': try the next request.
      }
    }
    return failed(
      method,
      'timeout',
      `no reply from ${where} within ${total} ms (Status-Server, then Access-Request with and without ` +
        `Message-Authenticator): check that UDP ${config.port} is open in firewalls between here and the server, ` +
        'that this machine is registered as a client (NAS) on the server with this address, the shared secret ' +
        '(a wrong one is a likely cause: servers silently drop requests signed with it — FreeRADIUS logs ' +
        '"invalid Message-Authenticator"), and that the NAS-Identifier matches the server\'s configuration',
      { ...dropped },
    );
  } finally {
    await destination.close();
  }
}

function decisiveMessage(reason: ProbeFailureReason, drop: DropReason, where: string): string {
  switch (reason) {
    case 'bad-secret':
      return (
        `${where} answered, but its reply failed verification with this shared secret: the secret differs ` +
        "between this app and the server's client (NAS) entry"
      );
    case 'missing-message-authenticator':
      return (
        `${where} answered with the right shared secret, but without a Message-Authenticator: make the server sign ` +
        'its replies (FreeRADIUS 3.2: add Message-Authenticator to replies), or, knowing the risk of forged ' +
        'replies (CVE-2024-3596, BlastRADIUS), set requireMessageAuthenticator: false for this server'
      );
    default:
      return drop === 'bad-message-authenticator'
        ? `${where} answered with a Message-Authenticator that does not verify although its Response ` +
            'Authenticator does: the server (or something between) is broken'
        : `${where} sent a reply that is not a well-formed RADIUS packet: check that the address is a RADIUS ` +
            'authentication port and not another service';
  }
}
