import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { syncDirectory } from '../../../lib/fs/sync-directory';
import { writeAll } from './write-all';

/**
 * Replaces `file` with `buffers` so that a crash leaves the old file whole or the new one: written to
 * `.{name}.tmp` beside it, fsynced, renamed over the name, the directory fsynced. (lib's
 * replaceFileAtomically does the same for text.) Throws the file system's error; a failed attempt
 * removes its temporary file.
 */
export async function replaceFileWithBytes(file: string, buffers: readonly Uint8Array[]): Promise<void> {
  const temp = temporaryPathFor(file);
  try {
    const handle = await fs.open(temp, 'w', 0o644);
    try {
      await writeAll(handle, buffers, 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(path.dirname(file));
}

export function temporaryPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
}
