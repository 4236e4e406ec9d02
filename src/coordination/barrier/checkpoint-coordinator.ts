import type { Clock, Timer } from '../../lib/clock';
import { TidemarkError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { clusterHealth } from '../cluster/cluster-health';
import type { ClusterStateMachine } from '../cluster/cluster-state-machine';
import type { Role } from '../raft/core';
import type { RaftNode } from '../raft/raft-node';
import { encodeCheckpointCommand } from './checkpoint-command-codec';
import { beginRefusal, decide, type ClusterCheckpointSettings, type LeaderView } from './checkpoint-policy';
import type {
  ClusterCheckpoint,
  ClusterCheckpointCommand,
  CommandOutcome,
} from './cluster-checkpoint-record';

export interface CheckpointCoordinatorOptions {
  readonly nodeId: string;
  readonly raft: RaftNode;
  readonly state: ClusterStateMachine;
  readonly settings: ClusterCheckpointSettings;
  /** How often the leader looks at the record when nothing happened (acks are acted on at once). */
  readonly pollMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** How many ends' apply times a node remembers. */
const ENDS_REMEMBERED = 1_000;

interface Trigger {
  readonly resolve: (checkpoint: ClusterCheckpoint) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The leader's half of cluster checkpoints (the reference's `initiateCheckpoint`, after Flink's
 * CheckpointCoordinator): on each round — every `pollMs`, and at once after a checkpoint ends — it asks
 * the policy what to do and proposes it through Raft: begin N, abort what timed out or lost a member (the
 * last ack commits on its own). A new leader first proposes itself as the holder of the cluster's jobs for its
 * term. One round at a time, and the next only once the last one's proposals applied, so nothing is
 * proposed twice; the record decides again on apply, so a proposal that lost a race changes nothing.
 * On a follower it does nothing.
 */
export class CheckpointCoordinator {
  private timer: Timer | undefined;
  private running = false;
  private again = false;
  private closed = false;
  private triggers: Trigger[] = [];
  /** The term this node proposed itself as the jobs' holder in (once applied). */
  private jobsProposedInTerm = 0;
  private leaderSince = 0;
  /**
   * When this node applied each checkpoint's end (wall ms, this node's clock; not replicated): the record's
   * `endedAt` is when the leader decided, this is when the decision was committed and applied here.
   */
  private readonly endsAppliedAt = new Map<number, number>();

  constructor(private readonly options: CheckpointCoordinatorOptions) {
    options.state.onCheckpointCommand(({ command, outcome }) => {
      if (!outcome.applied || outcome.ended === undefined || !('id' in command)) return;
      this.noteEndApplied(command.id);
      // An end frees a slot: the next may begin now (with maxConcurrent or a request waiting), not at a poll.
      this.soon();
    });
    options.raft.onRoleChange((role) => this.roleChanged(role));
  }

  start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.options.clock.setInterval(() => this.round(), this.options.pollMs).unref();
    this.soon();
  }

  /**
   * Begins a cluster checkpoint now (POST /v1/cluster/checkpoints): resolves with it once "begin" applied.
   * NOT_LEADER on a follower; PRECONDITION_FAILED, with the reason, when the policy would not begin one now
   * (too many in flight, the minimum pause, a member out of reach, no majority).
   */
  trigger(): Promise<ClusterCheckpoint> {
    if (this.closed) return Promise.reject(new TidemarkError('CLOSED', 'the coordinator is closed'));
    const status = this.options.raft.status();
    if (status.role !== 'leader') {
      return Promise.reject(
        new TidemarkError(
          'NOT_LEADER',
          `only the leader begins cluster checkpoints: ${status.leader === '' ? 'no leader is known' : `${status.leader} leads`}`,
          { details: { leader: status.leader, leaderAddress: status.leaderAddress } },
        ),
      );
    }
    const refusal = beginRefusal(this.options.state.checkpoints, this.options.settings, this.view(true));
    if (refusal !== undefined) {
      return Promise.reject(
        new TidemarkError('PRECONDITION_FAILED', `no cluster checkpoint begins now: ${refusal}`),
      );
    }
    return new Promise<ClusterCheckpoint>((resolve, reject) => {
      this.triggers.push({ resolve, reject });
      this.soon();
    });
  }

  /** When this node applied checkpoint `id`'s commit or abort (wall ms), if it did since it started. */
  endAppliedAt(id: number): number | undefined {
    return this.endsAppliedAt.get(id);
  }

  private noteEndApplied(id: number): void {
    this.endsAppliedAt.set(id, this.options.clock.now());
    if (this.endsAppliedAt.size > ENDS_REMEMBERED) {
      this.endsAppliedAt.delete(this.endsAppliedAt.keys().next().value as number);
    }
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.failTriggers(new TidemarkError('CLOSED', 'the coordinator is closed'));
  }

  private roleChanged(role: Role): void {
    if (role === 'leader') {
      this.leaderSince = this.options.clock.now();
      this.soon();
      return;
    }
    this.failTriggers(
      new TidemarkError('NOT_LEADER', 'leadership moved before the cluster checkpoint began', {
        details: { leader: this.options.raft.status().leader },
      }),
    );
  }

  /** Once the Raft loop's current batch has applied (see CheckpointParticipant.later). */
  private soon(): void {
    if (this.closed) return;
    queueMicrotask(() => this.round());
  }

  private round(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const status = this.options.raft.status();
    if (status.role !== 'leader' || status.failure !== undefined) return;
    this.running = true;
    this.again = false;
    this.decideAndPropose(status.term)
      .catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'cluster checkpoint round failed; retrying at the next');
      })
      .finally(() => {
        this.running = false;
        if (this.again) this.soon();
      });
  }

  private async decideAndPropose(term: number): Promise<void> {
    const { state, settings, nodeId, clock } = this.options;
    const jobs = state.checkpoints.jobs;
    if ((jobs?.term ?? 0) < term && this.jobsProposedInTerm < term) {
      this.jobsProposedInTerm = term;
      await this.propose({ type: 'leader', node: nodeId, at: clock.now() }).catch((error: unknown) => {
        this.jobsProposedInTerm = 0;
        throw error;
      });
    }
    const requested = this.triggers.length > 0;
    const commands = decide(state.checkpoints, settings, this.view(requested));
    const begin = commands.find((c) => c.type === 'begin');
    const results = await Promise.allSettled(commands.map((command) => this.propose(command)));
    results.forEach((result, i) => this.report(commands[i]!, result));
    if (!requested) return;
    const triggers = this.triggers;
    this.triggers = [];
    const begun = begin === undefined ? undefined : state.checkpoints.get(begin.id);
    for (const trigger of triggers) {
      if (begun !== undefined) trigger.resolve(begun);
      else {
        const why = beginRefusal(state.checkpoints, settings, this.view(true)) ?? 'the begin did not apply';
        trigger.reject(new TidemarkError('PRECONDITION_FAILED', `no cluster checkpoint began: ${why}`));
      }
    }
  }

  private async propose(command: ClusterCheckpointCommand): Promise<CommandOutcome> {
    const applied = await this.options.raft.propose<CommandOutcome>(encodeCheckpointCommand(command));
    return applied.result;
  }

  private report(command: ClusterCheckpointCommand, result: PromiseSettledResult<CommandOutcome>): void {
    const { logger } = this.options;
    if (result.status === 'rejected') {
      logger.warn({ err: result.reason, command: command.type }, 'cluster checkpoint proposal failed');
    } else if (!result.value.applied) {
      logger.debug({ command, why: result.value.why }, 'cluster checkpoint proposal changed nothing');
    } else if (command.type !== 'leader') {
      logger.info({ command }, `cluster checkpoint ${command.type}`);
    }
  }

  private view(requested: boolean): LeaderView {
    const status = this.options.raft.status();
    const health = clusterHealth(status);
    return {
      now: this.options.clock.now(),
      members: status.members.map((m) => m.id),
      unreachable: new Set(health.unreachable),
      hasQuorum: status.role === 'leader' && health.quorum.healthy,
      requested,
      leaderSince: this.leaderSince,
    };
  }

  private failTriggers(error: TidemarkError): void {
    const triggers = this.triggers;
    this.triggers = [];
    for (const trigger of triggers) trigger.reject(error);
  }
}
