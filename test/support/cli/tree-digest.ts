import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Every file, link and directory under `dir` (relative path → `dir`, the link's target or the sha1 of the
 * content), so that two
 * snapshots taken around a command show exactly what it created, changed or removed. `skip` names
 * subtrees (relative paths) left out.
 */
export function treeDigest(dir: string, skip: readonly string[] = []): Map<string, string> {
  const digest = new Map<string, string>();
  const walk = (relative: string) => {
    for (const name of readdirSync(path.join(dir, relative)).sort()) {
      const child = relative === '' ? name : path.join(relative, name);
      if (skip.includes(child)) continue;
      const full = path.join(dir, child);
      const stat = lstatSync(full);
      if (stat.isDirectory()) {
        digest.set(child, 'dir');
        walk(child);
      } else if (stat.isSymbolicLink()) {
        digest.set(child, `-> ${readlinkSync(full)}`);
      } else {
        digest.set(child, createHash('sha1').update(readFileSync(full)).digest('hex'));
      }
    }
  };
  if (existsSync(dir)) walk('');
  return digest;
}

/** The relative paths created, changed or removed between two digests. */
export function treeChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed = new Set<string>();
  for (const [name, hash] of before) if (after.get(name) !== hash) changed.add(name);
  for (const name of after.keys()) if (!before.has(name)) changed.add(name);
  return [...changed].sort();
}
