import type { CheckpointCatalog } from '../../checkpoint/catalog/catalog';
import type { IncrementalCheckpointSystem } from '../../checkpoint/incremental-checkpoint-system';
import { systemClock, type Clock } from '../../lib/clock';
import { silentLogger, type Logger } from '../../lib/logger';
import type { ObjectStore } from '../../storage';
import type { UploadedSegments } from '../../wal/archive';
import { planRetention, type RetentionPolicy } from './retention-policy';

export interface RetentionDeps {
  system: IncrementalCheckpointSystem;
  catalog: CheckpointCatalog;
  store: ObjectStore;
  uploads: UploadedSegments;
  /** Rejects (FENCED) when this node no longer holds the maintenance lease. */
  fence: () => Promise<void>;
  /** Wall time, compared with checkpoints' createdAt (default: the system clock). */
  clock?: Clock;
  logger?: Logger;
}

export interface RetentionResult {
  expiredCheckpoints: number[];
  deletedWalPacks: number;
  deletedWalBytes: number;
}

/**
 * One retention run: expires the checkpoints the policy no longer keeps (newest first, through the
 * checkpoint system, which refuses the newest restorable one and checks the fence), then the WAL packs in
 * the store that only those checkpoints' history needed. Packs are forgotten (durably) before they are
 * deleted: a crash between leaves an orphan object, never a record of a pack that is gone. Idempotent: a
 * second run finds nothing left to do. Blocks the expired checkpoints named are left to garbage collection.
 */
export async function runRetention(deps: RetentionDeps, policy: RetentionPolicy): Promise<RetentionResult> {
  const logger = deps.logger ?? silentLogger;
  const now = (deps.clock ?? systemClock).now();
  const plan = planRetention(deps.catalog.list(), policy, now, deps.system.pins.all().keys());
  const expiredCheckpoints: number[] = [];
  // The system checks its own fence (adoptLease) too; this one holds even when none was adopted.
  if (plan.expire.length > 0) await deps.fence();
  for (const id of plan.expire) {
    await deps.system.delete(id);
    expiredCheckpoints.push(id);
  }
  const cutoff = plan.walNeededAfterLsn;
  const packs = cutoff === undefined ? [] : deps.uploads.list().filter((pack) => pack.lastLsn <= cutoff);
  if (packs.length > 0) {
    await deps.fence();
    const keys = packs.map((pack) => pack.key);
    await deps.uploads.retire(keys, Math.max(...packs.map((pack) => pack.lastLsn)));
    await deps.store.delete(keys);
  }
  const result = {
    expiredCheckpoints,
    deletedWalPacks: packs.length,
    deletedWalBytes: packs.reduce((sum, pack) => sum + pack.size, 0),
  };
  if (expiredCheckpoints.length > 0 || packs.length > 0) logger.info(result, 'retention expired old history');
  return result;
}
