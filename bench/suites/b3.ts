/**
 * B3 (scaling): heap per request in flight, throughput, sockets and descriptors from 1 to 5000 requests in
 * flight, for our client and the limit client (bench/scaling.ts in its own process, `--expose-gc`).
 */
import { startChild } from '../common';
import type { ScalingLevel } from '../scaling';
import { defineSuite, f0, f1, f2, NAMES, startResponder, type Target } from '../suite';

interface B3Result {
  client: string;
  delayMs: number;
  fdsBefore: number;
  fdsAfter: number;
  socketsAfter: number;
  levels: ScalingLevel[];
}

interface B3Config {
  levels: string;
  delayMs: number;
  durationMs: number;
}

export default defineSuite<B3Result[], B3Config>({
  name: 'b3',
  config: {
    smoke: { levels: '1,50', delayMs: 100, durationMs: 300 },
    full: { levels: '1,10,100,1000,5000', delayMs: 1000, durationMs: 2000 },
  },

  async run({ config: cfg, log }) {
    const fast = await startResponder();
    const slow = await startResponder(['--delay', String(cfg.delayMs)]);
    const results: B3Result[] = [];
    try {
      for (const client of ['ours', 'limit']) {
        const child = startChild(
          'scaling.ts',
          ['--client', client, '--port', String(fast.port), '--delay-port', String(slow.port), '--delay', String(cfg.delayMs), '--levels', cfg.levels, '--duration', String(cfg.durationMs)],
          ['--expose-gc'],
        );
        try {
          const r = await child.firstJson<B3Result>(180_000);
          for (const l of r.levels) log(`B3 ${client} ${l.inFlight} in flight: ${Math.round(l.heapBytesPerInFlight)} B heap each, ${Math.round(l.rps)} req/s, ${l.sockets} sockets, ${l.fds} fds`);
          results.push(r);
        } finally {
          await child.kill();
        }
      }
    } finally {
      await Promise.all([fast.child.kill(), slow.child.kill()]);
    }
    return results;
  },

  check(results, { smoke }) {
    const failures: string[] = [];
    for (const c of results) for (const l of c.levels) if (l.windowRequests === 0 || (smoke && l.errors > 0)) failures.push(`B3 ${c.client} at ${l.inFlight}: ${l.windowRequests} requests, ${l.errors} errors`);
    return failures;
  },

  targets(results): Target[] {
    const ours = results.find((x) => x.client === 'ours');
    const top = ours?.levels.at(-1);
    if (!ours || !top) return [];
    const grows = ours.levels.some((l) => l.fdsWindowEnd > l.fdsWindowStart) || ours.fdsAfter > ours.fdsBefore;
    return [
      { name: `B3 heap per request in flight at ${top.inFlight}`, goal: '≤ 2048 B', measured: `${f0(top.heapBytesPerInFlight)} B (+${f0(top.externalBytesPerInFlight)} B buffers; limit ${f0(results.find((x) => x.client === 'limit')?.levels.at(-1)?.heapBytesPerInFlight)} B)`, met: top.heapBytesPerInFlight <= 2048 },
      {
        name: 'B3 descriptors independent of the request count',
        goal: 'no growth over a run; sockets ≤ ⌈in flight ÷ 256⌉',
        measured: `${top.windowRequests.toLocaleString('en-US')} requests: fds ${top.fdsWindowStart} → ${top.fdsWindowEnd}; ${top.sockets} sockets at ${top.inFlight}; idle after: ${ours.socketsAfter} sockets`,
        met: !grows && ours.levels.every((l) => l.sockets <= Math.ceil(l.inFlight / 256)),
      },
    ];
  },

  details(results, _report, cfg) {
    if (!results.length) return [];
    const L = [`#### B3 scaling (heap: responder answering ${cfg.delayMs} ms late; throughput: undelayed, ${cfg.durationMs / 1000} s)`, ''];
    L.push('| client | in flight | heap B / in flight | buffers B / in flight | req/s | p99 ms | CPU µs/req | UDP sockets | fds | fds over the run | errors | notes |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
    for (const c of results) {
      for (const l of c.levels) {
        const heap = l.inFlight < 1000 ? `(${f0(l.heapBytesPerInFlight)})` : f0(l.heapBytesPerInFlight);
        L.push(`| ${NAMES[c.client] ?? c.client} | ${l.inFlight} | ${heap} | ${f0(l.externalBytesPerInFlight)} | ${f0(l.rps)} | ${f2(l.p99Ms)} | ${f1(l.cpuUsPerRequest)} | ${l.sockets} | ${l.fds} | ${l.fdsWindowStart} → ${l.fdsWindowEnd} after ${l.windowRequests.toLocaleString('en-US')} req | ${l.errors} | ${l.notes ?? ''} |`);
      }
    }
    L.push('', 'Heap per request below 1000 in flight is within GC noise (a few hundred KB; shown in parentheses).', '');
    return L;
  },
});
