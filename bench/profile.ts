/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and by file, as a share
 * of the non-idle samples.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ROOT } from './common';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One row of a profile summary: share of non-idle CPU samples, percent. */
export interface ProfileRow {
  name: string;
  selfPercent: number;
}

/** Top functions and files by self time. */
export interface ProfileSummary {
  /** Non-idle sampled time, ms. */
  sampledMs: number;
  functions: ProfileRow[];
  files: ProfileRow[];
}

function where(url: string): string {
  if (!url) return '';
  if (url.startsWith('file://')) {
    const rel = relative(ROOT, new URL(url).pathname);
    const nm = rel.lastIndexOf('node_modules/');
    return nm >= 0 ? rel.slice(nm + 'node_modules/'.length) : rel;
  }
  return url;
}

/** Reads a `.cpuprofile` and returns the `top` functions and files by self time. */
export function summariseProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fnTime = new Map<string, number>();
  const fileTime = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') return;
    total += dt;
    const w = where(node.callFrame.url);
    const name = `${node.callFrame.functionName || '(anonymous)'}${w ? ` ${w}:${node.callFrame.lineNumber + 1}` : ''}`;
    fnTime.set(name, (fnTime.get(name) ?? 0) + dt);
    const fileKey = w || node.callFrame.functionName;
    fileTime.set(fileKey, (fileTime.get(fileKey) ?? 0) + dt);
  });
  const rows = (m: Map<string, number>): ProfileRow[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, t]) => ({ name, selfPercent: (100 * t) / Math.max(1, total) }));
  return { sampledMs: total / 1000, functions: rows(fnTime), files: rows(fileTime) };
}
