import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isMissing } from './fs-errors';

/**
 * Temporary files of the local store: `.{name}.{owner}.{n}.tmp` beside the object they will become. The
 * leading dot keeps them out of listings (no key segment may begin with a dot), `owner` names the store
 * instance that writes them, so a start-up sweep removes only other instances' leftovers.
 */

export function tempFileName(name: string, owner: string, n: number): string {
  return `.${name}.${owner}.${n}.tmp`;
}

export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/** Removes temporary files under `root` not written by `owner` (a crash's leftovers); returns how many. */
export async function removeLeftoverTempFiles(root: string, owner: string): Promise<number> {
  let removed = 0;
  const entries = await fs.readdir(root, { withFileTypes: true }).catch((error: unknown) => {
    if (isMissing(error)) return []; // removed meanwhile by a delete's empty-directory cleanup
    throw error;
  });
  for (const entry of entries) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) removed += await removeLeftoverTempFiles(path, owner);
    else if (isTempFileName(entry.name) && !entry.name.includes(`.${owner}.`)) {
      await fs.rm(path, { force: true });
      removed++;
    }
  }
  return removed;
}
