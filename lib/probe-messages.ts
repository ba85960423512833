/**
 * What the probe (lib/probe.ts) tells people: one sentence per outcome saying what was seen, what to check
 * and, for FreeRADIUS 3.2, the file and section that fix it (the same places as README "Registering the app
 * with the RADIUS server"). probe.ts decides; this module words. No secret, password or State goes in.
 *
 * @internal
 */
import type { DropReason } from './errors';
import type { ProbeMethod, ProbeWarningCode } from './probe';

/** Names of the packet codes servers and their other ports send (RFC 2865, 2866, 5176, 5997). */
const CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'Access-Request',
  2: 'Access-Accept',
  3: 'Access-Reject',
  4: 'Accounting-Request',
  5: 'Accounting-Response',
  11: 'Access-Challenge',
  12: 'Status-Server',
  13: 'Status-Client',
  40: 'Disconnect-Request',
  41: 'Disconnect-ACK',
  42: 'Disconnect-NAK',
  43: 'CoA-Request',
  44: 'CoA-ACK',
  45: 'CoA-NAK',
};

/** Where FreeRADIUS 3.2 (Debian/Ubuntu: /etc/freeradius/3.0) signs each reply type. */
const FIX = {
  access:
    'Access replies: FreeRADIUS 3.2, sites-enabled/default, first line of the authorize section: ' +
    'update reply { &Message-Authenticator := 0x00 }',
  statusServer:
    'Status-Server replies: FreeRADIUS 3.2, sites-enabled/default, in the authorize section: ' +
    'Autz-Type Status-Server { update reply { &Message-Authenticator := 0x00 } ok }',
};

/** The name of a packet code, e.g. 'Accounting-Response', or 'a packet of code N'. */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `a packet of code ${code}`;
}

/** The host name did not resolve. */
export function dns(host: string, code: string): string {
  return `host name "${host}" did not resolve (${code}): check the server address and this machine's DNS`;
}

/**
 * ICMP unreachable or another socket error over UDP; over TLS (a refused TCP connection is a TLS failure,
 * lib/tls/failure.ts) only a connection lost before the reply with no retry left gets here.
 */
export function unreachable(where: string, detail: string, transport: 'udp' | 'tls'): string {
  if (transport === 'tls') {
    return (
      `${where} closed the TLS connection before replying (${detail}): see the server's log — is this address a ` +
      'TLS client there (FreeRADIUS: proto = tls), and does it allow that many connections?'
    );
  }
  return (
    `${where} is unreachable (${detail}): nothing is listening there — check the port ` +
    '(RADIUS authentication is UDP 1812) and that the RADIUS service is running'
  );
}

/**
 * `port N is usually the accounting port (…)` for the accounting ports, else `undefined`. RFC 2866 §3:
 * accounting is 1813 (the old 1646); a server drops an Access-Request sent there, so nothing answers.
 */
export function accountingPortHint(port: number): string | undefined {
  return port === 1813 || port === 1646
    ? `port ${port} is usually the accounting port (RADIUS authentication is UDP ${port === 1813 ? 1812 : 1645})`
    : undefined;
}

/** Nothing answered any request. */
export function timeout(where: string, port: number, totalMs: number, transport: 'udp' | 'tls'): string {
  if (transport === 'tls') {
    // RFC 6614 §2.3: the shared secret is "radsec" unless configured; a server drops what it cannot verify.
    return (
      `no reply from ${where} within ${totalMs} ms over RADIUS/TLS (Status-Server, then Access-Request with and ` +
      `without Message-Authenticator): check that TCP ${port} is open in firewalls between here and the server ` +
      '(a TLS connection that never opens looks the same), that a proxy in between (radsecproxy) reaches its home ' +
      'server, the shared secret ("radsec" unless both sides set another: servers silently drop requests signed ' +
      'with a wrong one — FreeRADIUS logs "invalid Message-Authenticator"), and that the NAS-Identifier matches ' +
      "the server's configuration"
    );
  }
  const hint = accountingPortHint(port);
  const accounting = hint !== undefined ? `${hint}; ` : '';
  return (
    `no reply from ${where} within ${totalMs} ms (Status-Server, then Access-Request with and without ` +
    `Message-Authenticator): ${accounting}check that UDP ${port} is open in firewalls between here and the server, ` +
    'that this machine is registered as a client (NAS) on the server with this address, the shared secret ' +
    '(a wrong one is a likely cause: servers silently drop requests signed with it — FreeRADIUS logs ' +
    '"invalid Message-Authenticator"), and that the NAS-Identifier matches the server\'s configuration'
  );
}

/** A verified reply whose code does not answer the request sent. */
export function unexpectedReply(code: number, method: ProbeMethod, where: string, transport: 'udp' | 'tls'): string {
  const asked = method === 'status-server' ? 'Status-Server' : 'Access-Request';
  if (transport === 'tls') {
    // RFC 6614 §2.1: one RadSec port (TCP 2083) carries every packet type, so the port is not the cause.
    return (
      `${where} answered the ${asked} with ${codeName(code)}, which does not answer it: over RADIUS/TLS every ` +
      'packet type shares one port, so the server (or a proxy such as radsecproxy, or its home server) is misbehaving: see its log'
    );
  }
  if (code === 5) {
    return (
      `${where} answered the ${asked} with an Accounting-Response: this looks like the accounting port — use the ` +
      "server's authentication port (usually UDP 1812; accounting is 1813)"
    );
  }
  return (
    `${where} answered the ${asked} with ${codeName(code)}, which does not answer it: check that the address is the ` +
    "server's RADIUS authentication port (usually UDP 1812) and not its accounting (1813) or dynamic-authorization (3799) port"
  );
}

/** Verified replies without Message-Authenticator to each of `unsigned`, Access-Request among them. */
export function unsignedReplies(where: string, unsigned: ReadonlyArray<'Status-Server' | 'Access-Request'>): string {
  const fixes = unsigned.includes('Status-Server') ? `${FIX.access}; ${FIX.statusServer}` : FIX.access;
  return (
    `${where} answered with the right shared secret, but did not sign its replies (no Message-Authenticator) to: ` +
    `${unsigned.join(', ')}. Make the server sign them — ${fixes} — or, knowing the risk of forged replies ` +
    '(CVE-2024-3596, BlastRADIUS), set requireMessageAuthenticator: false for this server'
  );
}

/** Status-Server answered unsigned, the signed Access-Request not at all. */
export function unsignedStatusUnansweredAccess(where: string, totalMs: number): string {
  return (
    `${where} answered Status-Server with the right shared secret but without a Message-Authenticator, and did ` +
    `not answer the signed Access-Request within ${totalMs} ms (a proxy whose home servers are down? see the ` +
    `server's log). Sign the Status-Server replies — ${FIX.statusServer} — or make the Access-Request answered`
  );
}

/** A dropped reply that settles the probe: a wrong secret, or a broken or non-RADIUS answer. */
export function decisive(drop: DropReason, where: string): string {
  switch (drop) {
    case 'bad-response-authenticator':
      return (
        `${where} answered, but its reply failed verification with this shared secret: the secret differs ` +
        "between this app and the server's client (NAS) entry"
      );
    case 'bad-message-authenticator':
      return (
        `${where} answered with a Message-Authenticator that does not verify although its Response ` +
        'Authenticator does: the server (or something between) is broken'
      );
    default:
      return (
        `${where} sent a reply that is not a well-formed RADIUS packet: check that the address is a RADIUS ` +
        'authentication port and not another service'
      );
  }
}

/** The text of each {@link ProbeWarningCode}. */
export function warning(code: ProbeWarningCode, transport: 'udp' | 'tls' = 'udp'): string {
  switch (code) {
    case 'unsigned-status-server-reply':
      if (transport === 'tls') {
        // radsecproxy 1.9 answers Status-Server itself ("from _self_"), unsigned, whatever its home server does.
        return (
          'the Status-Server reply had no Message-Authenticator (Access replies are signed, so sign-in works; ' +
          'monitoring by Status-Server would refuse it). A RadSec proxy such as radsecproxy answers Status-Server ' +
          `itself, unsigned, and its home server cannot change that; a RadSec server answering itself can: ${FIX.statusServer}`
        );
      }
      return (
        'the Status-Server reply had no Message-Authenticator (Access replies are signed, so sign-in works; ' +
        `monitoring by Status-Server would refuse it) — sign it too: ${FIX.statusServer}`
      );
    case 'unsigned-request-answered':
      return (
        'the server answered only a request without Message-Authenticator — it should require one ' +
        '(FreeRADIUS: require_message_authenticator = yes in the client entry, clients.conf)'
      );
  }
}

/** The server answered Protocol-Error (RFC 7930 §4); `detail` names its Error-Cause. */
export function protocolError(where: string, detail: string | undefined): string {
  return `${where} answered Protocol-Error (RFC 7930${detail ? `, ${detail}` : ''}): it could not process the request (a proxy without a route for it?)`;
}
