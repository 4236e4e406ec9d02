import { forEachLimited } from '../lib/bounded-concurrency';
import { systemClock, type Clock } from '../lib/clock';
import { TidemarkError } from '../lib/errors';
import { silentLogger, type Logger } from '../lib/logger';
import { SerialQueue } from '../lib/serial-queue';
import { walSegmentKey, type ObjectStore } from '../storage';
import type { SegmentedWal, SegmentInfo } from '../wal';
import {
  checkSealedSegment,
  checksumStream,
  Crc32cTap,
  openPackStream,
  packLayout,
  planPacks,
  type UploadedPack,
  type UploadedSegments,
} from '../wal/archive';

export interface SegmentShipperOptions {
  prefix: string;
  nodeId: string;
  /** A pack closes once it holds this many bytes (default 8 MiB): at most one PUT per 8 MiB of log. */
  packTargetBytes: number;
  /** A partial pack is shipped anyway once its oldest segment has waited this long (ms). */
  maxPackDelayMs: number;
  /** Packs uploaded at once within one shipping run. */
  concurrency: number;
  /** Wall time: how long segments have waited, and packs' uploadedAt (default: the system clock). */
  clock?: Clock;
  logger?: Logger;
}

export interface ShipResult {
  /** Packs uploaded and verified by this run. */
  uploaded: { key: string; firstLsn: number; lastLsn: number; bytes: number }[];
  /** Sealed segments still waiting for their pack to fill. */
  waiting: number;
}

/**
 * Ships sealed WAL segments to the object store: plans packs (segment-pack.ts), checks each local segment
 * against its footer, streams the pack up with its length (the adapter goes multipart when it is large),
 * reads it back from the store to check size and crc32c, and only then records it in UploadedSegments —
 * the fact the node's segment retention waits for (invariant 3). One run at a time per node: runs triggered
 * together (by seals, by the reconciler, by a job that runs twice) queue up, and a later run finds the
 * earlier one's packs recorded and ships nothing twice. Every step is idempotent: a pack uploaded but not
 * recorded (a crash between) is simply uploaded again under the same key.
 */
export class SegmentShipper {
  private readonly logger: Logger;
  private readonly clock: Clock;
  /** When each pending segment was first seen waiting (for maxPackDelayMs). */
  private readonly waitingSince = new Map<number, number>();
  /** Shipping runs, one at a time. */
  private readonly runs = new SerialQueue();

  constructor(
    private readonly wal: SegmentedWal,
    private readonly store: ObjectStore,
    private readonly index: UploadedSegments,
    private readonly options: SegmentShipperOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
  }

  /** Sealed segments without a verified copy in the store, oldest first. */
  pending(): SegmentInfo[] {
    return this.wal
      .segments()
      .filter((segment) => segment.sealed && segment.entryCount > 0 && !this.index.isUploaded(segment));
  }

  /** Uploads every pack that is ready (or, with `flush`, every pending segment). */
  ship(options: { flush?: boolean } = {}): Promise<ShipResult> {
    return this.runs.run(() => this.shipNow(options.flush === true));
  }

  private async shipNow(flush: boolean): Promise<ShipResult> {
    const pending = this.pending();
    const now = this.clock.now();
    for (const segment of pending) {
      if (!this.waitingSince.has(segment.firstLsn)) this.waitingSince.set(segment.firstLsn, now);
    }
    const oldest = pending[0] === undefined ? now : this.waitingSince.get(pending[0].firstLsn)!;
    const packs = planPacks(pending, {
      targetBytes: this.options.packTargetBytes,
      flushPartial: flush || now - oldest >= this.options.maxPackDelayMs,
    });
    const uploaded: ShipResult['uploaded'] = [];
    // A failed upload stops the run only once the other uploads have settled: a run that ended while one
    // was still going would let the next run plan (and upload) the same pack again.
    await forEachLimited(packs, this.options.concurrency, async (pack) => {
      const recorded = await this.uploadPack(pack);
      for (const segment of pack) this.waitingSince.delete(segment.firstLsn);
      uploaded.push({
        key: recorded.key,
        firstLsn: recorded.firstLsn,
        lastLsn: recorded.lastLsn,
        bytes: recorded.size,
      });
    });
    uploaded.sort((a, b) => a.firstLsn - b.firstLsn);
    const shipped = new Set(packs.flat().map((segment) => segment.firstLsn));
    return { uploaded, waiting: pending.filter((segment) => !shipped.has(segment.firstLsn)).length };
  }

  private async uploadPack(segments: SegmentInfo[]): Promise<UploadedPack> {
    const first = segments[0]!;
    const last = segments[segments.length - 1]!;
    const key = walSegmentKey(this.options.prefix, this.options.nodeId, first.firstLsn, last.lastLsn);
    let expectedCrc = 0;
    for (const segment of segments) expectedCrc = await checkSealedSegment(segment, expectedCrc);
    const size = segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);

    let sentCrc: number | undefined;
    await this.store.put(
      key,
      () => {
        const tap = new Crc32cTap();
        tap.on('end', () => (sentCrc = tap.crc));
        return openPackStream(segments).pipe(tap);
      },
      { contentLength: size },
    );
    if (sentCrc !== undefined && sentCrc !== expectedCrc) {
      throw new TidemarkError('CHECKSUM_MISMATCH', `segment files changed while ${key} was uploaded`, {
        details: { key },
      });
    }
    // Read it back: only a copy the store returns intact counts as uploaded.
    const stored = await checksumStream(await this.store.get(key));
    if (stored.size !== size || stored.crc32c !== expectedCrc) {
      throw new TidemarkError(
        'STORAGE_UNAVAILABLE',
        `the store returned ${stored.size} bytes (crc32c ${stored.crc32c}) for ${key}; ` +
          `${size} bytes (crc32c ${expectedCrc}) were uploaded: uploading again`,
        { details: { key, size, storedSize: stored.size } },
      );
    }
    const pack: UploadedPack = {
      key,
      firstLsn: first.firstLsn,
      lastLsn: last.lastLsn,
      size,
      crc32c: expectedCrc,
      uploadedAt: this.clock.now(),
      segments: packLayout(segments),
    };
    await this.index.record(pack);
    this.logger.info(
      { key, segments: segments.length, bytes: size, firstLsn: pack.firstLsn, lastLsn: pack.lastLsn },
      'WAL pack uploaded and verified',
    );
    return pack;
  }
}
