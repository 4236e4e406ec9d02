import { promises as fs } from 'node:fs';
import { systemClock, type Clock } from '../lib/clock';
import { TidemarkError, invalidArgument } from '../lib/errors';
import { silentLogger, type Logger } from '../lib/logger';
import { ActiveSegment } from './active-segment';
import { DirLock } from './dir-lock';
import type { LogEntry, LogRecord } from './entry';
import { FRAME_BODY_OFFSET } from './format';
import { measureEntriesFrame, writeEntriesFrame, type MeasuredEntries } from './frame';
import { AppendRequest, planFlush, type FlushPlan } from './append-request';
import { FrameArena } from './frame-arena';
import { LatencyWindow } from './latency-window';
import { SequenceGuard, type SequenceUndo } from './sequence-guard';
import { removeTemporaryFiles } from './segment-files';
import { SparePipeline } from './spare-segment';
import { DEFAULT_WAL_OPTIONS, type SegmentInfo, type WalOptions, type WalStats } from './wal-options';
import {
  readEntryFrames,
  readRecordBatches,
  readRecords,
  type EntryFrame,
  type ReadableSegment,
} from './wal-reader';
import { recoverLog } from './wal-recovery';
import { checkWalOptions, ioFailure } from './wal-errors';
import { RetentionRunner } from './retention';

/** Work that must run alone, between flushes, in queue order (seal, drain). */
interface ControlRequest {
  control: () => Promise<void>;
}

type QueueItem = AppendRequest | ControlRequest;

type SealListener = (segment: SegmentInfo) => void;

/**
 * A segmented write-ahead log with group commit. Appends are validated and encoded at once (bad input
 * is refused before anything is queued), then gathered by a single writer into one write and one
 * fdatasync per flush; each promise resolves only after its flush is durable (or written, without
 * sync). LSNs are handed out at flush time, so a failed flush leaves no hole and no reused number.
 */
export class SegmentedWal {
  private readonly queue: QueueItem[] = [];
  private queueHead = 0;
  private flushing = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private sealedSegments: SegmentInfo[];
  private active?: ActiveSegment;
  private nextLsn: number;
  /** Set when a failed flush could not be erased; the next flush erases before writing. */
  private needsErase = false;
  private readonly fsyncLatency = new LatencyWindow();
  private readonly sealListeners: SealListener[] = [];
  private appendedEntries = 0;
  private flushes = 0;
  private readonly recovery: WalStats['recovery'];
  private readonly arena: FrameArena;

  private constructor(
    readonly dir: string,
    private readonly options: WalOptions,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly lock: DirLock,
    private readonly guard: SequenceGuard,
    private readonly spare: SparePipeline | undefined,
    private readonly retention: RetentionRunner,
    recovered: Awaited<ReturnType<typeof recoverLog>>,
    active: ActiveSegment,
  ) {
    this.arena = new FrameArena(Math.max(1024 * 1024, options.bufferSize));
    this.sealedSegments = recovered.sealed;
    this.active = active;
    this.nextLsn = recovered.nextLsn;
    this.recovery = recovered.truncated
      ? {
          truncatedBytes: recovered.truncated.bytes,
          truncatedAt: { file: recovered.truncated.file, offset: recovered.truncated.offset },
        }
      : { truncatedBytes: 0 };
  }

  /** Opens (creating if needed) the log in `dir`: takes the lock, recovers the segments, resumes at the next LSN. */
  static async open(dir: string, options: Partial<WalOptions> = {}): Promise<SegmentedWal> {
    const settings: WalOptions = { ...DEFAULT_WAL_OPTIONS, ...options };
    checkWalOptions(settings);
    const logger = settings.logger ?? silentLogger;
    const clock = settings.clock ?? systemClock;
    await fs.mkdir(dir, { recursive: true });
    const lock = await DirLock.acquire(dir);
    try {
      await removeTemporaryFiles(dir);
      const recovered = await recoverLog(dir, logger);
      const guard = new SequenceGuard(settings.enforceSequence);
      guard.merge(recovered.lastSequences);
      const active = recovered.active
        ? await ActiveSegment.resume(recovered.active.path, recovered.active.scan)
        : await ActiveSegment.create(dir, recovered.nextLsn, undefined, clock);
      // The segment open resumes or creates is not preallocated; every later one is, from the spare.
      const spare = settings.preallocate ? new SparePipeline(dir, settings.segmentSize, logger) : undefined;
      spare?.refill();
      const retention = new RetentionRunner(dir, settings, logger);
      const wal = new SegmentedWal(
        dir,
        settings,
        logger,
        clock,
        lock,
        guard,
        spare,
        retention,
        recovered,
        active,
      );
      logger.info(
        {
          dir,
          nextLsn: wal.nextLsn,
          sealedSegments: recovered.sealed.length,
          truncated: recovered.truncated,
        },
        'WAL opened',
      );
      wal.scheduleCleanup();
      return wal;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Appends one entry; resolves with its LSN once durable (enableSync) or written. */
  append(entry: LogEntry): Promise<number> {
    return this.enqueue([entry]);
  }

  /** Appends entries atomically (one frame): after a crash all of them are in the log, or none. */
  async appendBatch(entries: readonly LogEntry[]): Promise<number[]> {
    if (!Array.isArray(entries)) throw invalidArgument('appendBatch takes an array of entries');
    const first = await this.enqueue(entries);
    const lsns = new Array<number>(entries.length);
    for (let i = 0; i < lsns.length; i++) lsns[i] = first + i;
    return lsns;
  }

  private enqueue(entries: readonly LogEntry[]): Promise<number> {
    if (this.closed) return Promise.reject(new TidemarkError('CLOSED', `WAL ${this.dir} is closed`));
    let measured: MeasuredEntries;
    let undo: SequenceUndo;
    try {
      measured = measureEntriesFrame(entries, this.options);
      undo = this.guard.accept(entries);
    } catch (error) {
      return Promise.reject(error);
    }
    const { frameBytes, minTimestamp, maxTimestamp } = measured;
    const offset = this.arena.reserve(frameBytes);
    const buf = this.arena.buffer;
    writeEntriesFrame(buf, offset, frameBytes, entries);
    return new Promise<number>((resolve, reject) => {
      const request = new AppendRequest(
        buf,
        offset,
        frameBytes,
        entries.length,
        minTimestamp,
        maxTimestamp,
        undo,
        resolve,
        reject,
      );
      if (
        this.options.enableCompression &&
        frameBytes - FRAME_BODY_OFFSET >= this.options.compressionThreshold
      ) {
        request.compressBody();
      }
      this.push(request);
    });
  }

  private push(item: QueueItem): void {
    this.queue.push(item);
    if (!this.flushing) {
      this.flushing = true;
      // A turn of the event loop, not a time: appends made meanwhile join this flush (group commit).
      // eslint-disable-next-line no-restricted-globals
      setImmediate(() => void this.flushLoop());
    }
  }

  /** Runs `work` alone once everything queued before it has been flushed. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.push({ control: () => work().then(resolve, reject) });
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.queueHead < this.queue.length) {
      const head = this.queue[this.queueHead] as QueueItem;
      if ('control' in head) {
        this.queue[this.queueHead++] = undefined as unknown as QueueItem;
        await head.control();
        continue;
      }
      if (!head.ready) await head.compression;
      let segment: ActiveSegment | undefined;
      try {
        segment = await this.segmentFor(head.length);
      } catch (error) {
        await this.failPending(this.takeGroup(this.options.bufferSize), error, this.active);
        continue;
      }
      // At least the head goes; the rest only while it fits the segment and the flush bounds.
      const room = this.options.segmentSize - segment.size;
      await this.flushGroup(this.takeGroup(Math.min(this.options.bufferSize, room)), segment);
    }
    this.queue.length = 0;
    this.queueHead = 0;
    this.flushing = false;
  }

  /** The requests of the next flush: at least one, then as many as `maxBatchSize` and `bufferSize` allow. */
  private takeGroup(maxBytes: number): AppendRequest[] {
    const group: AppendRequest[] = [];
    let entries = 0;
    let bytes = 0;
    while (this.queueHead < this.queue.length) {
      const request = this.queue[this.queueHead] as QueueItem;
      if ('control' in request) break;
      const fits = entries + request.count <= this.options.maxBatchSize && bytes + request.length <= maxBytes;
      if (group.length > 0 && (!fits || !request.ready)) break;
      group.push(request);
      entries += request.count;
      bytes += request.length;
      this.queue[this.queueHead++] = undefined as unknown as QueueItem;
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return group;
  }

  private async flushGroup(group: AppendRequest[], segment: ActiveSegment): Promise<void> {
    let plan: FlushPlan;
    try {
      plan = planFlush(group, this.nextLsn, segment.bodyCrc);
      const started = this.clock.monotonic();
      await segment.write(plan.buffers, plan.bytes, this.options.enableSync);
      if (this.options.enableSync) this.fsyncLatency.record((this.clock.monotonic() - started) * 1000);
      segment.commit(plan.bytes, plan.count, plan.bodyCrc, plan.minTimestamp, plan.maxTimestamp);
    } catch (error) {
      await this.failPending(group, error, segment);
      return;
    }
    const { count } = plan;
    let first = this.nextLsn;
    this.nextLsn += count;
    this.appendedEntries += count;
    this.flushes++;
    for (const request of group) {
      request.resolve(first);
      first += request.count;
    }
  }

  /** The segment the next flush goes to: erases a failed flush first, rotates when `headBytes` would not fit. */
  private async segmentFor(headBytes: number): Promise<ActiveSegment> {
    if (this.needsErase && this.active) {
      await this.active.erase();
      this.needsErase = false;
    }
    const current = this.active;
    if (current && (current.entryCount === 0 || current.size + headBytes <= this.options.segmentSize))
      return current;
    if (current) await this.sealActive();
    const next = await ActiveSegment.create(this.dir, this.nextLsn, await this.spare?.take(), this.clock);
    this.active = next;
    this.spare?.refill();
    return next;
  }

  /** Seals the active segment; its footer carries the sequence table as of its last durable entry. */
  private async sealActive(): Promise<SegmentInfo | undefined> {
    const current = this.active;
    if (!current || current.entryCount === 0) return undefined;
    const pending = this.queuedAppends().map((request) => request.undo);
    const sealed = await current.seal(this.guard.snapshotWithout(pending));
    this.active = undefined;
    this.sealedSegments.push(sealed);
    this.logger.debug({ segment: sealed.name, lastLsn: sealed.lastLsn }, 'WAL segment sealed');
    for (const listener of this.sealListeners) {
      try {
        listener(sealed);
      } catch (error) {
        this.logger.error({ err: error }, 'segment-sealed listener failed');
      }
    }
    this.scheduleCleanup();
    return sealed;
  }

  private queuedAppends(): AppendRequest[] {
    return this.queue.slice(this.queueHead).filter((item): item is AppendRequest => !('control' in item));
  }

  /** A flush failed: every waiting append fails with it, the guard forgets them, the file loses their bytes. */
  private async failPending(
    group: AppendRequest[],
    cause: unknown,
    segment: ActiveSegment | undefined,
  ): Promise<void> {
    const failed = group.concat(this.queuedAppends());
    const controls = this.queue.slice(this.queueHead).filter((item) => 'control' in item);
    this.queue.length = 0;
    this.queueHead = 0;
    this.queue.push(...controls);
    for (let i = failed.length - 1; i >= 0; i--) this.guard.rollback((failed[i] as AppendRequest).undo);
    if (segment && segment === this.active) {
      try {
        await segment.erase();
        this.needsErase = false;
      } catch (eraseError) {
        this.needsErase = true;
        this.logger.error(
          { err: eraseError },
          'could not erase a failed WAL flush; will retry before the next write',
        );
      }
    }
    const error = ioFailure(cause, `flushing ${failed.length} append(s) to ${this.dir}`);
    this.logger.error({ err: cause, code: error.code, appends: failed.length }, 'WAL flush failed');
    for (const request of failed) request.reject(error);
  }

  /** Reads records with `fromLsn <= lsn <= toLsn` (inclusive; defaults: the whole local log). */
  read(range: { fromLsn?: number; toLsn?: number } = {}): AsyncIterable<LogRecord> {
    return readRecords(...this.readable(range));
  }

  /** `read`, a frame's records at a time (no step of the async iteration per record). */
  readBatches(range: { fromLsn?: number; toLsn?: number } = {}): AsyncIterable<LogRecord[]> {
    return readRecordBatches(...this.readable(range));
  }

  /**
   * The frames holding the range's records, entries still encoded (parse them with `parseEntries`): for a
   * reader that copies what it keeps, no object per entry. A frame may reach past either end of the range.
   * `transient`: a frame's bytes are valid only until the next frame is asked for (read buffers reused).
   */
  readFrames(
    range: { fromLsn?: number; toLsn?: number } = {},
    options: { transient?: boolean } = {},
  ): AsyncIterable<EntryFrame> {
    return readEntryFrames(...this.readable(range), options.transient ?? false);
  }

  private readable(range: { fromLsn?: number; toLsn?: number }): [ReadableSegment[], number, number] {
    const fromLsn = range.fromLsn ?? 1;
    const toLsn = range.toLsn ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(fromLsn) || !Number.isSafeInteger(toLsn) || fromLsn < 0) {
      throw invalidArgument('read range: fromLsn and toLsn must be non-negative safe integers');
    }
    const segments: ReadableSegment[] = this.sealedSegments.map((segment) => ({
      ...segment,
      limit: segment.sizeBytes,
    }));
    if (this.active) segments.push({ ...this.active.info(), limit: this.active.size });
    return [segments, fromLsn, toLsn];
  }

  /**
   * Whether any entry of `componentId` was ever appended to this log (the sequence table each sealed
   * segment's footer carries forward, so it remembers components whose segments are gone).
   */
  hasComponent(componentId: string): boolean {
    return this.guard.has(componentId);
  }

  /** Sealed segments, oldest first, then the active one. */
  segments(): SegmentInfo[] {
    const list = this.sealedSegments.map((segment) => ({ ...segment }));
    if (this.active) list.push(this.active.info());
    return list;
  }

  /** Calls `listener` after each segment is sealed (the tiering layer uploads it). */
  onSegmentSealed(listener: SealListener): void {
    this.sealListeners.push(listener);
  }

  /** Seals the active segment now (if it holds entries) and starts a new one, after the appends queued before it. */
  seal(): Promise<SegmentInfo | undefined> {
    if (this.closed) return Promise.reject(new TidemarkError('CLOSED', `WAL ${this.dir} is closed`));
    return this.exclusive(async () => {
      if (!this.active || this.active.entryCount === 0) return undefined;
      const sealed = await this.sealActive();
      this.active = await ActiveSegment.create(this.dir, this.nextLsn, await this.spare?.take(), this.clock);
      this.spare?.refill();
      return sealed;
    });
  }

  /** Deletes old sealed segments that retention and the guard allow; returns how many went. */
  cleanup(): Promise<number> {
    return this.retention.run(
      () => this.sealedSegments,
      (remaining) => (this.sealedSegments = remaining),
    );
  }

  private scheduleCleanup(): void {
    this.retention.schedule(
      () => this.sealedSegments,
      (remaining) => (this.sealedSegments = remaining),
    );
  }

  stats(): WalStats {
    const segments = this.segments();
    const firstLsn = segments[0]?.firstLsn ?? this.nextLsn;
    return {
      firstLsn,
      lastLsn: this.nextLsn - 1,
      nextLsn: this.nextLsn,
      segments: segments.length,
      sealedSegments: this.sealedSegments.length,
      bytes: segments.reduce((sum, segment) => sum + segment.sizeBytes, 0),
      appendedEntries: this.appendedEntries,
      flushes: this.flushes,
      fsync: this.fsyncLatency.summary(),
      recovery: this.recovery,
      deletedSegments: this.retention.deleted,
    };
  }

  /** Flushes what is queued, then closes the files and releases the directory. Appends after this fail. */
  /** Flushes what is pending and releases the directory's lock; every call waits for the one close. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    await this.exclusive(async () => undefined);
    await this.retention.stop();
    await this.spare?.cancel();
    await this.active?.close();
    await this.lock.release();
    this.logger.info({ dir: this.dir, nextLsn: this.nextLsn }, 'WAL closed');
  }
}
