/**
 * Datagrams the kernel dropped on a UDP socket before this process read them, almost always because the
 * socket's receive buffer was full (host-wide, `RcvbufErrors` on the Udp line of /proc/net/snmp counts
 * them). They never reach the transport, so they are in none of its drop counters: under a flood of
 * forged replies a real reply can be lost this way and the request times out for no visible reason. Linux
 * shows them per socket in the `drops` column of /proc/net/udp and /proc/net/udp6; elsewhere nothing is
 * read and nothing is reported.
 *
 * @internal
 */
import { readFileSync } from 'node:fs';

/**
 * Per local port, the kernel's drop count of the connected UDP sockets (`family`) whose remote port is
 * `remotePort` and whose local port is in `localPorts`. Empty when /proc is not there. One file read; for
 * occasional use (the transport reads it at most once a second per server address, and only after a
 * retransmission or a timeout).
 */
export function readUdpDrops(family: 'udp4' | 'udp6', localPorts: ReadonlySet<number>, remotePort: number): Map<number, number> {
  const drops = new Map<number, number>();
  let table: string;
  try {
    table = readFileSync(family === 'udp4' ? '/proc/net/udp' : '/proc/net/udp6', 'latin1');
  } catch {
    return drops;
  }
  // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops",
  // addresses as HEXADDR:HEXPORT.
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13) continue;
    const local = fields[1]!;
    const remote = fields[2]!;
    const localPort = parseInt(local.slice(local.indexOf(':') + 1), 16);
    if (!localPorts.has(localPort) || parseInt(remote.slice(remote.indexOf(':') + 1), 16) !== remotePort) continue;
    const count = Number(fields[12]);
    if (Number.isFinite(count)) drops.set(localPort, count);
  }
  return drops;
}
