/**
 * Server addresses as options take them: `host`, `host:port`, `[v6]` or `[v6]:port`, and which hosts a
 * RADIUS server can have (a DNS name, or a unicast IP literal).
 */
import { isIP } from 'node:net';

/** Parses `host`, `host:port`, `[v6]` or `[v6]:port`. Returns undefined when it is none of those. */
export function parseAddress(address: string, defaultPort = 1812): { host: string; port: number } | undefined {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (isIP(host) !== 6) return undefined;
  } else {
    const m = /^([A-Za-z0-9._-]+)(?::(\d+))?$/.exec(address);
    if (!m) return undefined;
    host = m[1]!;
    portText = m[2];
    if (/^[\d.]+$/.test(host)) {
      if (isIP(host) !== 4) return undefined;
    } else if (!isHostName(host)) {
      return undefined;
    }
  }
  if (!isUnicastAddress(host)) return undefined;
  const port = portText === undefined ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/**
 * How to write `address` when it is an IPv6 address without brackets, else undefined. The brackets are
 * required because the form is ambiguous: `::1:1812` is the address ::1:1812, but most likely meant port
 * 1812 of ::1 (RFC 3986 §3.2.2 brackets IPv6 literals for this reason). When the last group could be a
 * port and what precedes it is an IPv6 address itself, both readings are offered, the port first.
 *
 * @param defaultPort - the port shown with the address when the last group cannot be a port.
 */
export function bracketHint(address: string, defaultPort: number): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const m = /^(.*):([1-9]\d{0,4})$/.exec(address);
  const port = m ? Number(m[2]) : 0;
  if (m && port <= 65535 && isIP(m[1]!) === 6 && isUnicastAddress(m[1]!)) {
    return `put an IPv6 address in brackets: "[${m[1]}]:${port}" for port ${port} of ${m[1]}, or "[${address}]" for the address ${address}`;
  }
  return `put an IPv6 address in brackets, e.g. "[${address}]" or "[${address}]:${defaultPort}"`;
}

/**
 * A DNS host name (RFC 1123 §2.1): labels of 1 to 63 letters, digits, hyphens (and underscores, which
 * some internal zones use), neither starting nor ending with a hyphen; a trailing dot is allowed.
 */
function isHostName(host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label));
}

/** False for addresses no RADIUS server can have: unspecified, broadcast and multicast (an IP literal only). */
function isUnicastAddress(host: string): boolean {
  const family = isIP(host);
  if (family === 4) {
    const first = Number(host.split('.')[0]);
    return host !== '0.0.0.0' && host !== '255.255.255.255' && !(first >= 224 && first <= 239);
  }
  if (family === 6) return !/^::?$/.test(host) && !/^::0*$/.test(host) && !/^ff/i.test(host);
  return true;
}
