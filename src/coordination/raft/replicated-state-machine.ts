/**
 * What a Raft node replicates: the application's state, changed only by committed commands, applied in log
 * order on every node. The next layer (the cluster's checkpoint record) implements it; the driver keeps the
 * membership's addresses beside it and snapshots both together.
 */
export interface ReplicatedStateMachine {
  /**
   * Applies one committed command. Deterministic: every node computes the same result from the same state.
   * The result goes back to the proposer (on the node that proposed it).
   */
  apply(command: Uint8Array, index: number, term: number): unknown;
  /**
   * Optional: told of each command as it enters this node's log, before it is durable or committed — it may
   * never be (a crash, or another leader's entry, can replace it). For work worth starting early whose outcome the
   * committed state decides anyway; it must change nothing the state machine answers.
   */
  observe?(command: Uint8Array, index: number, term: number): void;
  /** The whole state as of the last applied command. */
  snapshot(): Uint8Array;
  /** Replaces the state by a snapshot's. */
  restore(snapshot: Uint8Array): void;
}
