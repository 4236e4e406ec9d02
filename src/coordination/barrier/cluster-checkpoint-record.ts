import type { NodeId } from '../raft/core';

/**
 * The cluster's checkpoint record, replicated through Raft (after Flink's CheckpointCoordinator, with its
 * state in the log instead of one JobManager's memory). Pure: commands in, decisions out, no clock (every
 * time is data the proposer put in the command), so every node applies the same log to the same record.
 *
 * A cluster checkpoint N is begun for the members of that moment; each member takes its own checkpoint at
 * its barrier LSN and acknowledges with its manifest; the ack that completes the set commits N — one Raft
 * round after the slowest cut, with no commit entry behind it (every node applies the same acks, so every
 * node commits N at the same entry). N aborts on a decline, or when the leader finds a timeout or a lost
 * member. Ids rise, also across failovers; a finished N never
 * changes again; a late or repeated ack changes nothing (and says so).
 */

export type ClusterCheckpointState = 'pending' | 'committed' | 'aborted';

export interface NodeCheckpointAck {
  /** The node's own checkpoint id and the LSN its state was cut at (the barrier). */
  readonly checkpointId: number;
  readonly barrierLsn: number;
  /** Where the node's manifest is in the object store. */
  readonly manifestKey: string;
  readonly ackedAt: number;
  /** How long the node's own checkpoint took (ms): what the barrier costs it, apart from coordination. */
  readonly cutMs?: number;
}

export interface ClusterCheckpoint {
  readonly id: number;
  state: ClusterCheckpointState;
  /** The Raft term of the entry that began it, and of the one that ended it (its last ack, for a commit). */
  readonly beganInTerm: number;
  endedInTerm: number | undefined;
  /** Every node that must acknowledge (the voters and learners when it began). */
  readonly members: readonly NodeId[];
  readonly acks: Record<NodeId, NodeCheckpointAck>;
  readonly beganAt: number;
  /** When it ended (wall ms): the last ack's `ackedAt` for a commit, the leader's time for an abort. */
  endedAt: number | undefined;
  /** Why it was aborted. */
  reason: string | undefined;
}

export type ClusterCheckpointCommand =
  /** A new leader takes the cluster-wide jobs (compaction, GC of shared blocks) for its term. */
  | { readonly type: 'leader'; readonly node: NodeId; readonly at: number }
  | { readonly type: 'begin'; readonly id: number; readonly members: readonly NodeId[]; readonly at: number }
  | ({ readonly type: 'ack'; readonly id: number; readonly node: NodeId } & NodeCheckpointAck)
  | {
      readonly type: 'decline';
      readonly id: number;
      readonly node: NodeId;
      readonly reason: string;
      readonly at: number;
    }
  | { readonly type: 'commit'; readonly id: number; readonly at: number }
  | { readonly type: 'abort'; readonly id: number; readonly reason: string; readonly at: number };

/**
 * What applying a command did: `applied` false says why nothing changed (a late ack, a stale commit);
 * `ended` says it ended its checkpoint (a commit, an abort, a decline, or the last ack).
 */
export type CommandOutcome =
  | { readonly applied: true; readonly ended?: 'committed' | 'aborted' }
  | { readonly applied: false; readonly why: string };

const APPLIED: CommandOutcome = { applied: true };
const COMMITTED: CommandOutcome = { applied: true, ended: 'committed' };
const ABORTED: CommandOutcome = { applied: true, ended: 'aborted' };
const ignored = (why: string): CommandOutcome => ({ applied: false, why });

/** Finished checkpoints kept in the record (the catalog and the store keep the rest). */
export const FINISHED_KEPT = 1_000;

export interface ClusterJobs {
  /** The node that runs cluster-wide jobs, and the term it holds them in (their fencing token). */
  readonly node: NodeId;
  readonly term: number;
}

export class ClusterCheckpointRecord {
  private readonly checkpoints = new Map<number, ClusterCheckpoint>();
  /** The highest id ever begun: the next is above it. */
  lastId = 0;
  /** Aborted checkpoints since the last committed one (Flink's tolerable-failure count). */
  consecutiveFailures = 0;
  lastCommittedId = 0;
  jobs: ClusterJobs | undefined;

  /** Applies a committed command of the entry's Raft `term`. */
  apply(command: ClusterCheckpointCommand, term: number): CommandOutcome {
    switch (command.type) {
      case 'leader':
        if (this.jobs !== undefined && this.jobs.term > term) return ignored('a newer leader holds the jobs');
        this.jobs = { node: command.node, term };
        return APPLIED;
      case 'begin':
        return this.begin(command, term);
      case 'ack':
        return this.ack(command, term);
      case 'decline': {
        const pending = this.pending(command.id);
        if (typeof pending === 'string') return ignored(pending);
        if (!pending.members.includes(command.node))
          return ignored(`${command.node} is not a member of ${command.id}`);
        this.finish(pending, 'aborted', term, command.at, `declined by ${command.node}: ${command.reason}`);
        return ABORTED;
      }
      case 'commit': {
        const pending = this.pending(command.id);
        if (typeof pending === 'string') return ignored(pending);
        const missing = pending.members.filter((node) => !Object.hasOwn(pending.acks, node));
        if (missing.length > 0) return ignored(`${command.id} lacks the acks of ${missing.join(', ')}`);
        // Raft applies entries in log order, whose terms never fall: a commit proposed by a leader deposed
        // before a newer leader took the jobs is refused here, whatever the log carried it.
        if (this.deposed(term)) return ignored(`term ${term} is deposed`);
        this.finish(pending, 'committed', term, command.at, undefined);
        return COMMITTED;
      }
      case 'abort': {
        const pending = this.pending(command.id);
        if (typeof pending === 'string') return ignored(pending);
        this.finish(pending, 'aborted', term, command.at, command.reason);
        return ABORTED;
      }
    }
  }

  get(id: number): ClusterCheckpoint | undefined {
    return this.checkpoints.get(id);
  }

  /** Newest first. */
  list(): ClusterCheckpoint[] {
    return [...this.checkpoints.values()].sort((a, b) => b.id - a.id);
  }

  pendingCheckpoints(): ClusterCheckpoint[] {
    return [...this.checkpoints.values()].filter((c) => c.state === 'pending').sort((a, b) => a.id - b.id);
  }

  /** When the newest finished checkpoint ended (for the minimum pause), 0 if none. */
  lastEndedAt(): number {
    let last = 0;
    for (const c of this.checkpoints.values())
      if (c.endedAt !== undefined && c.endedAt > last) last = c.endedAt;
    return last;
  }

  lastBeganAt(): number {
    return this.checkpoints.get(this.lastId)?.beganAt ?? 0;
  }

  toJSON(): object {
    return {
      lastId: this.lastId,
      consecutiveFailures: this.consecutiveFailures,
      lastCommittedId: this.lastCommittedId,
      jobs: this.jobs,
      checkpoints: [...this.checkpoints.values()],
    };
  }

  static fromJSON(value: unknown): ClusterCheckpointRecord {
    const data = value as ReturnType<ClusterCheckpointRecord['toJSON']> & {
      lastId: number;
      consecutiveFailures: number;
      lastCommittedId: number;
      jobs: ClusterJobs | undefined;
      checkpoints: ClusterCheckpoint[];
    };
    const record = new ClusterCheckpointRecord();
    record.lastId = data.lastId;
    record.consecutiveFailures = data.consecutiveFailures;
    record.lastCommittedId = data.lastCommittedId;
    record.jobs = data.jobs ?? undefined;
    for (const checkpoint of data.checkpoints) {
      // Acks are keyed by node id: a prototype-less object, so an id like "toString" is only ever a node.
      const acks = Object.assign(Object.create(null) as Record<NodeId, NodeCheckpointAck>, checkpoint.acks);
      record.checkpoints.set(checkpoint.id, { ...checkpoint, acks });
    }
    return record;
  }

  private begin(command: Extract<ClusterCheckpointCommand, { type: 'begin' }>, term: number): CommandOutcome {
    if (command.id <= this.lastId) return ignored(`ids rise: ${command.id} is not above ${this.lastId}`);
    if (command.members.length === 0) return ignored('a cluster checkpoint needs members');
    if (this.deposed(term)) return ignored(`term ${term} is deposed`);
    this.lastId = command.id;
    this.checkpoints.set(command.id, {
      id: command.id,
      state: 'pending',
      beganInTerm: term,
      endedInTerm: undefined,
      members: [...command.members],
      acks: Object.create(null) as Record<NodeId, NodeCheckpointAck>,
      beganAt: command.at,
      endedAt: undefined,
      reason: undefined,
    });
    return APPLIED;
  }

  private ack(command: Extract<ClusterCheckpointCommand, { type: 'ack' }>, term: number): CommandOutcome {
    const checkpoint = this.checkpoints.get(command.id);
    if (checkpoint === undefined) return ignored(`no cluster checkpoint ${command.id}`);
    if (!checkpoint.members.includes(command.node))
      return ignored(`${command.node} is not a member of ${command.id}`);
    // Re-sent after a crash between ack and its outcome: the same ack again is a no-op, not an error.
    if (Object.hasOwn(checkpoint.acks, command.node)) {
      return ignored(`${command.node} acknowledged ${command.id} already`);
    }
    if (checkpoint.state !== 'pending') return ignored(`${command.id} is ${checkpoint.state}: a late ack`);
    checkpoint.acks[command.node] = {
      checkpointId: command.checkpointId,
      barrierLsn: command.barrierLsn,
      manifestKey: command.manifestKey,
      ackedAt: command.ackedAt,
      ...(command.cutMs === undefined ? {} : { cutMs: command.cutMs }),
    };
    const complete = checkpoint.members.every((node) => Object.hasOwn(checkpoint.acks, node));
    // Log order makes a deposed term here impossible; were it to happen, the leader's commit would decide.
    if (!complete || this.deposed(term)) return APPLIED;
    this.finish(checkpoint, 'committed', term, command.ackedAt, undefined);
    return COMMITTED;
  }

  /** An entry of a term below that of the jobs' holder: a leader deposed before the entry applied. */
  private deposed(term: number): boolean {
    return this.jobs !== undefined && term < this.jobs.term;
  }

  private pending(id: number): ClusterCheckpoint | string {
    const checkpoint = this.checkpoints.get(id);
    if (checkpoint === undefined) return `no cluster checkpoint ${id}`;
    if (checkpoint.state !== 'pending') return `${id} is ${checkpoint.state} already`;
    return checkpoint;
  }

  private finish(
    checkpoint: ClusterCheckpoint,
    state: 'committed' | 'aborted',
    term: number,
    at: number,
    reason: string | undefined,
  ): void {
    checkpoint.state = state;
    checkpoint.endedInTerm = term;
    checkpoint.endedAt = at;
    checkpoint.reason = reason;
    if (state === 'committed') {
      this.consecutiveFailures = 0;
      this.lastCommittedId = Math.max(this.lastCommittedId, checkpoint.id);
    } else {
      this.consecutiveFailures++;
    }
    this.forgetOldest();
  }

  private forgetOldest(): void {
    const finished = [...this.checkpoints.values()].filter((c) => c.state !== 'pending');
    if (finished.length <= FINISHED_KEPT) return;
    finished.sort((a, b) => a.id - b.id);
    for (const c of finished.slice(0, finished.length - FINISHED_KEPT)) this.checkpoints.delete(c.id);
  }
}
