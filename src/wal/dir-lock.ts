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

/** What is locked, for the refusal: a WAL directory (one writer) or a node's data directory (one node). */
export interface LockedThing {
  what: string;
  owner: string;
}

const WAL_DIRECTORY: LockedThing = { what: 'WAL directory', owner: 'writer' };

function locked(dir: string, pid: number, thing: LockedThing): TidemarkError {
  return new TidemarkError(
    'LOCKED',
    `${thing.what} ${dir} is already open by process ${pid}; only one ${thing.owner} may open it`,
    { details: { dir, pid } },
  );
}

/**
 * One writer per directory (a WAL's; a node's data directory): a LOCK file holding the owner's pid. A lock left by a process that
 * no longer runs (kill -9) is taken over; a live owner, or another open in this process, is refused.
 */
export class DirLock {
  private constructor(
    private readonly dir: string,
    private readonly path: string,
  ) {}

  static async acquire(dir: string, thing: LockedThing = WAL_DIRECTORY): Promise<DirLock> {
    const key = resolve(dir);
    if (heldInThisProcess.has(key)) throw locked(dir, process.pid, thing);
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
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) throw locked(dir, owner, thing);
      await fs.rm(path, { force: true }); // stale: its owner is gone
    }
    throw locked(dir, Number.NaN, thing);
  }

  async release(): Promise<void> {
    heldInThisProcess.delete(this.dir);
    await fs.rm(this.path, { force: true });
  }
}
