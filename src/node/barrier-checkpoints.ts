import { writeMarker } from '../coordination/barrier/cluster-checkpoint-marker';
import type {
  ClusterCheckpoint,
  ClusterCheckpointRecord,
} from '../coordination/barrier/cluster-checkpoint-record';
import type { BarrierCut, LocalCheckpoints } from '../coordination/barrier/checkpoint-participant';
import type { IncrementalCheckpointSystem } from '../checkpoint/incremental-checkpoint-system';
import { manifestKey, type ObjectStore } from '../storage';

/** The node's checkpoint system and store as the barrier participant's port. */
export function barrierCheckpoints(
  system: IncrementalCheckpointSystem,
  store: ObjectStore,
  prefix: string,
): LocalCheckpoints {
  return {
    async cut(): Promise<BarrierCut> {
      const checkpoint = await system.checkpointForBarrier();
      return {
        checkpointId: checkpoint.id,
        barrierLsn: checkpoint.lsn,
        manifestKey: manifestKey(prefix, checkpoint.id),
      };
    },
    async recordCommitted(checkpoint: ClusterCheckpoint): Promise<void> {
      await writeMarker(store, prefix, checkpoint);
    },
  };
}

/**
 * This node's checkpoints that cluster checkpoints need: those it acknowledged for one in flight, and for
 * the newest `retained` committed ones. Retention keeps them (with their chains); deletion refuses them.
 */
export function clusterPinnedCheckpoints(
  record: () => ClusterCheckpointRecord,
  nodeId: string,
  retained: number,
): () => number[] {
  return () => {
    const ids: number[] = [];
    let committed = 0;
    for (const checkpoint of record().list()) {
      if (checkpoint.state === 'aborted') continue;
      if (checkpoint.state === 'committed' && ++committed > retained) continue;
      const ack = checkpoint.acks[nodeId];
      if (ack !== undefined) ids.push(ack.checkpointId);
    }
    return ids;
  };
}
