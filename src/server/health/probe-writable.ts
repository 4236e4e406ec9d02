import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Proves `dir` writable the way the WAL needs it: create a small file, write, fsync, unlink.
 * The probe's name (`.health-probe-*`) is not a segment name, so the WAL never mistakes it for one.
 */
export async function probeWritable(dir: string): Promise<void> {
  const file = path.join(dir, `.health-probe-${process.pid}-${randomUUID()}`);
  const handle = await fs.open(file, 'wx');
  try {
    await handle.write('tidemark health probe\n');
    await handle.sync();
  } finally {
    await handle.close();
    await fs.rm(file, { force: true });
  }
}
