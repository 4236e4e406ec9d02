import type { NodeId } from '../raft/core';
import type { ClusterCheckpointCommand, ClusterCheckpointRecord } from './cluster-checkpoint-record';

/** Flink's checkpointing knobs, for the cluster. */
export interface ClusterCheckpointSettings {
  /** Begin a cluster checkpoint this often (0: only when asked). */
  readonly intervalMs: number;
  /** A checkpoint not committed this long after it began is aborted. */
  readonly timeoutMs: number;
  /** At least this long between the end of one checkpoint and the beginning of the next. */
  readonly minPauseMs: number;
  /** Checkpoints in flight at once. */
  readonly maxConcurrent: number;
  /** Aborted checkpoints in a row the cluster tolerates before it reports itself failing. */
  readonly tolerableFailures: number;
}

export const DEFAULT_CLUSTER_CHECKPOINT_SETTINGS: ClusterCheckpointSettings = {
  intervalMs: 60_000,
  timeoutMs: 600_000,
  minPauseMs: 0,
  maxConcurrent: 1,
  tolerableFailures: 0,
};

/** What the leader sees when it decides. */
export interface LeaderView {
  readonly now: number;
  /** The members now (voters and learners). */
  readonly members: readonly NodeId[];
  /** Members it has not heard from within the partition tolerance. */
  readonly unreachable: ReadonlySet<NodeId>;
  /** A majority is reachable: without one the leader begins nothing. */
  readonly hasQuorum: boolean;
  /** Someone asked for a checkpoint now (POST /v1/cluster/checkpoints). */
  readonly requested: boolean;
  /** When this leader took over: the cluster's first checkpoint is due an interval after (as Flink's). */
  readonly leaderSince?: number;
}

/**
 * The leader's decisions over the replicated record, after Flink's CheckpointCoordinator: abort what timed
 * out or lost a member (the last ack commits by itself); begin the next one when the interval is up
 * (or one was asked for), the minimum pause has passed, fewer than `maxConcurrent` are in flight and
 * every member is reachable. Pure: the driver proposes what it returns, and the record decides again on apply
 * (a proposal that lost a race is simply ignored there).
 */
export function decide(
  record: ClusterCheckpointRecord,
  settings: ClusterCheckpointSettings,
  view: LeaderView,
): ClusterCheckpointCommand[] {
  const commands: ClusterCheckpointCommand[] = [];
  let inFlight = 0;
  for (const checkpoint of record.pendingCheckpoints()) {
    const missing = checkpoint.members.filter((node) => !Object.hasOwn(checkpoint.acks, node));
    // The last ack commits as it applies; only one applied in a deposed term (log order rules it out)
    // would leave every ack in and the checkpoint pending: this leader's commit then decides.
    if (missing.length === 0) {
      commands.push({ type: 'commit', id: checkpoint.id, at: view.now });
      continue;
    }
    const gone = missing.filter((node) => !view.members.includes(node) || view.unreachable.has(node));
    if (gone.length > 0) {
      commands.push({ type: 'abort', id: checkpoint.id, reason: `lost ${gone.join(', ')}`, at: view.now });
      continue;
    }
    if (view.now - checkpoint.beganAt >= settings.timeoutMs) {
      const reason = `timed out after ${settings.timeoutMs} ms waiting for ${missing.join(', ')}`;
      commands.push({ type: 'abort', id: checkpoint.id, reason, at: view.now });
      continue;
    }
    inFlight++;
  }
  // What ends now ends at `now`: the minimum pause counts from there.
  const lastEnded = commands.length > 0 ? view.now : record.lastEndedAt();
  if (beginRefusal(record, settings, view, inFlight, lastEnded) === undefined) {
    commands.push({ type: 'begin', id: record.lastId + 1, members: [...view.members], at: view.now });
  }
  return commands;
}

/**
 * Why no checkpoint begins now (undefined: one does). The first reason that holds, in the order Flink's
 * coordinator checks them; `not due` when nothing stands in the way but the interval.
 */
export function beginRefusal(
  record: ClusterCheckpointRecord,
  settings: ClusterCheckpointSettings,
  view: LeaderView,
  inFlight = record.pendingCheckpoints().length,
  lastEnded = record.lastEndedAt(),
): string | undefined {
  if (!view.hasQuorum) return 'the leader does not reach a majority of the voters';
  if (view.members.length === 0) return 'the cluster has no members';
  if (inFlight >= settings.maxConcurrent) {
    return `${inFlight} cluster checkpoint(s) in flight, at most ${settings.maxConcurrent} (maxConcurrent)`;
  }
  // Every member must acknowledge: with one out of reach the checkpoint could only time out.
  const unreachable = view.members.filter((node) => view.unreachable.has(node));
  if (unreachable.length > 0) return `unreachable: ${unreachable.join(', ')}`;
  if (lastEnded > 0 && view.now - lastEnded < settings.minPauseMs) {
    return `the minimum pause of ${settings.minPauseMs} ms since the last one has not passed`;
  }
  if (view.requested) return undefined;
  const last = record.lastBeganAt() || (view.leaderSince ?? 0);
  const due = settings.intervalMs > 0 && view.now - last >= settings.intervalMs;
  return due ? undefined : 'not due';
}

/** The record says the cluster fails its checkpoints beyond what it tolerates. */
export function failing(record: ClusterCheckpointRecord, settings: ClusterCheckpointSettings): boolean {
  return record.consecutiveFailures > settings.tolerableFailures;
}
