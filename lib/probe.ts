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
 * success unless its Response Authenticator (RFC 2865 §3) and any Message-Authenticator (RFC 3579 §3.2)
 * verify — the transport checks both. The probe then judges what the transport cannot:
 *
 * - **Which reply types are signed.** The probe asks the transport for replies with or without a
 *   Message-Authenticator and decides itself, because servers sign them differently: FreeRADIUS answers
 *   Status-Server through `Autz-Type Status-Server` only, so an admin who signs Access replies in
 *   `authorize` still gets unsigned Status-Server replies (so does radsecproxy). An unsigned, verified
 *   Status-Server reply is therefore not conclusive: the signed Access-Request follows (with the time left),
 *   and its signed reply makes the server Reachable with a warning. Only when the Access reply is unsigned
 *   too is it `missing-message-authenticator`. The probe signs nobody in, so looking at an unsigned reply
 *   is safe here; the strategy and the client still drop them.
 * - **The reply's type.** A verified reply that does not answer the request (an Accounting-Response from
 *   the accounting port, a CoA-ACK…) ends the probe with `unexpected-reply`, naming what answered.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import createDebug from 'debug';
import type { DropReason } from './errors';
import { normalizeServer, type NormalizedServer, type RadiusServerOptions } from './options';
import { Attr, Code } from './protocol/packet';
import { buildAccessRequest, buildStatusServer } from './request';
import * as messages from './probe-messages';
import { resolveHost } from './resolve';
import { ExchangeError, type DropCounts, type ExchangeResult } from './transport';
import { TlsExchangeError } from './transport-tls';
import { createTransport } from './transports';
import { tlsProbeFailure, type TlsProbeFailureReason } from './tls/failure';

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
 * - `'missing-message-authenticator'`: the reply to the Access-Request came, correctly authenticated, but
 *   without the Message-Authenticator that `requireMessageAuthenticator` demands (RFC 3579 §3.2,
 *   CVE-2024-3596); or Status-Server was answered unsigned and the Access-Request not at all. The message
 *   names each unsigned reply type and where it is fixed.
 * - `'malformed-reply'`: a reply came that is not a well-formed RADIUS packet, or whose Message-Authenticator
 *   is wrong although its Response Authenticator is right.
 * - `'unexpected-reply'`: a verified reply came that does not answer an Access-Request or Status-Server,
 *   e.g. an Accounting-Response (RFC 2866): the address is the server's accounting port (1813), not its
 *   authentication port (1812).
 * - RADIUS over TLS (`transport: 'tls'`): `'tls-unknown-ca'` (the server's certificate is not signed by a
 *   CA in `tls.ca`), `'tls-name-mismatch'` (it does not name `tls.servername`), `'tls-expired-certificate'`,
 *   `'tls-client-certificate-refused'` (the server did not accept this client's certificate or PSK),
 *   `'tls-handshake-failure'` (anything else in the handshake); a refused TCP connection is `'unreachable'`.
 *   `detail` holds Node's error code.
 * - `'protocol-error'`: the server answered Protocol-Error (RFC 7930 §4), e.g. a proxy that cannot forward.
 */
export type ProbeFailureReason =
  | 'dns'
  | 'unreachable'
  | 'timeout'
  | 'bad-secret'
  | 'missing-message-authenticator'
  | 'malformed-reply'
  | 'unexpected-reply'
  | TlsProbeFailureReason
  | 'protocol-error';

/**
 * Why a Reachable server still needs attention.
 *
 * - `'unsigned-status-server-reply'`: the Status-Server reply carried no Message-Authenticator, while the
 *   Access replies did (sign-in works). Monitoring that relies on Status-Server would refuse it.
 *   FreeRADIUS 3.2: sign it in `Autz-Type Status-Server` (see the warning's message).
 * - `'unsigned-request-answered'`: only the Access-Request without a Message-Authenticator was answered:
 *   the server does not require one from this client, which weakens it against forged requests
 *   (CVE-2024-3596). FreeRADIUS: `require_message_authenticator = yes` in the client entry.
 */
export type ProbeWarningCode = 'unsigned-status-server-reply' | 'unsigned-request-answered';

/** Something to fix on a server that is reachable anyway. */
export interface ProbeWarning {
  /** Which problem; see {@link ProbeWarningCode}. */
  code: ProbeWarningCode;
  /** One sentence for people: what was seen and where it is fixed. Holds no secret, password or State. */
  message: string;
}

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
   * One sentence for people: `'Reachable (3 ms, status-server)'` (followed by `'; warning: …'` for each of
   * `warnings`), or what failed and what to check. Holds no secret, password or State.
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
  /** What to fix although the server is reachable, in the order found; empty when nothing. */
  warnings: ProbeWarning[];
}

/** The server could not be shown reachable; `reason` says why. */
export interface ProbeFailed extends ProbeResultBase {
  /** Discriminant: the server could not be shown reachable. */
  status: 'failed';
  /** Why; see {@link ProbeFailureReason}. `message` says what to check. */
  reason: ProbeFailureReason;
  /** Never set on failure (lets `result.rttMs` be read without narrowing). */
  rttMs?: undefined;
  /** Never set on failure (lets `result.warnings` be read without narrowing); `message` says it all. */
  warnings?: undefined;
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

/**
 * Drop reasons that prove something about the server; anything else (stray, duplicate) is ignored. The probe
 * takes replies with or without Message-Authenticator from the transport and judges that itself, so
 * `missing-message-authenticator` is not among them.
 */
const DECISIVE: Partial<Record<DropReason, ProbeFailureReason>> = {
  'bad-response-authenticator': 'bad-secret',
  'bad-message-authenticator': 'malformed-reply',
  malformed: 'malformed-reply',
};

/** Every packet code: the probe names an unexpected one rather than let the transport drop it unseen. */
const ANY_CODE: readonly number[] = Array.from({ length: 256 }, (_, code) => code);

/** Codes that answer each request (RFC 2865 §4, RFC 5997 §3). */
const ANSWERS: Record<ProbeMethod, readonly number[]> = {
  'status-server': [Code.AccessAccept, Code.AccessReject],
  'access-request': [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge],
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

  let ip: string;
  try {
    // One third of the time at most for the name: a hung resolver must not hold the probe.
    ip = await resolveHost(config.host, Math.max(1, Math.floor(total / 3)));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'lookup failed';
    return failed(
      'status-server',
      'dns',
      messages.dns(config.host, code),
      {},
      code,
    );
  }
  const where = `${ip.includes(':') ? `[${ip}]` : ip}:${config.port}`;

  const dropped: DropCounts = {};
  let decisive: { reason: ProbeFailureReason; drop: DropReason } | undefined;
  const destination = createTransport(config, ip, (reason) => {
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
  const started = performance.now();
  const username = Buffer.from(`passport-radius-probe-${randomBytes(12).toString('hex')}`, 'utf8');
  const password = randomBytes(16);
  const accessRequest = (signed: boolean, timeout: number): Promise<ExchangeResult> =>
    destination.exchange({
      build: (identifier: number) =>
        buildAccessRequest({ server: config, username, password, chap: config.protocol === 'chap', messageAuthenticator: signed }, identifier),
      secret: config.secret,
      // The probe judges signing and the reply's type itself (see the module notes).
      requireMessageAuthenticator: false,
      expectCodes: ANY_CODE,
      timeout,
      retries: config.retries,
      onSend: (attempt: number) =>
        debug('%s: Access-Request (%s Message-Authenticator) to %s, transmission %d', config.name, signed ? 'with' : 'without', where, attempt),
    });
  const statusServer = (): Promise<ExchangeResult> =>
    destination.exchange({
      build: (identifier) => buildStatusServer(config, identifier),
      secret: config.secret,
      requireMessageAuthenticator: false,
      expectCodes: ANY_CODE,
      timeout: share,
      // RFC 5997: Status-Server is not retransmitted; a lost one is simply unanswered.
      retries: 0,
      onSend: () => debug('%s: Status-Server to %s', config.name, where),
    });

  let method: ProbeMethod = 'status-server';
  /** A verified Status-Server reply came without the Message-Authenticator this server's options require. */
  let unsignedStatusReply = false;

  /** Judges a verified reply: a result, or undefined to go on with the next request. */
  const judge = ({ packet, rttMs }: ExchangeResult, signedRequest: boolean): ProbeResult | undefined => {
    if (!ANSWERS[method].includes(packet.code)) {
      const name = messages.codeName(packet.code);
      return failed(method, 'unexpected-reply', messages.unexpectedReply(packet.code, method, where, config.transport), { ...dropped }, name);
    }
    const signedReply = packet.attributes.some((attribute) => attribute.type === Attr.MessageAuthenticator);
    if (!signedReply && config.requireMessageAuthenticator) {
      if (method === 'status-server') {
        // Not conclusive: FreeRADIUS signs Status-Server replies apart from Access replies (module notes).
        debug('%s: Status-Server reply without Message-Authenticator; trying an Access-Request', config.name);
        unsignedStatusReply = true;
        return undefined;
      }
      const unsigned = unsignedStatusReply ? (['Status-Server', 'Access-Request'] as const) : (['Access-Request'] as const);
      return failed(method, 'missing-message-authenticator', messages.unsignedReplies(where, unsigned), { ...dropped });
    }
    const warnings: ProbeWarning[] = [];
    if (unsignedStatusReply) {
      warnings.push({ code: 'unsigned-status-server-reply', message: messages.warning('unsigned-status-server-reply', config.transport) });
    }
    if (!signedRequest) {
      warnings.push({ code: 'unsigned-request-answered', message: messages.warning('unsigned-request-answered') });
    }
    const ms = Math.max(0, Math.round(rttMs));
    debug('%s: reachable in %d ms (%s), %d warning(s)', config.name, ms, method, warnings.length);
    return {
      ...base,
      status: 'reachable',
      method,
      rttMs,
      unsignedRequestAnswered: !signedRequest,
      warnings,
      message: `Reachable (${ms} ms, ${method})${warnings.map((w) => `; warning: ${w.message}`).join('')}`,
      dropped: { ...dropped },
    };
  };

  /** A failed exchange: a result, or undefined when it timed out (go on). */
  const judgeError = (err: unknown): ProbeResult | undefined => {
    if (!(err instanceof ExchangeError)) throw err;
    if (decisive) return failed(method, decisive.reason, messages.decisive(decisive.drop, where), { ...dropped });
    if (err instanceof TlsExchangeError) {
      const tls = tlsProbeFailure(err.failure, where);
      return failed(method, tls.reason, tls.message, { ...dropped }, err.failure.code);
    }
    if (err.reason === 'protocol-error') {
      return failed(method, 'protocol-error', messages.protocolError(where, err.detail), { ...dropped }, err.detail);
    }
    if (err.reason === 'unreachable' || err.reason === 'socket') {
      return failed(method, 'unreachable', messages.unreachable(where, err.detail ?? err.reason, config.transport), { ...dropped }, err.detail);
    }
    if (err.reason === 'closed') throw err;
    return undefined; // 'timeout'
  };

  const steps: Array<{ method: ProbeMethod; signed: boolean; run: () => Promise<ExchangeResult> }> = [
    { method: 'status-server', signed: true, run: statusServer },
    {
      method: 'access-request',
      signed: true,
      // After an unsigned Status-Server reply the server is known to answer: this request gets the time left.
      run: () => accessRequest(true, unsignedStatusReply ? Math.max(1, Math.floor(total - (performance.now() - started))) : share),
    },
    { method: 'access-request', signed: false, run: () => accessRequest(false, share) },
  ];

  try {
    for (const step of steps) {
      // The unsigned request only finds servers that answer nothing else; this one answered Status-Server.
      if (!step.signed && unsignedStatusReply) break;
      method = step.method;
      let result: ProbeResult | undefined;
      try {
        result = judge(await step.run(), step.signed);
      } catch (err) {
        result = judgeError(err);
      }
      if (result) return result;
    }
    if (unsignedStatusReply) {
      return failed(method, 'missing-message-authenticator', messages.unsignedStatusUnansweredAccess(where, total), { ...dropped });
    }
    return failed(method, 'timeout', messages.timeout(where, config.port, total, config.transport), { ...dropped });
  } finally {
    await destination.close();
  }
}
