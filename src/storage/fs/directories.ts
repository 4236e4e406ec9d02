import { promises as fs } from 'node:fs';
import { dirname, sep } from 'node:path';
import { syncDirectory } from '../../lib/fs/sync-directory';

/**
 * Creates `dir` and its missing parents. With `sync`, each new directory's name is made durable (its parent
 * is fsynced), so an object fsynced inside it cannot vanish with its directory on power loss.
 */
export async function makeDirectories(dir: string, sync: boolean): Promise<void> {
  const first = await fs.mkdir(dir, { recursive: true });
  if (first === undefined || !sync) return;
  for (let created = dir; ; created = dirname(created)) {
    await syncDirectory(dirname(created));
    if (created === first || created === dirname(created)) return;
  }
}

/** Removes `dir` and then its parents while they are empty, never `root` or above it. Best effort. */
export async function removeEmptyDirectories(dir: string, root: string): Promise<void> {
  const inside = root.endsWith(sep) ? root : root + sep;
  for (let current = dir; current.startsWith(inside) && current !== root; current = dirname(current)) {
    try {
      await fs.rmdir(current);
    } catch {
      return; // not empty (ENOTEMPTY), already gone, or not ours to remove: stop climbing
    }
  }
}
