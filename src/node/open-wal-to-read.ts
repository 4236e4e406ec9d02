import type { TidemarkConfig } from '../config';
import { TidemarkError } from '../lib/errors';
import { SegmentedWal, DirLock, whyOpenWouldWrite } from '../wal';

/**
 * The node's WAL opened for a recovery to read — or undefined, with a warning, when it cannot be read
 * without writing: a running node holds it (LOCKED), or opening it would repair it (a torn tail cut, a seal
 * finished, temporary files removed, a segment started: wal/inspect.ts). A recovery writes nothing into a
 * node's data directory; the node repairs its WAL when it starts. Without it, only what was uploaded to the
 * store is read.
 */
export async function openWalToRead(
  wal: TidemarkConfig['wal'],
  warn: (text: string) => void,
): Promise<SegmentedWal | undefined> {
  const { dir, ...options } = wal;
  const notRead = (why: string) => {
    warn(`${why}; the local WAL is not read (only what was uploaded to the store)`);
    return undefined;
  };
  try {
    // Looked at under the lock, so that a running node's write in flight is not taken for a torn tail.
    const lock = await DirLock.acquire(dir);
    let change: string | undefined;
    try {
      change = await whyOpenWouldWrite(dir);
    } finally {
      await lock.release();
    }
    if (change !== undefined) return notRead(`opening the WAL would change it: ${change}`);
    // Opened to read: nothing is deleted (canDelete), nothing preallocated.
    return await SegmentedWal.open(dir, { ...options, preallocate: false, canDelete: () => false });
  } catch (error) {
    if (!TidemarkError.is(error, 'LOCKED')) throw error;
    return notRead(error.message);
  }
}
