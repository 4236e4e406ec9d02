import type { CheckpointCatalog } from '../checkpoint/catalog/catalog';
import type { IncrementalCheckpointSystem } from '../checkpoint/incremental-checkpoint-system';
import type { CheckpointMerger } from '../checkpoint/merge/checkpoint-merger';
import type { TidemarkConfig } from '../config/config.schema';
import type { JobQueue } from '../jobs/job-queue';
import type { JobRunner } from '../jobs/job-runner';
import { systemClock, type Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { settleWithin } from '../lib/settle-within';
import type { RecoveryEngine } from '../recovery/recovery-engine';
import type { ObjectStore } from '../storage/object-store';
import type { LeaseProvider } from '../tiering/lease/lease-provider';
import type { TieringNode } from '../tiering/tiering-node';
import type { SegmentedWal } from '../wal';
import type { UploadedSegments } from '../wal/archive';
import type { SegmentRetention } from './segment-retention';

/** The longest a closing step that may wait on Redis or the object store takes before it is cut off. */
export const CLOSE_STEP_MS = 3_000;

export interface NodeParts {
  settings: TidemarkConfig;
  store: ObjectStore;
  catalog: CheckpointCatalog;
  uploads: UploadedSegments;
  /** What the WAL asks before deleting a local segment. */
  retention: SegmentRetention;
  wal: SegmentedWal;
  merger: CheckpointMerger;
  system: IncrementalCheckpointSystem;
  runner: JobRunner;
  queue: JobQueue;
  leases: LeaseProvider;
  tiering: TieringNode;
  recovery: RecoveryEngine;
  /** What every part keeps time on; closing steps are cut off on it too (default: the system clock). */
  clock?: Clock;
}

/**
 * One open node (see open-node.ts): its parts, and their lifecycle in one place — `start` begins the
 * background work (periodic checkpoints, uploads, the maintenance lease and what it schedules), `stopWork`
 * ends every source of new work at once (the first step of a shutdown), `close` winds down in order: the
 * queue (jobs in flight finish), the lease, recovery, the checkpoint system, and last the WAL. A step that
 * waits on Redis or the object store is cut off after CLOSE_STEP_MS, so they cannot keep the WAL open.
 */
export class TidemarkNode implements NodeParts {
  readonly settings: TidemarkConfig;
  readonly store: ObjectStore;
  readonly catalog: CheckpointCatalog;
  readonly uploads: UploadedSegments;
  readonly retention: SegmentRetention;
  readonly wal: SegmentedWal;
  readonly merger: CheckpointMerger;
  readonly system: IncrementalCheckpointSystem;
  readonly runner: JobRunner;
  readonly queue: JobQueue;
  readonly leases: LeaseProvider;
  readonly tiering: TieringNode;
  readonly recovery: RecoveryEngine;
  readonly clock: Clock;
  private closing: Promise<void> | undefined;

  constructor(
    parts: NodeParts,
    private readonly recoveryMerger: CheckpointMerger,
    private readonly logger: Logger,
  ) {
    this.settings = parts.settings;
    this.store = parts.store;
    this.catalog = parts.catalog;
    this.uploads = parts.uploads;
    this.retention = parts.retention;
    this.wal = parts.wal;
    this.merger = parts.merger;
    this.system = parts.system;
    this.runner = parts.runner;
    this.queue = parts.queue;
    this.leases = parts.leases;
    this.tiering = parts.tiering;
    this.recovery = parts.recovery;
    this.clock = parts.clock ?? systemClock;
    // Segments a checkpoint now covers (and already uploaded) go at once, not at the next seal.
    this.system.onCheckpointCommitted(() => this.releaseCoveredSegments());
  }

  /** Starts the background work: periodic checkpoints, the upload reconciler, the maintenance lease. */
  async start(): Promise<void> {
    this.system.start();
    await this.tiering.start();
    this.releaseCoveredSegments();
  }

  /** No new work from now on: no scheduling, no periodic checkpoint, no lease won back that starts any. */
  stopWork(): void {
    this.tiering.stopScheduling();
    this.system.stopTimers();
  }

  /** Winds the node down (see the class comment); every call waits for the one close. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.stopWork();
    await this.step('job queue', this.queue.close());
    await this.step('lease release', this.tiering.stop());
    await this.step('lease provider', this.leases.close());
    await this.uploads.close();
    try {
      await this.recovery.close();
      await this.recoveryMerger.close();
      await this.system.stop();
      await this.merger.close();
    } finally {
      await this.wal.close();
    }
  }

  private async step(what: string, work: Promise<unknown>): Promise<void> {
    if ((await settleWithin(work, CLOSE_STEP_MS, this.clock)) === 'timed-out') {
      this.logger.warn(
        { step: what, ms: CLOSE_STEP_MS },
        'closing step cut off (Redis or the store not answering?)',
      );
    }
  }

  /** WAL retention in the background (it otherwise runs when a segment is sealed). */
  private releaseCoveredSegments(): void {
    this.wal.cleanup().catch((error: unknown) => {
      this.logger.error({ err: error }, 'WAL retention cleanup failed; will retry after the next seal');
    });
  }
}
