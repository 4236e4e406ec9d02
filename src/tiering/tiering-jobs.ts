import type { IncrementalCheckpointSystem } from '../checkpoint/incremental-checkpoint-system';
import type { SegmentedWal } from '../wal';
import type { JobData } from '../jobs/job-queue';
import type { JobRunner } from '../jobs/job-runner';
import type { GarbageCollector } from './maintenance/garbage-collector';
import { runRetention, type RetentionDeps } from './maintenance/retention-run';
import type { RetentionPolicy } from './maintenance/retention-policy';
import type { SegmentShipper } from './segment-shipper';

/** The maintenance lease as jobs see it: the token it was granted with, and the check before a commit. */
export interface Tenure {
  token: number;
  fence: () => Promise<void>;
}

export interface TieringJobDeps {
  wal: SegmentedWal;
  system: IncrementalCheckpointSystem;
  shipper: SegmentShipper;
  gc: GarbageCollector;
  retention: Omit<RetentionDeps, 'fence'> & { policy: RetentionPolicy };
  /** The lease this node holds now, or undefined: maintenance jobs then do nothing (another node does it). */
  tenure: () => Tenure | undefined;
}

const NOT_HOLDER = { skipped: 'this node does not hold the maintenance lease' };

/**
 * The four jobs, as handlers of the job runner — the same functions whether BullMQ or the in-process queue
 * delivers the job. Each is idempotent: uploads skip what is recorded, compaction merges only a chain
 * still too long, retention and GC recompute what to delete from the catalog each time.
 */
export function registerTieringJobs(runner: JobRunner, deps: TieringJobDeps): void {
  runner.register('segment-upload', async (data: JobData) => {
    const result = await deps.shipper.ship({ flush: data.flush === true });
    // Segments now uploaded may be deletable locally (if a checkpoint covers them too).
    if (result.uploaded.length > 0) await deps.wal.cleanup();
    return result;
  });

  runner.register('checkpoint-compaction', async () => {
    const tenure = deps.tenure();
    if (!tenure) return NOT_HOLDER;
    const merged = await deps.system.optimizeChains();
    return { merged: merged?.id ?? null };
  });

  runner.register('retention', async () => {
    const tenure = deps.tenure();
    if (!tenure) return NOT_HOLDER;
    const { policy, ...retention } = deps.retention;
    return runRetention({ ...retention, fence: tenure.fence }, policy);
  });

  runner.register('garbage-collection', async (data: JobData) => {
    const tenure = deps.tenure();
    if (!tenure) return NOT_HOLDER;
    return deps.gc.collect({ fullSweep: data.fullSweep === true, fence: tenure.fence });
  });
}
