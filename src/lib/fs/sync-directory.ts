import { promises as fs } from 'node:fs';

/**
 * Makes a create, rename, link or unlink inside `dir` durable: after a file's own fsync, its name is only
 * durable once the directory holding it is synced too. Used by the WAL and the local object store.
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
