import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../lib/clock';
import { nowMicros } from './entry';
import { HEADER_SIZE, segmentFileName } from './format';
import { closeFd, fdatasync, fsyncFd, ftruncate, openFd, writeAllAt } from './file-io';
import { syncDirectory } from '../lib/fs/sync-directory';
import { encodeFooter } from './segment-footer';
import { encodeHeader } from './segment-header';
import type { SegmentScan } from './segment-scan';
import type { SegmentInfo } from './wal-options';

/**
 * The one segment being written. `size` is the committed end: every byte before it was written
 * (and, with sync, made durable) by a flush that succeeded; nothing after it counts.
 */
export class ActiveSegment {
  entryCount = 0;
  lastLsn: number;
  bodyCrc = 0;
  minTimestamp = 0;
  maxTimestamp = 0;

  private constructor(
    private fd: number,
    readonly name: string,
    readonly path: string,
    readonly firstLsn: number,
    public size: number,
  ) {
    this.lastLsn = firstLsn - 1;
  }

  /**
   * Creates a new segment starting at `firstLsn`: header (stamped with `clock`'s time) written and durable,
   * then renamed into place.
   */
  static async create(
    dir: string,
    firstLsn: number,
    spare: string | undefined,
    clock: Clock,
  ): Promise<ActiveSegment> {
    const name = segmentFileName(firstLsn);
    const path = join(dir, name);
    const temp = spare ?? join(dir, `${name}.tmp`);
    const fd = await openFd(temp, spare ? 'r+' : 'w+');
    try {
      await writeAllAt(fd, [encodeHeader(firstLsn, nowMicros(clock))], HEADER_SIZE, 0);
      await fsyncFd(fd);
      await fs.rename(temp, path);
      await syncDirectory(dir);
    } catch (error) {
      await closeFd(fd).catch(() => undefined);
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
    return new ActiveSegment(fd, name, path, firstLsn, HEADER_SIZE);
  }

  /** Continues writing a segment found on open, after its last good frame. */
  static async resume(path: string, scan: SegmentScan): Promise<ActiveSegment> {
    const fd = await openFd(path, 'r+');
    const segment = new ActiveSegment(fd, scan.file, path, scan.header.firstLsn, scan.dataEnd);
    segment.entryCount = scan.entryCount;
    segment.lastLsn = scan.lastLsn;
    segment.bodyCrc = scan.bodyCrc;
    segment.minTimestamp = scan.minTimestamp;
    segment.maxTimestamp = scan.maxTimestamp;
    if (scan.torn) await segment.erase(); // cut the torn tail: bytes after dataEnd never counted
    return segment;
  }

  /**
   * Writes frames at the committed end without committing them; durable on return when `sync`.
   * fdatasync also persists a grown file size; in a zero-filled spare it has no size to update.
   */
  async write(buffers: Buffer[], bytes: number, sync: boolean): Promise<void> {
    await writeAllAt(this.fd, buffers, bytes, this.size);
    if (sync) await fdatasync(this.fd);
  }

  commit(bytes: number, count: number, bodyCrc: number, minTimestamp: number, maxTimestamp: number): void {
    if (this.entryCount === 0 || minTimestamp < this.minTimestamp) this.minTimestamp = minTimestamp;
    if (maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
    this.size += bytes;
    this.entryCount += count;
    this.lastLsn += count;
    this.bodyCrc = bodyCrc;
  }

  /**
   * Removes everything after the committed end (a failed flush, a torn tail), durably, so that frames
   * whose appends were refused can never be read back.
   */
  async erase(): Promise<void> {
    await ftruncate(this.fd, this.size);
    await fsyncFd(this.fd);
  }

  /** Writes the footer, cuts the file after it, makes it durable and closes the segment. */
  async seal(lastSequences: Map<string, number>): Promise<SegmentInfo> {
    const footer = encodeFooter({
      entryCount: this.entryCount,
      firstLsn: this.firstLsn,
      lastLsn: this.lastLsn,
      bodyBytes: this.size - HEADER_SIZE,
      bodyCrc: this.bodyCrc,
      minTimestamp: this.minTimestamp,
      maxTimestamp: this.maxTimestamp,
      lastSequences,
    });
    try {
      await writeAllAt(this.fd, [footer], footer.length, this.size);
      await ftruncate(this.fd, this.size + footer.length);
      await fsyncFd(this.fd);
    } catch (error) {
      await this.erase().catch(() => undefined);
      throw error;
    }
    // Sealed and durable: a failing close must not leave the segment looking active to the writer.
    await this.close().catch(() => undefined);
    return { ...this.info(), sealed: true, sizeBytes: this.size + footer.length, bodyCrc: this.bodyCrc };
  }

  info(): SegmentInfo {
    return {
      name: this.name,
      path: this.path,
      firstLsn: this.firstLsn,
      lastLsn: this.lastLsn,
      entryCount: this.entryCount,
      sizeBytes: this.size,
      sealed: false,
      minTimestamp: this.minTimestamp,
      maxTimestamp: this.maxTimestamp,
    };
  }

  async close(): Promise<void> {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    await closeFd(fd);
  }
}
