import type { CheckpointCatalog } from '../checkpoint/catalog/catalog';
import type { IncrementalCheckpointSystem } from '../checkpoint/incremental-checkpoint-system';
import type { CheckpointMerger } from '../checkpoint/merge/checkpoint-merger';
import type { TidemarkConfig } from '../config/config.schema';
import type { JobQueue } from '../jobs/job-queue';
import type { JobRunner } from '../jobs/job-runner';
import { systemClock, type Clock } from '../lib/clock';
import { TidemarkError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { settleWithin } from '../lib/settle-within';
import type { RecoveryEngine } from '../recovery/recovery-engine';
import type { ObjectStore } from '../storage/object-store';
import type { LeaseProvider } from '../tiering/lease/lease-provider';
import type { TieringNode } from '../tiering/tiering-node';
import type { SegmentedWal } from '../wal';
import type { UploadedSegments } from '../wal/archive';
import type { Coordinator } from './open-coordinator';
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
  /** The Raft coordinator and the cluster's replicated record (a one-voter cluster when embedded). */
  coordinator: Coordinator;
  /** What every part keeps time on (default: the system clock). */
  clock?: Clock;
  /** Starts the queue's workers, where they run in this process and are not started elsewhere (BullMQ). */
  startJobs?: () => void;
  /** Releases the data directory's lock: the very last thing `close` does. */
  releaseDataDir?: () => Promise<void>;
  /** The checkpoint system's worker pools (block encoding, decoding): closed after it stops. */
  blockPools?: readonly { close(): Promise<void> }[];
}

/**
 * One open node (see open-node.ts): its parts, and their lifecycle in one place — `start` begins the
 * background work (job workers, periodic checkpoints, uploads, the maintenance lease and what it schedules),
 * once; `stopWork` ends every source of new work at once (the first step of a shutdown) and `start` is
 * refused after it; `close` winds down in order: the queue (jobs in flight finish), the lease, the Raft
 * coordinator (it leaves the cluster's other members to elect another leader), then no more
 * local deletions, the uploads record, recovery, the checkpoint system, and last the WAL. A step that waits
 * on Redis or the object store is cut off after CLOSE_STEP_MS of real time; every later step runs even if
 * one before it failed, and the WAL closes (its lock released) whatever happened.
 */
export class TidemarkNode implements Omit<NodeParts, 'startJobs' | 'releaseDataDir' | 'blockPools'> {
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
  readonly coordinator: Coordinator;
  readonly clock: Clock;
  private readonly startWorkers: (() => void) | undefined;
  private readonly releaseDataDir: (() => Promise<void>) | undefined;
  private readonly blockPools: readonly { close(): Promise<void> }[];
  private state: 'open' | 'started' | 'stopped' = 'open';
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
    this.coordinator = parts.coordinator;
    this.clock = parts.clock ?? systemClock;
    this.startWorkers = parts.startJobs;
    this.releaseDataDir = parts.releaseDataDir;
    this.blockPools = parts.blockPools ?? [];
    // Segments a checkpoint now covers (and already uploaded) go at once, not at the next seal.
    this.system.onCheckpointCommitted(() => this.releaseCoveredSegments());
  }

  /** Starts the background work: job workers, periodic checkpoints, the upload reconciler, the lease. */
  async start(): Promise<void> {
    if (this.state !== 'open') {
      throw new TidemarkError(
        this.state === 'started' ? 'INVALID_ARGUMENT' : 'CLOSED',
        this.state === 'started' ? 'the node is started already' : 'the node is stopping or closed',
      );
    }
    this.state = 'started';
    await this.coordinator.raft.start();
    this.coordinator.participant.start();
    this.coordinator.checkpoints.start();
    this.startWorkers?.();
    this.system.start();
    await this.tiering.start();
    this.releaseCoveredSegments();
  }

  /** No new work from now on: no scheduling, no periodic checkpoint, no lease won back that starts any. */
  stopWork(): void {
    this.state = 'stopped';
    this.coordinator.checkpoints.close();
    this.coordinator.participant.close();
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
    const failures: unknown[] = [];
    const attempt = async (what: string, work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        this.logger.error({ err: error, step: what }, 'closing step failed; closing the rest');
        failures.push(error);
      }
    };
    try {
      await this.bounded('job queue', () => this.queue.close());
      await this.bounded('lease release', () => this.tiering.stop());
      await this.bounded('lease provider', () => this.leases.close());
      // The hint first: a closing leader takes its hint back while it still leads.
      await this.bounded('leader hint', async () => {
        await this.coordinator.leaderHint?.keeper.close();
        await this.coordinator.leaderHint?.hint.close();
      });
      await attempt('coordinator', () => this.coordinator.raft.close());
      this.retention.disarm();
      await attempt('uploads record', () => this.uploads.close());
      await attempt('recovery', () => this.recovery.close());
      await attempt('recovery merger', () => this.recoveryMerger.close());
      await attempt('checkpoint system', () => this.system.stop());
      for (const pool of this.blockPools) await attempt('block worker pool', () => pool.close());
      await attempt('checkpoint merger', () => this.merger.close());
    } finally {
      try {
        await this.wal.close();
      } finally {
        await this.releaseDataDir?.();
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  /** A step that may wait on Redis or the store: cut off after CLOSE_STEP_MS of real time, failures logged. */
  private async bounded(what: string, work: () => Promise<unknown>): Promise<void> {
    const run = work().catch((error: unknown) => {
      this.logger.warn({ err: error, step: what }, 'closing step failed; closing the rest');
    });
    // Real time, whatever clock the node keeps: this guards against real I/O that does not answer.
    if ((await settleWithin(run, CLOSE_STEP_MS, systemClock)) === 'timed-out') {
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
