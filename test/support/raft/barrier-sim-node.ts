import type { ClusterCheckpointCommand } from '../../../src/coordination/barrier/cluster-checkpoint-record';
import { ClusterCheckpointRecord } from '../../../src/coordination/barrier/cluster-checkpoint-record';
import type { NodeId } from '../../../src/coordination/raft/core';

/**
 * A node's object store in the barrier simulation: its node checkpoints (id -> barrier LSN). It survives
 * the node's crashes; ids and LSNs only rise.
 */
export class NodeStore {
  readonly checkpoints = new Map<number, number>();
  lastId = 0;
  lsn = 0;
  /** Cluster checkpoints this node has cut for (a second cut for one is a re-cut, after a crash). */
  readonly cutFor = new Set<number>();
}

/** A node checkpoint being taken for cluster checkpoint N: when it is done, and how it goes wrong. */
export interface CutInProgress {
  readonly doneAt: number;
  readonly decline: boolean;
  /** The node crashes at this step, before the cut is stored ('during') or after it, before the ack. */
  readonly crash: { readonly at: number; readonly when: 'during' | 'afterCut' } | undefined;
}

/**
 * What one node holds in memory: its applied record, and the participant's and the coordinator's state
 * (all lost in a crash; the record is rebuilt from the snapshot and the log on restart).
 */
export class BarrierSimNode {
  record = new ClusterCheckpointRecord();
  /** The last log index applied. */
  applied = 0;
  /** When each peer's last message arrived (for the leader's view of who is reachable). */
  readonly lastContact = new Map<NodeId, number>();

  // The participant
  readonly cutting = new Map<number, CutInProgress>();
  /** Answers not yet shown in the record, and when each was last sent. */
  /** As the real participant's: when sent, how often, to which leadership (resends back off). */
  readonly answers = new Map<
    number,
    { command: ClusterCheckpointCommand; sentAt: number; attempts: number; leader: string; term: number }
  >();

  // The coordinator (on the leader)
  leadingTerm = 0;
  leaderSince = 0;
  jobsProposedInTerm = 0;
  /** The last index of the round's proposals: the next round waits until it is applied. */
  awaiting = 0;
  lastRound = Number.NEGATIVE_INFINITY;
  /** An ack or decline applied: the leader decides at once. */
  answerApplied = false;
}
