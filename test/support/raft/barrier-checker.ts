import type {
  ClusterCheckpointCommand,
  ClusterCheckpointRecord,
  CommandOutcome,
} from '../../../src/coordination/barrier/cluster-checkpoint-record';
import type { NodeId } from '../../../src/coordination/raft/core';
import { Violation } from './sim-checker';

/** One cluster checkpoint as the reference model sees it. */
interface ShadowCheckpoint {
  members: NodeId[];
  /** The acked node checkpoint of each member that acknowledged: id and barrier LSN. */
  acks: Record<NodeId, [number, number]>;
  state: 'pending' | 'committed' | 'aborted';
  beganInTerm: number;
}

/**
 * What one node's applied log says of cluster checkpoints, kept apart from the record: a few lines of
 * the rules themselves, so a record that goes wrong disagrees with it. Travels in snapshots beside the record.
 */
export interface Shadow {
  lastId: number;
  jobsTerm: number;
  checkpoints: Record<number, ShadowCheckpoint>;
}

const emptyShadow = (): Shadow => ({ lastId: 0, jobsTerm: 0, checkpoints: {} });

/** A node's checkpoints that survive its crashes (the object store): node checkpoint id -> barrier LSN. */
export type NodeStores = (node: NodeId) => ReadonlyMap<number, number>;

/** What the runs did (so a test can say the scenario exercised what it claims). */
export interface BarrierCounts {
  begun: number;
  committed: number;
  aborted: number;
  /** Cluster checkpoints ended by a member's decline. */
  declined: number;
  /** Committed in a later term than they began: an election between begin and commit. */
  termChangedBeforeCommit: number;
  /** ... and by another node than the one that began them. */
  leaderChangedBeforeCommit: number;
  /** Ack entries applied after their checkpoint ended, refused (log indexes, not per node). */
  lateAcksIgnored: number;
  /** Ack entries repeating one already applied (a resend, a duplicated message), refused. */
  repeatedAcksIgnored: number;
  /** Commit entries of a term below the jobs' holder's, refused (Raft's log order makes these rare). */
  deposedCommitsRefused: number;
}

export const emptyCounts = (): BarrierCounts => ({
  begun: 0,
  committed: 0,
  aborted: 0,
  declined: 0,
  termChangedBeforeCommit: 0,
  leaderChangedBeforeCommit: 0,
  lateAcksIgnored: 0,
  repeatedAcksIgnored: 0,
  deposedCommitsRefused: 0,
});

/**
 * The cluster checkpoint invariants, checked at each applied barrier command on each node, and across nodes:
 * 1. no N commits without an ack from every one of its members;
 * 2. no N both commits and aborts, on one node or across nodes (every node agrees on N's outcome, and on
 *    the acks a committed N holds);
 * 3. ids rise: begins applied in log order have strictly increasing ids, and an id begins at one index only;
 * 4. a commit (or a last ack) of a term below that of an applied `leader` command commits nothing;
 * 5. a committed N is restorable: each member's acked node checkpoint is in its store, at the acked LSN
 *    (also checked after every step: stores only grow);
 * 6. an ack applied after its N ended changes nothing.
 * The record must also agree with the model on everything else it accepts or refuses.
 */
export class BarrierChecker {
  private readonly shadows = new Map<NodeId, Shadow>();
  /** Each ended N's outcome, as the first node that applied its end saw it. */
  private readonly outcomes = new Map<number, 'committed' | 'aborted'>();
  private readonly committedAcks = new Map<number, Record<NodeId, [number, number]>>();
  /** The log index each id began at. */
  private readonly beganAt = new Map<number, number>();
  /** Log indexes already counted (each node applies the same entry). */
  private readonly counted = new Set<number>();
  readonly counts = emptyCounts();

  constructor(
    private readonly where: () => string,
    private readonly stores: NodeStores,
    private readonly leaderOf: (term: number) => NodeId | undefined,
  ) {}

  fail(what: string): never {
    throw new Violation(`${what} (${this.where()})`);
  }

  /** `node` restarted, or installed a snapshot: its model is the snapshot's (or empty). */
  restored(node: NodeId, shadow: Shadow | undefined): void {
    this.shadows.set(node, shadow ?? emptyShadow());
  }

  shadowOf(node: NodeId): Shadow {
    return this.shadows.get(node) ?? emptyShadow();
  }

  /** `command` of the entry at `index` (of `term`) applied on `node`'s record with `outcome`. */
  applied(
    node: NodeId,
    index: number,
    term: number,
    command: ClusterCheckpointCommand,
    outcome: CommandOutcome,
    record: ClusterCheckpointRecord,
  ): void {
    const shadow = this.shadowOf(node);
    const first = !this.counted.has(index);
    this.counted.add(index);
    const expected = this.expect(node, shadow, command, term, outcome.applied, first);
    if (outcome.applied !== expected) {
      const why = outcome.applied ? 'applied' : `refused (${outcome.why})`;
      this.fail(
        `${node}'s record ${why} ${describe(command)} of term ${term} at ${index}; the model did not`,
      );
    }
    if (expected) this.update(node, shadow, index, term, command, first);
    if (record.lastId !== shadow.lastId) {
      this.fail(`${node}'s record says the last id is ${record.lastId}, the log says ${shadow.lastId}`);
    }
    if ('id' in command) {
      const want = shadow.checkpoints[command.id]?.state;
      const got = record.get(command.id)?.state;
      if (got !== want) this.fail(`${node}'s record holds ${command.id} ${got}, the log says ${want}`);
    }
  }

  /** After every step: every committed N is still restorable from the nodes' stores. */
  afterStep(): void {
    for (const [id, acks] of this.committedAcks) this.restorable(id, acks);
  }

  /**
   * Whether the command must change the record. A safety invariant it would break fails here by name, so
   * a broken record is reported with the rule, not as a mere disagreement.
   */
  private expect(
    node: NodeId,
    shadow: Shadow,
    command: ClusterCheckpointCommand,
    term: number,
    applied: boolean,
    first: boolean,
  ): boolean {
    switch (command.type) {
      case 'leader':
        return term >= shadow.jobsTerm;
      case 'begin':
        if (applied && command.id <= shadow.lastId) {
          this.fail(`invariant 3 (ids rise): ${node} began ${command.id} after ${shadow.lastId}`);
        }
        return command.id > shadow.lastId && command.members.length > 0 && term >= shadow.jobsTerm;
      case 'ack': {
        const c = shadow.checkpoints[command.id];
        const again = c !== undefined && Object.hasOwn(c.acks, command.node);
        if (c !== undefined && c.state !== 'pending' && !again) {
          if (applied)
            this.fail(`invariant 6: ${node} took ${command.node}'s ack of ${command.id}, ${c.state}`);
          if (first) this.counts.lateAcksIgnored++;
        } else if (again && first) this.counts.repeatedAcksIgnored++;
        return c?.state === 'pending' && c.members.includes(command.node) && !again;
      }
      case 'decline':
      case 'abort': {
        const c = shadow.checkpoints[command.id];
        if (applied && c?.state === 'committed') {
          this.fail(`invariant 2: ${node} aborted ${command.id}, which it had committed`);
        }
        return c?.state === 'pending' && (command.type === 'abort' || c.members.includes(command.node));
      }
      case 'commit': {
        const c = shadow.checkpoints[command.id];
        if (c === undefined || c.state !== 'pending') {
          if (applied)
            this.fail(`invariant 2: ${node} committed ${command.id}, which was ${c?.state ?? 'never begun'}`);
          return false;
        }
        const missing = c.members.filter((member) => !Object.hasOwn(c.acks, member));
        if (applied && missing.length > 0) {
          this.fail(`invariant 1: ${node} committed ${command.id} without the ack of ${missing.join(', ')}`);
        }
        const deposed = term < shadow.jobsTerm;
        if (deposed && applied) {
          this.fail(
            `invariant 4: ${node} committed ${command.id} in term ${term}, deposed by ${shadow.jobsTerm}`,
          );
        }
        if (deposed && missing.length === 0 && first) this.counts.deposedCommitsRefused++;
        return missing.length === 0 && !deposed;
      }
    }
  }

  private update(
    node: NodeId,
    shadow: Shadow,
    index: number,
    term: number,
    command: ClusterCheckpointCommand,
    first: boolean,
  ): void {
    switch (command.type) {
      case 'leader':
        shadow.jobsTerm = term;
        return;
      case 'begin': {
        const at = this.beganAt.get(command.id);
        if (at !== undefined && at !== index) {
          this.fail(`invariant 3: ${command.id} began at ${at}, and again at ${index} (on ${node})`);
        }
        this.beganAt.set(command.id, index);
        if (first) this.counts.begun++;
        shadow.lastId = command.id;
        shadow.checkpoints[command.id] = {
          members: [...command.members],
          acks: {},
          state: 'pending',
          beganInTerm: term,
        };
        return;
      }
      case 'ack': {
        const c = shadow.checkpoints[command.id] as ShadowCheckpoint;
        c.acks[command.node] = [command.checkpointId, command.barrierLsn];
        // The ack that completes the set commits, unless its term is deposed (then the leader's commit does).
        const complete = c.members.every((member) => Object.hasOwn(c.acks, member));
        if (complete && term >= shadow.jobsTerm)
          this.ended(node, command.id, 'committed', shadow, term, false);
        return;
      }
      case 'decline':
      case 'abort':
        this.ended(node, command.id, 'aborted', shadow, term, first && command.type === 'decline');
        return;
      case 'commit':
        this.ended(node, command.id, 'committed', shadow, term, false);
        return;
    }
  }

  private ended(
    node: NodeId,
    id: number,
    state: 'committed' | 'aborted',
    shadow: Shadow,
    term: number,
    declined: boolean,
  ): void {
    const c = shadow.checkpoints[id] as ShadowCheckpoint;
    c.state = state;
    const known = this.outcomes.get(id);
    if (known !== undefined && known !== state) {
      this.fail(`invariant 2: ${node} ${state} ${id}, another node ${known} it`);
    }
    if (declined) this.counts.declined++;
    const acks = this.committedAcks.get(id);
    if (acks !== undefined && JSON.stringify(sorted(acks)) !== JSON.stringify(sorted(c.acks))) {
      this.fail(`invariant 2: ${node} committed ${id} with other acks than another node`);
    }
    if (known !== undefined) return;
    this.outcomes.set(id, state);
    if (state === 'aborted') {
      this.counts.aborted++;
      return;
    }
    this.counts.committed++;
    if (term !== c.beganInTerm) {
      this.counts.termChangedBeforeCommit++;
      if (this.leaderOf(term) !== this.leaderOf(c.beganInTerm)) this.counts.leaderChangedBeforeCommit++;
    }
    this.committedAcks.set(id, c.acks);
    this.restorable(id, c.acks);
  }

  private restorable(id: number, acks: Record<NodeId, [number, number]>): void {
    for (const [member, [checkpointId, barrierLsn]] of Object.entries(acks)) {
      const stored = this.stores(member).get(checkpointId);
      if (stored !== barrierLsn) {
        this.fail(
          `invariant 5: ${id} is committed, but ${member}'s checkpoint ${checkpointId} ` +
            (stored === undefined ? 'is not in its store' : `covers LSN ${stored}, not ${barrierLsn}`),
        );
      }
    }
  }
}

function sorted(acks: Record<NodeId, [number, number]>): [string, [number, number]][] {
  return Object.entries(acks).sort(([a], [b]) => a.localeCompare(b));
}

function describe(command: ClusterCheckpointCommand): string {
  const node = 'node' in command ? ` from ${command.node}` : '';
  return 'id' in command ? `${command.type} ${command.id}${node}` : `${command.type}${node}`;
}
