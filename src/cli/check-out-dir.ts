import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { echoInput, invalidArgument } from '../lib/errors';

/** readdir(2) errors that mean the caller named a place no directory can be made. */
const NO_PLACE: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
};

/**
 * `recover --out`, checked before any work — in a dry run too, so that it says whether the real run would be
 * refused: a directory that is not there (its parents are made) or is empty. The writer checks again as it
 * writes (recovery/output/directory-writer.ts); this spares a recovery whose result could not be written.
 */
export async function checkOutDir(out: string): Promise<void> {
  if (out.trim() === '') throw invalidArgument('--out is empty: name a new or empty directory');
  const shown = echoInput(out);
  let entries: string[];
  try {
    entries = await fs.readdir(path.resolve(out));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT') return;
    const isFile = code === 'ENOTDIR' && (await fs.stat(path.resolve(out)).catch(() => undefined))?.isFile();
    if (isFile) throw invalidArgument(`--out ${shown} is a file, not a directory`, { out: shown });
    const reason = NO_PLACE[code];
    if (reason !== undefined) throw invalidArgument(`--out ${shown}: ${reason}`, { out: shown });
    throw error;
  }
  if (entries.length > 0) {
    throw invalidArgument(`--out ${shown} is not empty; name a new or empty directory`, { out: shown });
  }
}
