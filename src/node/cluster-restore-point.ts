import { readMarker } from '../coordination/barrier/cluster-checkpoint-marker';
import type { ClusterCheckpointRecord } from '../coordination/barrier/cluster-checkpoint-record';
import { quoteInput, TidemarkError } from '../lib/errors';
import type { RecoveryTarget } from '../recovery/recovery-types';
import type { ObjectStore } from '../storage';

/** A committed cluster checkpoint as a restore point: every member's own checkpoint in it. */
export interface ClusterRestorePoint {
  readonly id: number;
  readonly committedInTerm: number;
  readonly members: readonly string[];
  readonly cuts: Readonly<Record<string, { checkpointId: number; barrierLsn: number; manifestKey: string }>>;
}

/**
 * Cluster checkpoint `id` from the replicated record when this node has it there, else from the marker
 * every member writes under its prefix (the CLI on a stopped node, a record that forgot it). Refused when it
 * did not commit: CHECKPOINT_NOT_FOUND when unknown, INVALID_ARGUMENT when pending or aborted.
 */
export async function clusterRestorePoint(options: {
  readonly id: number;
  readonly record?: ClusterCheckpointRecord;
  readonly store: ObjectStore;
  readonly prefix: string;
}): Promise<ClusterRestorePoint> {
  const { id } = options;
  const known = options.record?.get(id);
  if (known !== undefined) {
    if (known.state !== 'committed') {
      throw new TidemarkError(
        'INVALID_ARGUMENT',
        `cluster checkpoint ${id} is ${known.state}: only a committed one is a restore point`,
        { details: { clusterCheckpointId: id, state: known.state } },
      );
    }
    return {
      id,
      committedInTerm: known.endedInTerm ?? known.beganInTerm,
      members: known.members,
      cuts: known.acks,
    };
  }
  const marker = await readMarker(options.store, options.prefix, id);
  return { id, committedInTerm: marker.committedInTerm, members: marker.members, cuts: marker.acks };
}

/** This node's target in the restore point. */
export function nodeTarget(
  point: ClusterRestorePoint,
  nodeId: string,
): RecoveryTarget & { checkpointId: number } {
  const cut = Object.hasOwn(point.cuts, nodeId) ? point.cuts[nodeId] : undefined;
  if (cut === undefined) {
    throw new TidemarkError(
      'INVALID_ARGUMENT',
      `node ${quoteInput(nodeId)} is not a member of cluster checkpoint ${point.id} (members: ${point.members.join(', ')})`,
      { details: { clusterCheckpointId: point.id } },
    );
  }
  return { checkpointId: cut.checkpointId };
}
