/**
 * RADIUS over TLS (RadSec, RFC 6614): passport-radius's RadiusClient over TLS against the same responder
 * process over UDP (bench/responder.ts answers both, checking every request's Message-Authenticator and
 * User-Password), and over TLS and UDP against FreeRADIUS 3.2 without debug output. Sign-ins per second and
 * the client's CPU per sign-in; certificates made with openssl for the run. Selected with `--only tls`.
 */
import { PASSWORD, procSample, SECRET, startChild, type LoadResult } from '../common';
import { freeradiusInstalled, startBenchFreeRadius } from '../freeradius';
import { defineSuite, f0, f1, f2, median, ratio, responderStats } from '../suite';
import { makePki, OPENSSL_BIN } from '../../test/support/tls';

/** One transport, one peer, one concurrency (median of the repetitions). */
export interface TlsRow extends LoadResult {
  peer: 'responder' | 'freeradius';
  transport: 'udp' | 'tls';
  /** Requests the responder found badly signed or with a wrong password (responder rows). */
  responderBad: number;
  /** FreeRADIUS CPU per request in µs, warm-up included (FreeRADIUS rows). */
  serverCpuUs?: number;
}

interface TlsConfig {
  concurrency: number[];
  freeradiusConcurrency: number[];
  reps: number;
  durationMs: number;
  warmupMs: number;
}

async function load(port: number, transport: 'udp' | 'tls', secret: string, tlsDir: string, concurrency: number, cfg: TlsConfig): Promise<LoadResult> {
  const args = ['--client', transport === 'tls' ? 'ours-tls' : 'ours', '--port', String(port), '--secret', secret, '--tls-dir', tlsDir];
  args.push('--concurrency', String(concurrency), '--duration', String(cfg.durationMs), '--warmup', String(cfg.warmupMs));
  const child = startChild('load.ts', args);
  try {
    const result = await child.firstJson<LoadResult>(cfg.durationMs + cfg.warmupMs + 60_000);
    await child.exited;
    return result;
  } finally {
    await child.kill();
  }
}

export default defineSuite<TlsRow[], TlsConfig>({
  name: 'tls',
  config: {
    smoke: { concurrency: [10], freeradiusConcurrency: [10], reps: 1, durationMs: 300, warmupMs: 100 },
    full: { concurrency: [1, 10, 100], freeradiusConcurrency: [10, 100], reps: 3, durationMs: 3000, warmupMs: 500 },
  },
  enabled: () => OPENSSL_BIN !== undefined,

  async run({ config: cfg, log, skip }) {
    const pki = await makePki();
    const rows: TlsRow[] = [];
    try {
      const responder = startChild('responder.ts', ['--secret', SECRET, '--verify', PASSWORD, '--tls-dir', pki.dir]);
      try {
        const { port, tlsPort } = await responder.firstJson<{ port: number; tlsPort: number }>();
        for (const concurrency of cfg.concurrency) {
          const runs: Record<'udp' | 'tls', TlsRow[]> = { udp: [], tls: [] };
          for (let rep = 0; rep < cfg.reps; rep++) {
            const order: Array<'udp' | 'tls'> = rep % 2 ? ['tls', 'udp'] : ['udp', 'tls'];
            for (const transport of order) {
              await responderStats(responder, true);
              const r = await load(transport === 'tls' ? tlsPort : port, transport, SECRET, pki.dir, concurrency, cfg);
              const stats = await responderStats(responder, false);
              log(`TLS suite: responder over ${transport} c=${concurrency}: ${Math.round(r.rps)} req/s, ${r.cpuUsPerRequest.toFixed(1)} µs CPU/req, ${r.errors} errors`);
              runs[transport].push({ ...r, peer: 'responder', transport, responderBad: stats.bad + stats.malformed });
            }
          }
          for (const transport of ['udp', 'tls'] as const) {
            const all = runs[transport];
            rows.push({
              ...all[0]!,
              requests: all.reduce((n, x) => n + x.requests, 0),
              errors: all.reduce((n, x) => n + x.errors, 0),
              rps: median(all.map((x) => x.rps)),
              p50Ms: median(all.map((x) => x.p50Ms ?? Number.NaN)),
              p99Ms: median(all.map((x) => x.p99Ms ?? Number.NaN)),
              cpuUsPerRequest: median(all.map((x) => x.cpuUsPerRequest)),
              responderBad: all.reduce((n, x) => n + x.responderBad, 0),
            });
          }
        }
      } finally {
        await responder.kill();
      }

      if (!freeradiusInstalled()) {
        skip('TLS against FreeRADIUS (freeradius not installed)');
        return rows;
      }
      const server = await startBenchFreeRadius(SECRET, { certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile });
      try {
        for (const concurrency of cfg.freeradiusConcurrency) {
          for (const transport of ['udp', 'tls'] as const) {
            const before = procSample(server.pid)?.cpuUs ?? Number.NaN;
            // RFC 6614 §2.3: the shared secret over TLS is "radsec" (FreeRADIUS's clients entry says so too).
            const r = await load(transport === 'tls' ? server.tlsPort! : server.port, transport, transport === 'tls' ? 'radsec' : SECRET, pki.dir, concurrency, cfg);
            const after = procSample(server.pid)?.cpuUs ?? Number.NaN;
            log(`TLS suite: FreeRADIUS over ${transport} c=${concurrency}: ${Math.round(r.rps)} req/s, ${r.errors} errors`);
            rows.push({ ...r, peer: 'freeradius', transport, responderBad: 0, serverCpuUs: (after - before) / Math.max(1, r.requests) });
          }
        }
      } finally {
        await server.stop();
      }
      return rows;
    } finally {
      await pki.remove();
    }
  },

  check(rows, { smoke }) {
    const failures: string[] = [];
    if (!rows.some((x) => x.transport === 'tls')) failures.push('TLS suite: no TLS rows');
    for (const x of rows) {
      const what = `TLS suite ${x.peer} over ${x.transport} at ${x.concurrency}`;
      if (x.requests === 0) failures.push(`${what}: no requests completed`);
      if (x.responderBad > 0) failures.push(`${what}: the responder saw ${x.responderBad} badly signed requests`);
      if (smoke && x.errors > 0) failures.push(`${what}: ${x.errors} errors (${x.errorSamples.join('; ')})`);
    }
    return failures;
  },

  summary(rows) {
    const find = (peer: string, transport: string, c: number): TlsRow | undefined => rows.find((x) => x.peer === peer && x.transport === transport && x.concurrency === c);
    const L = ['#### RADIUS over TLS ÷ UDP, passport-radius RadiusClient (sign-ins per second: higher is better; client CPU per sign-in: lower is better)', ''];
    L.push('| peer | in flight | sign-ins/s over TLS ÷ UDP | client CPU per sign-in TLS ÷ UDP |', '|---|---:|---:|---:|');
    for (const peer of ['responder', 'freeradius'] as const) {
      for (const c of [...new Set(rows.filter((x) => x.peer === peer).map((x) => x.concurrency))]) {
        const udp = find(peer, 'udp', c);
        const tls = find(peer, 'tls', c);
        if (!udp || !tls) continue;
        L.push(`| ${peer === 'responder' ? 'bench responder' : 'FreeRADIUS 3.2'} | ${c} | ${ratio(tls.rps, udp.rps)} | ${ratio(tls.cpuUsPerRequest, udp.cpuUsPerRequest)} |`);
      }
    }
    L.push('');
    return L;
  },

  details(rows) {
    if (!rows.length) return [];
    const L = ['#### RADIUS over TLS and UDP, absolute (client process; FreeRADIUS: one worker thread, no debug output)', ''];
    L.push('| peer | transport | in flight | sign-ins/s | p50 ms | p99 ms | client CPU µs/sign-in | server CPU µs/req | errors |', '|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const x of rows) {
      const peer = x.peer === 'responder' ? 'bench responder' : 'FreeRADIUS 3.2';
      L.push(`| ${peer} | ${x.transport.toUpperCase()} | ${x.concurrency} | ${f0(x.rps)} | ${f2(x.p50Ms)} | ${f2(x.p99Ms)} | ${f1(x.cpuUsPerRequest)} | ${f0(x.serverCpuUs)} | ${x.errors} |`);
    }
    L.push('');
    return L;
  },
});
