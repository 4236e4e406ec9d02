import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TidemarkError } from '../errors';
import { syncDirectory } from './sync-directory';

/**
 * Replaces `file` with `text` so that a crash or a failed write leaves either the old file whole or the new
 * one: the text goes to `.{name}.tmp` beside it, is fsynced, renamed over the real name, and the directory
 * is fsynced. Saves of one file must not overlap (callers serialise them). `what` names the file in errors
 * (DISK_FULL on ENOSPC, else IO_ERROR).
 */
export async function replaceFileAtomically(file: string, text: string, what: string): Promise<void> {
  const tempPath = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.open(tempPath, 'w', 0o644);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tempPath, file);
    await syncDirectory(path.dirname(file));
  } catch (error) {
    await fs.unlink(tempPath).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    throw new TidemarkError(
      code === 'ENOSPC' ? 'DISK_FULL' : 'IO_ERROR',
      `cannot write ${what} ${file}: ${(error as Error).message}`,
      { cause: error, details: { file } },
    );
  }
}
