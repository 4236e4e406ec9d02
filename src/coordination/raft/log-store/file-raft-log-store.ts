import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TidemarkError } from '../../../lib/errors';
import { silentLogger, type Logger } from '../../../lib/logger';
import { SerialQueue } from '../../../lib/serial-queue';
import type { Snapshot } from '../core';
import { ioFailure } from './io-failure';
import { LogAppender } from './log-appender';
import { FILE_HEADER_SIZE, LOG_FILE, LOG_MAGIC, fileHeader, snapshotFileName } from './log-format';
import type { LogState } from './log-state';
import { openLogDirectory } from './open-log-directory';
import type { RaftLogStore, RaftLogUpdate, StoredRaftState } from './raft-log-store';
import { replaceFileWithBytes } from './replace-file-with-bytes';
import { SaveRecordEncoder, encodeLogRecords } from './save-record-encoder';
import { writeSnapshotFile } from './snapshot-file';
import { storeClosed } from './store-closed';
import { checkSnapshotShape } from './value-checks';

export interface FileRaftLogStoreOptions {
  /** Told when load cuts a torn tail. */
  logger?: Logger;
}

/**
 * The Raft log store on disk (log-format.ts, docs/raft-log-store.md): a directory with an append-only `log`
 * (one checksummed record per save, one write and one fdatasync) and the snapshot file the log names.
 * Calls run one at a time in call order. The state is kept in memory too (the entries by reference), for
 * checking saves and for compaction's rewrite.
 *
 * After a failed write (IO_ERROR, DISK_FULL) the file is cut back to its last acknowledged record where the
 * file system allows, and the store refuses saves and compactions with that error until `load()` runs
 * again: what the disk holds is then read anew rather than assumed.
 */
export class FileRaftLogStore implements RaftLogStore {
  private readonly queue = new SerialQueue();
  private readonly encoder = new SaveRecordEncoder();
  private readonly logger: Logger;
  private readonly logFile: string;
  private open: { state: LogState; appender: LogAppender } | undefined;
  private failure: TidemarkError | undefined;
  private closed = false;

  constructor(
    readonly dir: string,
    options: FileRaftLogStoreOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.logFile = path.join(dir, LOG_FILE);
  }

  load(): Promise<StoredRaftState> {
    return this.queue.run(async () => {
      if (this.closed) throw storeClosed('is closed');
      await this.open?.appender.close();
      this.open = undefined;
      this.failure = undefined;
      const { state, snapshot, appender } = await openLogDirectory(this.dir, this.logger);
      this.open = { state, appender };
      return { hardState: state.hardState, snapshot, entries: state.entries.slice() };
    });
  }

  save(update: RaftLogUpdate): Promise<void> {
    return this.queue.run(async () => {
      const { state, appender } = this.writable();
      if (update.snapshot) checkSnapshotShape(update.snapshot);
      state.checkChange(update);
      if (!update.snapshot && update.entries.length === 0 && !update.hardState) return;
      const record = this.encoder.encode(update);
      try {
        // The snapshot file first: the record names it, so it must be durable before the record is.
        if (update.snapshot) await writeSnapshotFile(this.dir, update.snapshot);
        await appender.append(record);
      } catch (error) {
        throw this.fail(error, 'save to');
      }
      const previousSnapshot = state.snapshotIndex;
      state.applyChange(update);
      if (update.snapshot) await this.removeSnapshotFile(previousSnapshot);
    });
  }

  compact(snapshot: Snapshot): Promise<void> {
    return this.queue.run(async () => {
      const open = this.writable();
      const { state } = open;
      state.checkCompaction(snapshot);
      const position = { index: snapshot.index, term: snapshot.term };
      const kept = state.entries.slice(snapshot.index - state.snapshotIndex);
      const records = encodeLogRecords({ snapshot: position, entries: kept, hardState: state.hardState });
      let size = FILE_HEADER_SIZE;
      for (const record of records) size += record.length;
      try {
        await writeSnapshotFile(this.dir, snapshot);
        // The rename is the commit point: before it the old log (and its snapshot) stands whole.
        await replaceFileWithBytes(this.logFile, [fileHeader(LOG_MAGIC), ...records]);
        await open.appender.close();
        open.appender = await LogAppender.open(this.logFile, size);
      } catch (error) {
        throw this.fail(error, 'compact');
      }
      const previousSnapshot = state.snapshotIndex;
      state.dropThrough(position);
      await this.removeSnapshotFile(previousSnapshot);
    });
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      this.closed = true;
      await this.open?.appender.close();
      this.open = undefined;
    });
  }

  private writable(): { state: LogState; appender: LogAppender } {
    if (this.closed) throw storeClosed('is closed');
    if (!this.open) throw storeClosed('is not open: call load() first');
    if (this.failure) {
      throw new TidemarkError(
        this.failure.code,
        `an earlier write to the Raft log failed (${this.failure.message}); load() the store again before writing`,
        { cause: this.failure, details: this.failure.details },
      );
    }
    return this.open;
  }

  private fail(error: unknown, doing: string): TidemarkError {
    const failure = ioFailure(error, doing, this.logFile);
    this.failure = failure;
    return failure;
  }

  /** A replaced snapshot's file; one left behind by a crash here is removed by the next load. */
  private async removeSnapshotFile(index: number): Promise<void> {
    if (index === 0) return;
    await fs.rm(path.join(this.dir, snapshotFileName(index)), { force: true }).catch(() => undefined);
  }
}
