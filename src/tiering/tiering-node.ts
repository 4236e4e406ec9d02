import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { CheckpointCatalog } from '../checkpoint/catalog/catalog';
import type { IncrementalCheckpointSystem } from '../checkpoint/incremental-checkpoint-system';
import type { Clock } from '../lib/clock';
import { silentLogger, type Logger } from '../lib/logger';
import type { ObjectStore } from '../storage';
import type { SegmentedWal } from '../wal';
import type { JobQueue } from '../jobs/job-queue';
import type { JobRunner } from '../jobs/job-runner';
import { LeaseKeeper } from './lease/lease-keeper';
import type { LeaseGrant, LeaseProvider } from './lease/lease-provider';
import { GarbageCollector } from './maintenance/garbage-collector';
import { MaintenanceScheduler } from './maintenance-scheduler';
import { SegmentShipper } from './segment-shipper';
import type { UploadedSegments } from '../wal/archive';
import type { TieringConfig } from './tiering-config';
import { registerTieringJobs, type Tenure } from './tiering-jobs';
import { UploadReconciler } from './upload-reconciler';

export interface TieringNodeDeps {
  wal: SegmentedWal;
  store: ObjectStore;
  catalog: CheckpointCatalog;
  system: IncrementalCheckpointSystem;
  uploads: UploadedSegments;
  queue: JobQueue;
  /** The runner the queue's workers hand jobs to; the node registers the four jobs on it. */
  runner: JobRunner;
  leases: LeaseProvider;
  logger?: Logger;
  /** Handed to every part: timers, lease deadlines, wall times (default: the system clock). */
  clock?: Clock;
}

export interface TieringNodeSettings extends TieringConfig {
  nodeId: string;
  prefix: string;
  /** Chain compaction runs (the checkpoint configuration's cleanupInterval); 0: never. */
  compactionIntervalMs: number;
}

/**
 * The tiering layer of one node, framework-free: ships sealed segments (SegmentShipper through
 * `segment-upload` jobs, kept honest by the UploadReconciler), holds the node's maintenance lease, and
 * while it holds it schedules compaction, retention and GC. It decides which local segments the WAL may
 * delete: uploaded and verified, AND covered by a committed checkpoint (the WAL itself keeps the newest
 * `retentionSegments`) — invariant 3.
 *
 * Fencing: each grant's token (above the catalog's highest) is recorded in the catalog and adopted by the
 * checkpoint system; every commit checks it twice — the catalog refuses a lower token, and the lease
 * keeper confirms with the provider that the grant is still current.
 */
export class TieringNode {
  readonly shipper: SegmentShipper;
  readonly reconciler: UploadReconciler;
  readonly scheduler: MaintenanceScheduler;
  readonly gc: GarbageCollector;
  readonly keeper: LeaseKeeper;
  private readonly logger: Logger;
  private stopped = false;

  constructor(
    private readonly deps: TieringNodeDeps,
    readonly settings: TieringNodeSettings,
  ) {
    this.logger = deps.logger ?? silentLogger;
    const { upload, gc, retention, lease } = settings;
    const common = { clock: deps.clock, logger: this.logger };
    this.shipper = new SegmentShipper(deps.wal, deps.store, deps.uploads, {
      prefix: settings.prefix,
      nodeId: settings.nodeId,
      packTargetBytes: upload.packTargetBytes,
      maxPackDelayMs: upload.maxPackDelayMs,
      concurrency: upload.concurrency,
      ...common,
    });
    this.reconciler = new UploadReconciler(this.shipper, deps.queue, {
      intervalMs: upload.reconcileIntervalMs,
      maxPackDelayMs: upload.maxPackDelayMs,
      packTargetBytes: upload.packTargetBytes,
      ...common,
    });
    this.gc = new GarbageCollector(deps.system, deps.catalog, deps.store, {
      prefix: settings.prefix,
      graceMs: gc.graceMs,
      ...common,
    });
    this.scheduler = new MaintenanceScheduler(
      deps.queue,
      [
        { name: 'checkpoint-compaction', intervalMs: settings.compactionIntervalMs },
        { name: 'retention', intervalMs: retention.intervalMs },
        { name: 'garbage-collection', intervalMs: gc.intervalMs },
        {
          name: 'garbage-collection',
          intervalMs: gc.fullSweepIntervalMs,
          data: { fullSweep: true },
          idPrefix: 'garbage-collection-full',
        },
      ],
      common,
    );
    this.keeper = new LeaseKeeper(deps.leases, {
      name: `maintenance.${settings.nodeId}`,
      holderId: `${settings.nodeId}.${hostname()}.${process.pid}.${randomUUID().slice(0, 8)}`,
      ttlMs: lease.ttlMs,
      renewEveryMs: lease.renewIntervalMs,
      minToken: () => deps.catalog.highestToken + 1,
      ...common,
      onAcquired: (grant) => this.onAcquired(grant),
      onLost: (grant, reason) => {
        this.scheduler.stop();
        this.logger.warn({ token: grant.token, reason }, 'maintenance lease lost; scheduling stopped');
      },
    });
    registerTieringJobs(deps.runner, {
      wal: deps.wal,
      system: deps.system,
      shipper: this.shipper,
      gc: this.gc,
      retention: {
        system: deps.system,
        catalog: deps.catalog,
        store: deps.store,
        uploads: deps.uploads,
        policy: { keepFullCheckpoints: retention.keepFullCheckpoints, pitrWindowMs: retention.pitrWindowMs },
        ...common,
      },
      tenure: () => this.tenure(),
    });
  }

  /** The lease this node holds now and has adopted, or undefined. */
  tenure(): Tenure | undefined {
    const grant = this.deps.system.currentFencingToken;
    const held = this.keeper.current();
    if (!held || held.token !== grant) return undefined;
    return { token: held.token, fence: () => this.keeper.assertHeld(held.token) };
  }

  async start(): Promise<void> {
    this.deps.wal.onSegmentSealed(() => {
      if (!this.stopped) this.reconciler.nudge('seal');
    });
    this.reconciler.start();
    await this.keeper.start();
  }

  /** No new jobs from now on (the first step of shutting down: then the queue drains, then `stop`). */
  stopScheduling(): void {
    this.stopped = true;
    this.reconciler.stop();
    this.scheduler.stop();
  }

  /** Stops scheduling and releases the lease. */
  async stop(): Promise<void> {
    this.stopScheduling();
    await this.keeper.stop();
  }

  private async onAcquired(grant: LeaseGrant): Promise<void> {
    if (this.stopped) return; // shutting down: a lease won back (Redis returned) starts nothing
    await this.deps.system.adoptLease(grant.token, () => this.keeper.assertHeld(grant.token));
    if (this.stopped) return;
    this.scheduler.start();
    this.logger.info({ token: grant.token }, 'maintenance lease acquired; scheduling maintenance');
  }
}
