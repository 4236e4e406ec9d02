import type { NodeId } from '../raft/core';
import type { RaftNodeStatus } from '../raft/raft-node';

export interface ClusterHealth {
  /**
   * On the leader: voters reachable (itself included) and whether they are a majority. On a follower:
   * `reachable` is unknown and `healthy` says whether it hears a leader.
   */
  readonly quorum: {
    readonly voters: number;
    readonly reachable: number | undefined;
    readonly healthy: boolean;
  };
  /**
   * This node cannot reach a majority: the leader hears fewer than a majority of the voters within the
   * partition tolerance, or a follower has heard no leader for that long (a leader with check-quorum keeps a
   * majority, so hearing one is reaching one). A partitioned node begins no cluster checkpoint.
   */
  readonly partitioned: boolean;
  /** Members known to be out of reach (the leader knows of every member; a follower of the leader only). */
  readonly unreachable: readonly NodeId[];
}

/** The reference's `clusterHealth()`, from what this node's Raft driver sees. */
export function clusterHealth(status: RaftNodeStatus): ClusterHealth {
  const voters = status.members.filter((m) => m.voter);
  const unreachable = status.members.filter((m) => m.reachable === false).map((m) => m.id);
  if (status.failure !== undefined) {
    return {
      quorum: { voters: voters.length, reachable: undefined, healthy: false },
      partitioned: true,
      unreachable,
    };
  }
  if (status.role === 'leader') {
    const reachable = voters.filter((m) => m.reachable === true).length;
    const healthy = reachable > voters.length / 2;
    return { quorum: { voters: voters.length, reachable, healthy }, partitioned: !healthy, unreachable };
  }
  const hearsLeader = status.leader !== '' && status.sinceLeaderMs <= status.partitionToleranceMs;
  return {
    quorum: { voters: voters.length, reachable: undefined, healthy: hearsLeader },
    partitioned: status.sinceLeaderMs > status.partitionToleranceMs,
    unreachable,
  };
}
