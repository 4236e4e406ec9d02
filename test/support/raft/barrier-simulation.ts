import {
  decodeCheckpointCommand,
  encodeCheckpointCommand,
} from '../../../src/coordination/barrier/checkpoint-command-codec';
import {
  decide,
  type ClusterCheckpointSettings,
  type LeaderView,
} from '../../../src/coordination/barrier/checkpoint-policy';
import {
  ClusterCheckpointRecord,
  type ClusterCheckpointCommand,
} from '../../../src/coordination/barrier/cluster-checkpoint-record';
import type { Entry, Message, NodeId, Raft, RaftStatus } from '../../../src/coordination/raft/core';
import { TidemarkError } from '../../../src/lib/errors';
import { BarrierChecker, type BarrierCounts, type Shadow } from './barrier-checker';
import { BarrierSimNode, NodeStore } from './barrier-sim-node';
import { Prng } from './prng';
import { Violation } from './sim-checker';
import { Simulation, type SimMachine, type SimulationOptions, type SimulationReport } from './simulation';

export interface BarrierSimulationOptions extends Omit<SimulationOptions, 'machine'> {
  /** The leader's policy (a test swaps in a broken one). */
  policy?: typeof decide;
}

/** What the simulated nodes did, beside what the checker counted. */
export interface DriverCounts {
  /** Nodes crashed while cutting for a barrier, or between the cut and the ack. */
  crashesMidCheckpoint: number;
  /** A node cut again for a barrier it had cut for before (after a crash). */
  recuts: number;
  /** An idle node acknowledged with its newest checkpoint again. */
  reusedCheckpoints: number;
  /** Commit proposals cut from the log with their leader (a newer leader's log won). */
  commitProposalsLost: number;
  /** Rounds proposed by a leader while a newer term had a leader already. */
  staleLeaderRounds: number;
  /** Answers not sent: no leader known, or the leader refused more proposals for now. */
  answersUnsent: number;
  /** Leadership moved (a transfer), or the leader crashed, while a cluster checkpoint was pending. */
  transfersMidCheckpoint: number;
  leaderCrashesMidCheckpoint: number;
}

export interface BarrierReport {
  readonly raft: SimulationReport;
  readonly counts: BarrierCounts & DriverCounts;
}

/** Simulated time: one tick is 100 ms, as the real node's heartbeat (an election timeout is 10 ticks). */
const TICK_MS = 100;
const DECLINE = 0.04;
const CRASH_WHILE_CUTTING = 0.04;
/** Per leader round: someone asks for a checkpoint now (POST /v1/cluster/checkpoints). */
const REQUEST = 0.03;
/** How often an idle node's cut reuses its newest checkpoint. */
const REUSE = 0.2;
/** A slow node's cut is slow this often (then sometimes slower than the timeout). */
const SLOW_CUT = 0.4;
/** Per step while a checkpoint is pending, with faults: leadership is handed over, or the leader crashes. */
const TRANSFER_MID_CHECKPOINT = 0.01;
const LEADER_CRASH_MID_CHECKPOINT = 0.002;
/**
 * The cluster checkpoint protocol on top of the deterministic Raft simulation (simulation.ts): every node
 * applies the barrier's commands to its own ClusterCheckpointRecord (decoded with the real codec; the record
 * travels in snapshots), the leader runs the real policy (`decide`) every few ticks as the coordinator
 * does, and each node, named in a begin, cuts its checkpoint into a store that survives crashes — after a
 * random while (some nodes slower than the timeout), or declines, or crashes while cutting — and
 * acknowledges through the leader (forwarded by a follower), resending until the record shows it. The Raft
 * simulation's faults (crashes, partitions, lossy links, transfers, membership changes) run underneath.
 * BarrierChecker checks the invariants at every applied command; a quiet phase at the end checks that a
 * requested checkpoint commits. One seed drives everything, so a failure replays exactly.
 */
export class BarrierSimulation implements SimMachine {
  private readonly rng: Prng;
  private readonly sim: Simulation;
  readonly checker: BarrierChecker;
  private readonly nodes = new Map<NodeId, BarrierSimNode>();
  private readonly stores = new Map<NodeId, NodeStore>();
  private readonly leaders = new Map<number, NodeId>();
  /** The term of every barrier entry applied, by index (to tell which proposals were lost). */
  private readonly appliedTerms = new Map<number, number>();
  private readonly commitProposals: { index: number; term: number }[] = [];
  private readonly slow = new Set<NodeId>();
  private settings: ClusterCheckpointSettings;
  private readonly timeoutTicks: number;
  private readonly pollTicks: number;
  private readonly resendTicks: number;
  private readonly toleranceTicks: number;
  private readonly electionTicks: number;
  private readonly policy: typeof decide;
  private readonly driver: DriverCounts = {
    crashesMidCheckpoint: 0,
    recuts: 0,
    reusedCheckpoints: 0,
    commitProposalsLost: 0,
    staleLeaderRounds: 0,
    answersUnsent: 0,
    transfersMidCheckpoint: 0,
    leaderCrashesMidCheckpoint: 0,
  };
  /** The quiet phase: every node up, the network healed, every leader round asks for a checkpoint. */
  private quiet = false;

  constructor(private readonly options: BarrierSimulationOptions) {
    // A stream of chance of its own, beside the Raft simulation's (both from the seed).
    this.rng = new Prng(options.seed ^ 0x5bd1e995);
    this.electionTicks = options.electionTicks ?? 10;
    this.timeoutTicks = this.rng.pick([40, 80, 150]);
    this.settings = {
      intervalMs: this.rng.pick([0, 20, 50]) * TICK_MS,
      timeoutMs: this.timeoutTicks * TICK_MS,
      minPauseMs: this.rng.pick([0, 0, 10]) * TICK_MS,
      maxConcurrent: this.rng.pick([1, 1, 2, 3]),
      tolerableFailures: 0,
    };
    this.pollTicks = this.rng.pick([1, 3]);
    this.resendTicks = this.electionTicks;
    this.toleranceTicks = this.rng.pick([3, 10]) * this.electionTicks;
    this.policy = options.policy ?? decide;
    this.checker = new BarrierChecker(
      () => this.sim.where(),
      (node) => this.store(node).checkpoints,
      (term) => this.leaders.get(term),
    );
    const { policy: _policy, ...raftOptions } = options;
    this.sim = new Simulation({ ...raftOptions, machine: this });
    for (const id of this.sim.nodeIds()) if (this.rng.chance(0.2)) this.slow.add(id);
  }

  run(): BarrierReport {
    const raft = this.sim.run();
    this.quietPhase();
    for (const { index, term } of this.commitProposals) {
      if (this.appliedTerms.get(index) !== term) this.driver.commitProposalsLost++;
    }
    return { raft, counts: { ...this.checker.counts, ...this.driver } };
  }

  // ---- the state machine on every node (called by the Raft simulation) ----------------------------------

  apply(id: NodeId, entry: Entry): void {
    const node = this.node(id);
    node.applied = entry.index;
    if (entry.kind !== 'normal' || entry.data.length === 0) return;
    const command = decodeCheckpointCommand(entry.data);
    if (command === undefined) return; // the Raft simulation's own entries
    const outcome = node.record.apply(command, entry.term);
    this.checker.applied(id, entry.index, entry.term, command, outcome, node.record);
    this.appliedTerms.set(entry.index, entry.term);
    if ((command.type === 'ack' || command.type === 'decline') && outcome.applied) node.answerApplied = true;
  }

  snapshot(id: NodeId): Uint8Array {
    const state = { record: this.node(id).record.toJSON(), shadow: this.checker.shadowOf(id) };
    return Buffer.from(JSON.stringify(state), 'utf8');
  }

  restore(id: NodeId, data: Uint8Array | undefined, index: number, restart: boolean): void {
    // A restart starts from nothing in memory: cuts under way and answers not yet applied are gone.
    if (restart) this.nodes.set(id, new BarrierSimNode());
    const node = this.node(id);
    const saved =
      data === undefined || data.length === 0
        ? undefined
        : (JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as {
            record: unknown;
            shadow: Shadow;
          });
    node.record = saved ? ClusterCheckpointRecord.fromJSON(saved.record) : new ClusterCheckpointRecord();
    node.applied = index;
    this.checker.restored(id, saved?.shadow);
  }

  delivered(message: Message): void {
    this.node(message.to).lastContact.set(message.from, this.sim.time);
  }

  afterStep(): void {
    const ids = this.sim.nodeIds();
    for (const id of ids) {
      const status = this.sim.raftOf(id)?.status();
      if (status?.role === 'leader' && !this.leaders.has(status.term)) this.leaders.set(status.term, id);
    }
    if (this.chaos()) this.disturbLeader();
    for (const id of ids) {
      this.participate(id);
      this.coordinate(id);
    }
    this.checker.afterStep();
  }

  // ---- every node: the participant ----------------------------------------------------------------------

  private participate(id: NodeId): void {
    const raft = this.sim.raftOf(id);
    if (raft === undefined) return;
    const node = this.node(id);
    const now = this.sim.time;
    for (const [n, cut] of node.cutting) {
      if (cut.crash?.when === 'during' && now >= cut.crash.at && this.crashWhileCutting(id)) return;
      if (now < cut.doneAt) continue;
      node.cutting.delete(n);
      const answer: ClusterCheckpointCommand = cut.decline
        ? { type: 'decline', id: n, node: id, reason: 'a barrier hook failed', at: now * TICK_MS }
        : this.takeCheckpoint(id, n);
      if (cut.crash?.when === 'afterCut' && this.crashWhileCutting(id)) return;
      // As the real participant: a cut for a barrier that ended meanwhile is not sent.
      if (node.record.get(n)?.state === 'pending') {
        node.answers.set(n, {
          command: answer,
          sentAt: Number.NEGATIVE_INFINITY,
          attempts: 0,
          leader: '',
          term: 0,
        });
      }
    }
    for (const checkpoint of node.record.pendingCheckpoints()) {
      if (!checkpoint.members.includes(id) || Object.hasOwn(checkpoint.acks, id)) continue;
      const answer = node.answers.get(checkpoint.id);
      if (answer === undefined) {
        if (!node.cutting.has(checkpoint.id)) this.startCut(id, node, checkpoint.id);
      } else {
        // As CheckpointParticipant.resendIfDue: again when leadership moved, else after a doubling back-off.
        const { leader, term } = raft.status();
        const backoff = this.resendTicks * 2 ** Math.min(Math.max(answer.attempts - 1, 0), 4);
        if (leader !== answer.leader || term !== answer.term || now - answer.sentAt >= backoff) {
          Object.assign(answer, { sentAt: now, attempts: answer.attempts + 1, leader, term });
          this.send(raft, answer.command);
        }
      }
    }
    for (const n of node.answers.keys()) {
      const checkpoint = node.record.get(n);
      if (checkpoint?.state !== 'pending' || Object.hasOwn(checkpoint.acks, id)) node.answers.delete(n);
    }
  }

  private startCut(id: NodeId, node: BarrierSimNode, n: number): void {
    const now = this.sim.time;
    const chaos = this.chaos();
    let duration = 1 + this.rng.int(this.quiet ? 5 : 15);
    // A slow node: sometimes longer than the timeout, so its cluster checkpoints abort.
    if (!this.quiet && this.slow.has(id) && this.rng.chance(SLOW_CUT)) {
      duration = this.timeoutTicks / 2 + this.rng.int(2 * this.timeoutTicks);
    }
    const crash =
      chaos && this.rng.chance(CRASH_WHILE_CUTTING)
        ? { at: now + this.rng.int(duration + 1), when: this.rng.pick(['during', 'afterCut'] as const) }
        : undefined;
    node.cutting.set(n, { doneAt: now + duration, decline: !this.quiet && this.rng.chance(DECLINE), crash });
  }

  /** The node's checkpoint, stored before it is acknowledged. */
  private takeCheckpoint(id: NodeId, n: number): ClusterCheckpointCommand {
    const store = this.store(id);
    if (store.cutFor.has(n)) this.driver.recuts++;
    store.cutFor.add(n);
    let checkpointId = store.lastId;
    if (checkpointId === 0 || !this.rng.chance(REUSE)) {
      store.lsn += 1 + this.rng.int(100);
      checkpointId = ++store.lastId;
      store.checkpoints.set(checkpointId, store.lsn);
    } else {
      this.driver.reusedCheckpoints++;
    }
    return {
      type: 'ack',
      id: n,
      node: id,
      checkpointId,
      barrierLsn: store.checkpoints.get(checkpointId) as number,
      manifestKey: `${id}/checkpoints/${checkpointId}`,
      ackedAt: this.sim.time * TICK_MS,
    };
  }

  /** Whether the node crashed: one planned during the chaos strikes only while it lasts (the quiet phases need every node up). */
  private crashWhileCutting(id: NodeId): boolean {
    if (!this.chaos()) return false;
    this.driver.crashesMidCheckpoint++;
    this.sim.crashNode(id);
    return true;
  }

  /** Through the leader: forwarded by a follower, dropped when no leader is known (resent later). */
  private send(raft: Raft, command: ClusterCheckpointCommand): void {
    try {
      raft.proposeAnywhere([encodeCheckpointCommand(command)]);
    } catch (error) {
      if (!TidemarkError.is(error)) throw error;
      this.driver.answersUnsent++;
    }
  }

  // ---- the leader: the coordinator ------------------------------------------------------------------------

  /**
   * As CheckpointCoordinator: a new leader first takes the cluster's jobs for its term; then, every poll
   * (at once after an answer applied), it proposes what the policy decides. One round at a time: the next
   * waits until the last one's proposals applied, so nothing is proposed twice.
   */
  private coordinate(id: NodeId): void {
    const raft = this.sim.raftOf(id);
    if (raft === undefined) return;
    const node = this.node(id);
    const status = raft.status();
    if (status.role !== 'leader') {
      node.leadingTerm = 0;
      return;
    }
    const now = this.sim.time;
    if (node.leadingTerm !== status.term) {
      node.leadingTerm = status.term;
      node.leaderSince = now * TICK_MS;
      node.awaiting = 0;
      node.lastRound = Number.NEGATIVE_INFINITY;
    }
    if (node.awaiting > node.applied) return;
    if (!node.answerApplied && now - node.lastRound < this.pollTicks) return;
    node.answerApplied = false;
    node.lastRound = now;
    if ((node.record.jobs?.term ?? 0) < status.term && node.jobsProposedInTerm < status.term) {
      node.jobsProposedInTerm = status.term;
      const leader: ClusterCheckpointCommand = { type: 'leader', node: id, at: now * TICK_MS };
      if (!this.propose(raft, node, [leader])) node.jobsProposedInTerm = 0;
      return;
    }
    const view = this.view(id, node, status, this.quiet || this.rng.chance(REQUEST));
    this.propose(raft, node, this.policy(node.record, this.settings, view));
  }

  private view(id: NodeId, node: BarrierSimNode, status: RaftStatus, requested: boolean): LeaderView {
    const now = this.sim.time;
    const { voters, learners } = status.membership;
    const members = [...voters, ...learners];
    const heard = (member: NodeId) =>
      member === id ||
      now - (node.lastContact.get(member) ?? Number.NEGATIVE_INFINITY) <= this.toleranceTicks;
    const unreachable = new Set(members.filter((member) => !heard(member)));
    return {
      now: now * TICK_MS,
      members,
      unreachable,
      hasQuorum: voters.filter(heard).length > voters.length / 2,
      requested,
      leaderSince: node.leaderSince,
    };
  }

  private propose(raft: Raft, node: BarrierSimNode, commands: ClusterCheckpointCommand[]): boolean {
    if (commands.length === 0) return true;
    try {
      const { index, term } = raft.propose(commands.map(encodeCheckpointCommand));
      node.awaiting = index;
      commands.forEach((command, i) => {
        if (command.type === 'commit')
          this.commitProposals.push({ index: index - commands.length + 1 + i, term });
      });
      if ([...this.leaders.keys()].some((t) => t > term)) this.driver.staleLeaderRounds++;
      return true;
    } catch (error) {
      // NOT_LEADER during a transfer, or too much uncommitted: the next round tries again.
      if (!TidemarkError.is(error)) throw error;
      return false;
    }
  }

  /** Leaders change between begin and commit more often than the Raft simulation's faults alone make them. */
  private disturbLeader(): void {
    const raft = this.currentLeader();
    if (raft === undefined || this.node(raft.id).record.pendingCheckpoints().length === 0) return;
    const roll = this.rng.next();
    if (roll < TRANSFER_MID_CHECKPOINT) {
      const others = raft.status().membership.voters.filter((voter) => voter !== raft.id);
      if (others.length === 0) return;
      try {
        raft.transferLeadership(this.rng.pick(others));
        this.driver.transfersMidCheckpoint++;
      } catch (error) {
        if (!TidemarkError.is(error)) throw error;
      }
    } else if (roll < TRANSFER_MID_CHECKPOINT + LEADER_CRASH_MID_CHECKPOINT) {
      this.driver.leaderCrashesMidCheckpoint++;
      this.sim.crashNode(raft.id);
    }
  }

  // ---- liveness --------------------------------------------------------------------------------------------

  /**
   * After the Raft simulation's own liveness check: the network heals, every node runs, no node is slow,
   * declines or crashes, every leader round asks for a checkpoint — one begun now must commit, on every
   * member, within a bound (a checkpoint left in flight may first have to time out).
   */
  private quietPhase(): void {
    this.sim.calmDown();
    // The seed's own timeout, short as it may be: with resends that back off, a slow log no longer
    // livelocks (it did with a resend every election timeout: seed 47, membership changes, 4 s).
    this.quiet = true;
    const start = this.sim.time;
    // Raft's own bound, then a cut slower than the timeout begun before the calm, then the pause.
    const bound = 60 * this.electionTicks + 3 * this.timeoutTicks + this.settings.minPauseMs / TICK_MS + 100;
    while (this.sim.time - start < bound) {
      this.sim.stepOnce();
      this.removeRetired();
      if (this.committedSince(start * TICK_MS)) return;
    }
    throw new Violation(
      `barrier liveness: no cluster checkpoint begun in the quiet phase committed everywhere within ${bound} ` +
        `steps (${this.sim.where()})\n${this.sim.describe()}\n${this.describe()}`,
    );
  }

  /** Nodes whose disk was wiped are gone for good: an operator removes them (or nothing could begin). */
  private removeRetired(): void {
    const raft = this.currentLeader();
    if (raft === undefined) return;
    const { voters, learners } = raft.status().membership;
    const gone = [...voters, ...learners].find((member) => this.sim.isRetired(member));
    if (gone === undefined) return;
    try {
      raft.proposeConfigChange({ type: 'remove', node: gone });
    } catch (error) {
      if (!TidemarkError.is(error)) throw error;
    }
  }

  private committedSince(at: number): boolean {
    const raft = this.currentLeader();
    if (raft === undefined) return false;
    const { voters, learners } = raft.status().membership;
    const leaderRecord = this.node(raft.id).record;
    const fresh = leaderRecord.list().find((c) => c.beganAt >= at && c.state === 'committed');
    if (fresh === undefined) return false;
    return [...voters, ...learners].every(
      (member) => this.node(member).record.get(fresh.id)?.state === 'committed',
    );
  }

  private currentLeader(): Raft | undefined {
    return this.sim
      .nodeIds()
      .map((id) => this.sim.raftOf(id))
      .find((raft) => raft?.status().role === 'leader');
  }

  private describe(): string {
    return this.sim
      .nodeIds()
      .map((id) => {
        const record = this.node(id).record;
        const recent = record
          .list()
          .slice(0, 3)
          .map((c) => `${c.id}:${c.state}[${Object.keys(c.acks).join(',')}/${c.members.join(',')}]`);
        return `${id}: jobs ${record.jobs?.node ?? '-'}@${record.jobs?.term ?? 0} ${recent.join(' ')}`;
      })
      .join('\n');
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  /** Faults strike only before the Raft simulation's quiet phase (which must find every node it left up). */
  private chaos(): boolean {
    return this.options.faults === true && this.sim.time <= this.options.steps;
  }

  private node(id: NodeId): BarrierSimNode {
    let node = this.nodes.get(id);
    if (node === undefined) this.nodes.set(id, (node = new BarrierSimNode()));
    return node;
  }

  private store(id: NodeId): NodeStore {
    let store = this.stores.get(id);
    if (store === undefined) this.stores.set(id, (store = new NodeStore()));
    return store;
  }
}
