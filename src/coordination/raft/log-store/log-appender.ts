import { promises as fs } from 'node:fs';
import { writeAll, writeAllSync } from './write-all';

/**
 * Records up to this size are written on the calling thread: into the page cache in microseconds, where a
 * round trip through libuv's thread pool cost 0.5–1 ms per save (p50) with three nodes on this 2-core
 * machine (proposals commit ~25% sooner: p50 0.75–1.0 ms against 1.05–1.4 ms, npm run bench:cluster). The
 * fdatasync, which waits on the disk, stays off the event loop. The price: when the kernel throttles writers
 * (dirty pages over its limit, e.g. during a large checkpoint on the same disk) the write blocks the event
 * loop rather than a pool thread, for as long as the save would have waited anyway.
 */
const SYNC_WRITE_MAX_BYTES = 256 * 1024;

/**
 * The log file, open at the end of its acknowledged records: each append is one positional write and one
 * fdatasync. A failed append cuts the file back to that end (best effort) so that what was not acknowledged
 * does not linger where a later append or a load would find it.
 */
export class LogAppender {
  private constructor(
    private readonly handle: fs.FileHandle,
    /** The end of the last acknowledged record. */
    private end: number,
  ) {}

  static async open(file: string, end: number): Promise<LogAppender> {
    return new LogAppender(await fs.open(file, 'r+'), end);
  }

  get size(): number {
    return this.end;
  }

  /** Cuts the file to the acknowledged end (a torn tail found on load), durably. */
  async cutTail(): Promise<void> {
    await this.handle.truncate(this.end);
    await this.handle.datasync();
  }

  async append(record: Uint8Array): Promise<void> {
    try {
      if (record.length <= SYNC_WRITE_MAX_BYTES) writeAllSync(this.handle.fd, record, this.end);
      else await writeAll(this.handle, [record], this.end);
      await this.handle.datasync();
    } catch (error) {
      await this.cutTail().catch(() => undefined);
      throw error;
    }
    this.end += record.length;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}
