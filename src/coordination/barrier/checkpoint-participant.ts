import type { Clock, Timer } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { ClusterStateMachine } from '../cluster/cluster-state-machine';
import type { RaftNode } from '../raft/raft-node';
import { encodeCheckpointCommand } from './checkpoint-command-codec';
import type { ClusterCheckpoint, ClusterCheckpointCommand } from './cluster-checkpoint-record';

/** This node's cut for a barrier: its own checkpoint, the LSN it covers, and where its manifest is. */
export interface BarrierCut {
  readonly checkpointId: number;
  readonly barrierLsn: number;
  readonly manifestKey: string;
}

/** The port to the node's checkpoint system. */
export interface LocalCheckpoints {
  /** Takes (or reuses, when nothing changed) a committed checkpoint of everything appended so far. */
  cut(): Promise<BarrierCut>;
  /** Records a committed cluster checkpoint in the store (idempotent). */
  recordCommitted(checkpoint: ClusterCheckpoint): Promise<void>;
}

/**
 * Runs before this node cuts for barrier `id` (a library user aligns its inputs here: stops reading,
 * drains what is in flight into the WAL). A hook that throws declines the checkpoint with its message.
 */
export type BarrierHook = (barrier: { readonly id: number }) => Promise<void> | void;

export interface CheckpointParticipantOptions {
  readonly nodeId: string;
  readonly raft: RaftNode;
  readonly state: ClusterStateMachine;
  readonly local: LocalCheckpoints;
  /** An ack or decline not yet in the record is sent again this often (it may have been lost). */
  readonly resendMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** An answer sent, when, how often, and to which leadership. */
interface SentAnswer {
  readonly command: ClusterCheckpointCommand;
  at: number;
  attempts: number;
  leader: string;
  term: number;
}

/** Resends back off up to resendMs × 2^4. */
const MAX_BACKOFF_DOUBLINGS = 4;

/** Recent committed checkpoints whose record is written again on start (a crash may have cut it off). */
const RECORDS_HEALED_ON_START = 20;

/**
 * Every node's half of cluster checkpoints (the reference's `reportCompletion`): on applying "begin N"
 * that names it, the node runs its barrier hooks, cuts its checkpoint and acknowledges N with it through
 * the leader (or declines, saying why). The answer is sent again until the record shows it or N ended —
 * acks are idempotent in the record — so a lost message, a leader change or a crash of this node between
 * the cut and the ack only delays N. Once N commits (at its last ack) it records N in the store under its
 * own prefix.
 */
export class CheckpointParticipant {
  private readonly hooks: BarrierHook[] = [];
  /** Barriers being cut now. */
  private readonly cutting = new Set<number>();
  /** Answers sent, by checkpoint id, until the record shows them. */
  private readonly answers = new Map<number, SentAnswer>();
  /** Committed checkpoints whose store record is not written yet. */
  private readonly unrecorded = new Set<number>();
  private timer: Timer | undefined;
  private closed = false;
  private scheduled = false;

  constructor(private readonly options: CheckpointParticipantOptions) {
    options.state.onCheckpointCommand(({ command, outcome }) => {
      if (!outcome.applied) return;
      if (command.type === 'begin' && command.members.includes(options.nodeId)) this.later();
      if (outcome.ended === 'committed' && 'id' in command) {
        this.unrecorded.add(command.id);
        this.later();
      }
    });
    options.state.onRestore(() => this.later());
    // A begin in this node's log is worth cutting for at once: it commits a round trip later, if ever — and
    // a cut for a begin that never commits is an ordinary checkpoint of this node, its ack ignored.
    options.state.onCheckpointCommandSeen(({ command }) => {
      if (command.type !== 'begin' || !command.members.includes(options.nodeId) || this.closed) return;
      if (command.id <= options.state.checkpoints.lastId) return;
      if (!this.cutting.has(command.id) && !this.answers.has(command.id)) void this.cut(command.id);
    });
  }

  onBarrier(hook: BarrierHook): void {
    this.hooks.push(hook);
  }

  start(): void {
    if (this.timer !== undefined || this.closed) return;
    const committed = this.options.state.checkpoints.list().filter((c) => c.state === 'committed');
    for (const c of committed.slice(0, RECORDS_HEALED_ON_START)) this.unrecorded.add(c.id);
    this.timer = this.options.clock.setInterval(() => this.reconcile(), this.options.resendMs).unref();
    this.later();
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
  }

  /**
   * After the Raft loop's current batch has applied (it applies a batch without yielding, so a microtask
   * runs once the record is as of its last entry) — not a timer, which would add a millisecond or more.
   */
  private later(): void {
    if (this.closed || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.reconcile();
    });
  }

  private reconcile(): void {
    if (this.closed) return;
    const { state, nodeId } = this.options;
    for (const checkpoint of state.checkpoints.pendingCheckpoints()) {
      if (!checkpoint.members.includes(nodeId) || Object.hasOwn(checkpoint.acks, nodeId)) continue;
      const answer = this.answers.get(checkpoint.id);
      if (answer !== undefined) this.resendIfDue(answer);
      else if (!this.cutting.has(checkpoint.id)) void this.cut(checkpoint.id);
    }
    for (const id of this.answers.keys()) {
      const checkpoint = state.checkpoints.get(id);
      // Not begun in the record yet (cut early): kept until its begin applies, or a later one does.
      if (checkpoint === undefined && id > state.checkpoints.lastId) continue;
      if (
        checkpoint === undefined ||
        checkpoint.state !== 'pending' ||
        Object.hasOwn(checkpoint.acks, nodeId)
      ) {
        this.answers.delete(id);
      }
    }
    for (const id of this.unrecorded) void this.record(id);
  }

  private async cut(id: number): Promise<void> {
    const { local, nodeId, clock, logger } = this.options;
    this.cutting.add(id);
    let answer: ClusterCheckpointCommand;
    try {
      for (const hook of this.hooks) await hook({ id });
      const started = clock.monotonic();
      const cut = await local.cut();
      const cutMs = Math.round(clock.monotonic() - started);
      answer = { type: 'ack', id, node: nodeId, ...cut, ackedAt: clock.now(), cutMs };
      logger.info({ clusterCheckpointId: id, ...cut }, 'cut for cluster checkpoint');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      answer = { type: 'decline', id, node: nodeId, reason: reason.slice(0, 1000), at: clock.now() };
      logger.warn({ err: error, clusterCheckpointId: id }, 'declining cluster checkpoint');
    } finally {
      this.cutting.delete(id);
    }
    const record = this.options.state.checkpoints;
    const known = record.get(id);
    // Ended meanwhile (or never begun: a later id began in its place): nothing to send.
    if (this.closed || (known === undefined ? id <= record.lastId : known.state !== 'pending')) return;
    const sent: SentAnswer = { command: answer, at: 0, attempts: 0, leader: '', term: 0 };
    this.answers.set(id, sent);
    this.send(sent);
  }

  /**
   * Again when leadership moved since (the copy sent may be lost with the old leader's log), else after a
   * back-off that doubles each time: a copy may still wait in a slow leader's log, and sending one every
   * interval regardless could outgrow what the log commits (the barrier simulation found that livelock).
   */
  private resendIfDue(sent: SentAnswer): void {
    const { leader, term } = this.options.raft.status();
    const backoff = this.options.resendMs * 2 ** Math.min(sent.attempts - 1, MAX_BACKOFF_DOUBLINGS);
    const moved = leader !== sent.leader || term !== sent.term;
    if (moved || this.options.clock.monotonic() - sent.at >= backoff) this.send(sent);
  }

  private send(sent: SentAnswer): void {
    const { leader, term } = this.options.raft.status();
    Object.assign(sent, { at: this.options.clock.monotonic(), attempts: sent.attempts + 1, leader, term });
    try {
      this.options.raft.submit(encodeCheckpointCommand(sent.command));
    } catch (error) {
      this.options.logger.debug({ err: error }, 'cluster checkpoint answer not sent; resending later');
    }
  }

  private async record(id: number): Promise<void> {
    const checkpoint = this.options.state.checkpoints.get(id);
    if (checkpoint?.state !== 'committed') {
      this.unrecorded.delete(id);
      return;
    }
    try {
      await this.options.local.recordCommitted(checkpoint);
      this.unrecorded.delete(id);
    } catch (error) {
      this.options.logger.warn(
        { err: error, clusterCheckpointId: id },
        'recording a committed cluster checkpoint failed; retrying',
      );
    }
  }
}
