import { promises as fs, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { compareKeys, segmentProblem } from '../key-rules';
import type { ListedObject } from '../object-store';
import { fsError, isMissing } from './fs-errors';
import { statObject } from './object-files';

/**
 * Lists the objects under `root` whose keys begin with `prefix`, in key order, one directory at a time.
 * Depth-first with each directory's entries sorted by `name + '/'` for directories and `name` for files gives
 * exactly the order of the full keys (every key inside directory `a` begins with `a/`). Names that are not
 * valid key segments — temporary files (`.…tmp`), anything else dotted or odd — are not objects and are
 * skipped.
 */
export async function* walkKeys(root: string, prefix: string): AsyncGenerator<ListedObject> {
  const slash = prefix.lastIndexOf('/');
  const dirKey = prefix.slice(0, slash + 1);
  const dir = dirKey === '' ? root : join(root, ...dirKey.slice(0, -1).split('/'));
  yield* walkDirectory(dir, dirKey, prefix.slice(slash + 1));
}

async function* walkDirectory(
  dir: string,
  keyPrefix: string,
  startsWith: string,
): AsyncGenerator<ListedObject> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw fsError(error, 'list', keyPrefix);
  }
  const items = entries
    .filter((e) => e.name.startsWith(startsWith) && (e.isFile() || e.isDirectory()))
    .filter((e) => segmentProblem(e.name) === undefined)
    .map((e) => ({
      name: e.name,
      isDirectory: e.isDirectory(),
      order: e.isDirectory() ? `${e.name}/` : e.name,
    }))
    .sort((a, b) => compareKeys(a.order, b.order));
  for (const item of items) {
    const key = keyPrefix + item.name;
    if (item.isDirectory) {
      yield* walkDirectory(join(dir, item.name), `${key}/`, '');
    } else {
      const info = await statObject(join(dir, item.name), key);
      if (info !== undefined) yield { key, ...info }; // undefined: deleted since readdir
    }
  }
}
