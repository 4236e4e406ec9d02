import { invalidArgument } from '../../lib/errors';
import type { CheckpointSummary } from '../../checkpoint/catalog/checkpoint-summary';

/**
 * What is kept for recovery (after pgBackRest's `repo-retention-full` and Litestream's retention window):
 * - the newest `keepFullCheckpoints` full checkpoints, each with the incrementals built on it;
 * - every point in time in the last `pitrWindowMs`: the newest checkpoint created at or before the window's
 *   start and every checkpoint after it;
 * - the whole chain of anything kept (a kept incremental keeps its parents);
 * - the WAL after the oldest kept checkpoint (older packs restore nothing the checkpoints do not) — or all
 *   of it while the window reaches back past every checkpoint (those points need the log from its start).
 */
export interface RetentionPolicy {
  keepFullCheckpoints: number;
  pitrWindowMs: number;
}

export interface RetentionPlan {
  /** Checkpoint ids to expire, newest first (an incremental always goes before its parent). */
  expire: number[];
  keep: number[];
  /** Remote WAL packs ending at or below this LSN are no longer needed; undefined: keep all. */
  walNeededAfterLsn: number | undefined;
}

export function checkRetentionPolicy(policy: RetentionPolicy): RetentionPolicy {
  if (!Number.isSafeInteger(policy.keepFullCheckpoints) || policy.keepFullCheckpoints < 1) {
    throw invalidArgument('retention keepFullCheckpoints must be a positive integer');
  }
  if (!Number.isSafeInteger(policy.pitrWindowMs) || policy.pitrWindowMs < 0) {
    throw invalidArgument('retention pitrWindowMs must be a non-negative integer');
  }
  return policy;
}

/**
 * `committed`: the catalog's committed checkpoints; `nowMs`: wall-clock ms; `pinned`: checkpoints kept
 * whatever the policy says (a retained cluster checkpoint names them), with their chains.
 */
export function planRetention(
  committed: readonly CheckpointSummary[],
  policy: RetentionPolicy,
  nowMs: number,
  pinned: Iterable<number> = [],
): RetentionPlan {
  checkRetentionPolicy(policy);
  const byId = new Map(committed.map((checkpoint) => [checkpoint.id, checkpoint]));
  const newestFirst = [...committed].sort((a, b) => b.id - a.id);
  const kept = new Set<number>();

  const fullKept = newestFirst.filter((c) => c.kind === 'full').slice(0, policy.keepFullCheckpoints);
  const keptBases = new Set(fullKept.map((c) => c.id));
  for (const checkpoint of committed) if (keptBases.has(checkpoint.baseId)) kept.add(checkpoint.id);

  const windowStart = nowMs - policy.pitrWindowMs;
  const anchor = newestFirst.find((c) => Date.parse(c.createdAt) <= windowStart);
  for (const checkpoint of committed) {
    if (anchor === undefined || checkpoint.id >= anchor.id) kept.add(checkpoint.id);
  }

  for (const id of pinned) if (byId.has(id)) kept.add(id);

  for (const id of [...kept]) {
    for (let parent = byId.get(id)?.parentId; parent != null && !kept.has(parent);) {
      kept.add(parent);
      parent = byId.get(parent)?.parentId;
    }
  }

  const keep = [...kept].sort((a, b) => a - b);
  const oldestKept = keep.length === 0 ? undefined : byId.get(keep[0]!);
  return {
    expire: newestFirst.filter((c) => !kept.has(c.id)).map((c) => c.id),
    keep,
    // A window reaching back past every checkpoint needs the log from its start: nothing goes then.
    walNeededAfterLsn: anchor === undefined ? undefined : oldestKept?.lsn,
  };
}
