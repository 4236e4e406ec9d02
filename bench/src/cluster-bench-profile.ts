/**
 * Where a node's CPU time went: the top self-time functions of a V8 CPU profile (node --cpu-prof), as a
 * share of the busy time (the "(idle)" samples left out), each with its file and line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  function: string;
  where: string;
  ms: number;
  /** Share of the busy time. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  idleMs: number;
  top: SelfTime[];
}

export function summariseProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<string, SelfTime>();
  let busyMs = 0;
  let idleMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byNode.get(profile.samples[i] as number);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const where = url === '' ? '' : `${shorten(url)}:${lineNumber + 1}`;
    const key = `${functionName}@${where}`;
    const entry = selfMs.get(key) ?? { function: functionName || '(anonymous)', where, ms: 0, share: 0 };
    entry.ms += ms;
    selfMs.set(key, entry);
  }
  const sorted = [...selfMs.values()].sort((a, b) => b.ms - a.ms).slice(0, top);
  for (const entry of sorted) entry.share = busyMs > 0 ? entry.ms / busyMs : 0;
  return { file, busyMs, idleMs, top: sorted };
}

/** A path from the repository (bench/dist/…) or node_modules on, not the whole file URL. */
function shorten(url: string): string {
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const modules = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (modules >= 0) return file.slice(modules + 1);
  const dist = file.indexOf(`${path.sep}bench${path.sep}dist${path.sep}`);
  return dist >= 0 ? file.slice(dist + 1) : file;
}
