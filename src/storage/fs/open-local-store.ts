import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { echoInput, invalidArgument, quoteInput } from '../../lib/errors';
import type { ObjectStore } from '../object-store';
import { ReadOnlyLocalFileStore } from './read-only-local-file-store';

/**
 * A local store directory, read-only; a clear refusal when it is missing or holds nothing under the prefix
 * (a data directory given for its store, say). `recover --path` opens its directory so too.
 */
export function openLocalStore(dir: string, prefix: string): ObjectStore {
  if (!isDirectory(dir))
    throw invalidArgument(`${echoInput(dir)} is not a directory`, { path: echoInput(dir) });
  if (!isDirectory(path.join(dir, prefix))) {
    const nested = path.join(dir, 'store');
    const hint = isDirectory(path.join(nested, prefix))
      ? ` (it looks like a data directory: try --path ${echoInput(nested)})`
      : ` (is it a Tidemark store? another prefix: --prefix)`;
    throw invalidArgument(`${echoInput(dir)} holds nothing under the prefix ${quoteInput(prefix)}${hint}`, {
      path: echoInput(dir),
      prefix: echoInput(prefix),
    });
  }
  return new ReadOnlyLocalFileStore(dir);
}

function isDirectory(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory();
}
