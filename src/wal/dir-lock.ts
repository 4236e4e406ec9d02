import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { TidemarkError } from '../lib/errors';

const LOCK_FILE = 'LOCK';
const heldInThisProcess = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function locked(dir: string, pid: number): TidemarkError {
  return new TidemarkError(
    'LOCKED',
    `WAL directory ${dir} is already open by process ${pid}; only one writer may open it`,
    { details: { dir, pid } },
  );
}

/**
 * One writer per WAL directory: a LOCK file holding the owner's pid. A lock left by a process that
 * no longer runs (kill -9) is taken over; a live owner, or another open in this process, is refused.
 */
export class DirLock {
  private constructor(
    private readonly dir: string,
    private readonly path: string,
  ) {}

  static async acquire(dir: string): Promise<DirLock> {
    const key = resolve(dir);
    if (heldInThisProcess.has(key)) throw locked(dir, process.pid);
    const path = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await fs.open(path, 'wx');
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
        await handle.close();
        heldInThisProcess.add(key);
        return new DirLock(key, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number.parseInt(await fs.readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) throw locked(dir, owner);
      await fs.rm(path, { force: true }); // stale: its owner is gone
    }
    throw locked(dir, Number.NaN);
  }

  async release(): Promise<void> {
    heldInThisProcess.delete(this.dir);
    await fs.rm(this.path, { force: true });
  }
}
