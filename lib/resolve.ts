/**
 * The one host-name resolver, used by the client and the probe: the operating system's resolver
 * (`dns.lookup`, so /etc/hosts and nsswitch apply), one lookup in progress per name shared by every caller,
 * and a deadline per caller so that a hung resolver cannot hold a sign-in past its server's timeout.
 *
 * @internal
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** Lookups in progress, by host name, shared by concurrent callers (also across clients). */
const inProgress = new Map<string, Promise<string>>();

/**
 * Resolves `host` to one IP address (an IP literal is returned as it is). Rejects with the resolver's error
 * (its `code`, e.g. `ENOTFOUND`), or with an error whose `code` is `ETIMEOUT` after `timeoutMs`.
 *
 * @param host - a host name or an IP address (IPv6 without brackets).
 * @param timeoutMs - the longest this caller waits, in milliseconds.
 */
export function resolveHost(host: string, timeoutMs: number): Promise<string> {
  if (isIP(host) !== 0) return Promise.resolve(host);
  let pending = inProgress.get(host);
  if (!pending) {
    pending = lookup(host)
      .then((r) => r.address)
      .finally(() => inProgress.delete(host));
    inProgress.set(host, pending);
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('DNS lookup timed out'), { code: 'ETIMEOUT' })), timeoutMs);
  });
  return Promise.race([pending, deadline]).finally(() => clearTimeout(timer));
}
