/**
 * B1 against FreeRADIUS 3 started without debug output (test config: one worker thread): our client, the
 * limit client and radclient. Selected with `--only b1`; skipped when FreeRADIUS is not installed.
 */
import { PASSWORD, procSample, SECRET, USERNAME } from '../common';
import { freeradiusInstalled, startBenchFreeRadius } from '../freeradius';
import { runRadclient, type RadclientBaseline } from '../radclient';
import { defineSuite, runNodeClient } from '../suite';
import { b1Table, checkB1Rows, RADCLIENT_BASELINE, type B1Row } from './b1';

interface FreeRadiusConfig {
  clients: string[];
  concurrency: number[];
  durationMs: number;
}

export default defineSuite<B1Row[], FreeRadiusConfig>({
  name: 'b1FreeRadius',
  option: 'b1',
  config: {
    smoke: { clients: ['ours'], concurrency: [10], durationMs: 300 },
    full: { clients: ['ours', 'limit', 'radclient'], concurrency: [10, 100], durationMs: 3000 },
  },
  enabled: () => freeradiusInstalled(),

  async run({ config: cfg, log, radclient, shared }) {
    const baseline = shared[RADCLIENT_BASELINE] as RadclientBaseline | undefined;
    const server = await startBenchFreeRadius(SECRET);
    const rows: B1Row[] = [];
    try {
      for (const concurrency of cfg.concurrency) {
        for (const kind of cfg.clients) {
          if (kind === 'radclient' && (!radclient || !baseline)) continue;
          const cpuBefore = procSample(server.pid)?.cpuUs ?? Number.NaN;
          const r =
            kind === 'radclient'
              ? await runRadclient({ radclient: radclient!, port: server.port, secret: SECRET, user: USERNAME, password: PASSWORD, concurrency, durationMs: cfg.durationMs, minRequests: 200, baseline: baseline! })
              : await runNodeClient(kind, server.port, concurrency, cfg.durationMs, 300);
          const cpuAfter = procSample(server.pid)?.cpuUs ?? Number.NaN;
          const serverCpu = (cpuAfter - cpuBefore) / Math.max(1, r.requests);
          log(`FreeRADIUS ${kind} c=${concurrency}: ${Math.round(r.rps)} req/s, ${r.errors} errors`);
          rows.push({ ...r, responderBad: 0, runs: 1, notes: [r.notes, `FreeRADIUS ≈${serverCpu.toFixed(0)} µs CPU/req (incl. warm-up)`].filter(Boolean).join('; ') });
        }
      }
    } finally {
      await server.stop();
    }
    return rows;
  },

  check: (rows, { smoke }) => checkB1Rows(rows, smoke),
  details: (rows) => b1Table(rows, '#### B1 against FreeRADIUS 3 without debug output (test config: one worker thread)'),
});
