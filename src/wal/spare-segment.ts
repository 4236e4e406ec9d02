import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../lib/logger';

const SPARE_NAME = 'spare-segment.tmp';
const ZERO_CHUNK = Buffer.alloc(1024 * 1024);

/**
 * Zero-fills the next segment file in the background (like etcd's file pipeline), so that appends
 * into it overwrite allocated blocks and fdatasync need not update the file size — about half the
 * fsync latency on ext4 here. A spare that cannot be made (disk full) is simply not there: the
 * writer then creates a plain file, and tries again at the next rotation.
 */
export class SparePipeline {
  private pending?: Promise<string | undefined>;
  private cancelled = false;

  constructor(
    private readonly dir: string,
    private readonly size: number,
    private readonly logger: Logger,
  ) {}

  /** Starts making a spare if none is ready or being made. */
  refill(): void {
    if (this.pending || this.cancelled) return;
    this.pending = this.make();
  }

  /** The path of a ready, zero-filled spare (now the caller's), or undefined. */
  async take(): Promise<string | undefined> {
    const pending = this.pending;
    this.pending = undefined;
    return pending ? await pending : undefined;
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    const spare = await this.take();
    if (spare) await fs.rm(spare, { force: true });
  }

  private async make(): Promise<string | undefined> {
    const path = join(this.dir, SPARE_NAME);
    try {
      const handle = await fs.open(path, 'w');
      try {
        for (let at = 0; at < this.size && !this.cancelled; at += ZERO_CHUNK.length) {
          const length = Math.min(ZERO_CHUNK.length, this.size - at);
          await handle.write(ZERO_CHUNK, 0, length, at);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (this.cancelled) throw new Error('cancelled');
      return path;
    } catch (error) {
      if (!this.cancelled)
        this.logger.warn({ err: error, path }, 'could not preallocate the next WAL segment');
      await fs.rm(path, { force: true }).catch(() => undefined);
      return undefined;
    }
  }
}
