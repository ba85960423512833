/** CPU profiles (`node --cpu-prof`) of RadiusClient and the limit client at 100 in flight; full runs only. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summariseProfile, type ProfileSummary } from '../profile';
import { defineSuite, f0, f1, NAMES, runNodeClient, startResponder } from '../suite';

export default defineSuite<Record<string, ProfileSummary>, boolean>({
  name: 'profiles',
  option: 'profile',
  config: { smoke: false, full: true },
  enabled: ({ config }) => config,

  async run() {
    const responder = await startResponder();
    const out: Record<string, ProfileSummary> = {};
    try {
      for (const kind of ['ours', 'limit']) {
        const dir = mkdtempSync(join(tmpdir(), 'passport-radius-bench-prof-'));
        try {
          await runNodeClient(kind, responder.port, 100, 3000, 500, ['--cpu-prof', '--cpu-prof-dir', dir]);
          const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
          if (file) out[kind] = summariseProfile(join(dir, file), 15);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    } finally {
      await responder.child.kill();
    }
    return out;
  },

  details(profiles) {
    const L: string[] = [];
    for (const [kind, p] of Object.entries(profiles)) {
      L.push(`#### CPU profile: ${NAMES[kind] ?? kind}, 100 in flight (\`node --cpu-prof\`, self time, % of ${f0(p.sampledMs)} ms busy)`, '');
      L.push('| function | self % |', '|---|---:|');
      for (const x of p.functions.slice(0, 12)) L.push(`| \`${x.name}\` | ${f1(x.selfPercent)} |`);
      L.push('', `By file: ${p.files.slice(0, 8).map((x) => `${x.name} ${f1(x.selfPercent)}%`).join(', ')}`, '');
    }
    return L;
  },
});
