import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CheckpointCoordinator } from '../../../src/coordination/barrier/checkpoint-coordinator';
import {
  CheckpointParticipant,
  type BarrierCut,
  type LocalCheckpoints,
} from '../../../src/coordination/barrier/checkpoint-participant';
import type { ClusterCheckpointSettings } from '../../../src/coordination/barrier/checkpoint-policy';
import type { ClusterCheckpoint } from '../../../src/coordination/barrier/cluster-checkpoint-record';
import {
  ClusterStateMachine,
  type CheckpointCommandApplied,
} from '../../../src/coordination/cluster/cluster-state-machine';
import { FileRaftLogStore } from '../../../src/coordination/raft/log-store/file-raft-log-store';
import { RaftNode } from '../../../src/coordination/raft/raft-node';
import { HttpRaftTransport } from '../../../src/coordination/raft/transport/http/http-raft-transport';
import { systemClock } from '../../../src/lib/clock';
import { silentLogger } from '../../../src/lib/logger';
import { freePort } from '../child-server';
import { eventually } from '../eventually';
import { SECRET } from './raft-node-cluster';

/** What a member's checkpoint system does at the next barrier: cut (after `delayMs`), fail, or hang. */
export type CutBehaviour =
  { kind: 'cut'; delayMs?: number } | { kind: 'fail'; reason: string } | { kind: 'hang' };

/** A scripted checkpoint system: ids rise, each cut's LSN is the node's "appended" count. */
export class ScriptedCheckpoints implements LocalCheckpoints {
  behaviour: CutBehaviour = { kind: 'cut' };
  lastId = 0;
  lsn = 0;
  readonly cuts: BarrierCut[] = [];
  readonly recorded: ClusterCheckpoint[] = [];
  private hung: (() => void)[] = [];

  constructor(readonly nodeId: string) {}

  async cut(): Promise<BarrierCut> {
    const behaviour = this.behaviour;
    if (behaviour.kind === 'fail') throw new Error(behaviour.reason);
    if (behaviour.kind === 'hang') await new Promise<void>((resolve) => this.hung.push(resolve));
    else if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    const cut = {
      checkpointId: ++this.lastId,
      barrierLsn: this.lsn,
      manifestKey: `${this.nodeId}/checkpoints/${this.lastId}/manifest.json`,
    };
    this.cuts.push(cut);
    return cut;
  }

  /** Lets hung cuts finish. */
  release(): void {
    const hung = this.hung;
    this.hung = [];
    for (const resolve of hung) resolve();
  }

  async recordCommitted(checkpoint: ClusterCheckpoint): Promise<void> {
    if (!this.recorded.some((c) => c.id === checkpoint.id)) this.recorded.push(structuredClone(checkpoint));
  }
}

export interface BarrierMember {
  id: string;
  address: string;
  dir: string;
  node: RaftNode | undefined;
  state: ClusterStateMachine;
  coordinator: CheckpointCoordinator | undefined;
  participant: CheckpointParticipant | undefined;
  local: ScriptedCheckpoints;
  /** Every barrier command this member applied, with its outcome. */
  applied: CheckpointCommandApplied[];
}

const SETTINGS: ClusterCheckpointSettings = {
  intervalMs: 0,
  timeoutMs: 10_000,
  minPauseMs: 0,
  maxConcurrent: 1,
  tolerableFailures: 0,
};

/**
 * Raft nodes with the cluster's state machine, the leader's coordinator and every node's participant, in
 * this process over real HTTP and real log stores (as raft-node-cluster.ts), each with scripted checkpoints.
 */
export class BarrierCluster {
  readonly members = new Map<string, BarrierMember>();
  private readonly root = mkdtempSync(path.join(tmpdir(), 'tidemark-barrier-'));
  private initial = new Map<string, string>();

  private constructor(readonly settings: ClusterCheckpointSettings) {}

  static async start(
    size: number,
    settings: Partial<ClusterCheckpointSettings> = {},
  ): Promise<BarrierCluster> {
    const cluster = new BarrierCluster({ ...SETTINGS, ...settings });
    for (let i = 1; i <= size; i++) cluster.initial.set(`n${i}`, `127.0.0.1:${await freePort()}`);
    for (const [id, address] of cluster.initial) {
      cluster.members.set(id, {
        id,
        address,
        dir: path.join(cluster.root, id),
        node: undefined,
        state: new ClusterStateMachine(),
        coordinator: undefined,
        participant: undefined,
        local: new ScriptedCheckpoints(id),
        applied: [],
      });
    }
    try {
      await Promise.all([...cluster.initial.keys()].map((id) => cluster.open(id)));
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  async open(id: string): Promise<void> {
    const member = this.member(id);
    member.state = new ClusterStateMachine();
    member.applied = [];
    member.state.onCheckpointCommand((applied) => member.applied.push(applied));
    const node = await RaftNode.open({
      id,
      initialMembers: this.initial,
      electionTimeoutMs: 150,
      heartbeatIntervalMs: 25,
      partitionToleranceMs: 500,
      snapshotEvery: 50,
      store: new FileRaftLogStore(member.dir),
      transport: new HttpRaftTransport({ nodeId: id, listen: member.address, secret: SECRET }),
      stateMachine: member.state,
    });
    const common = { nodeId: id, raft: node, state: member.state, clock: systemClock, logger: silentLogger };
    member.coordinator = new CheckpointCoordinator({ ...common, settings: this.settings, pollMs: 25 });
    member.participant = new CheckpointParticipant({ ...common, local: member.local, resendMs: 150 });
    member.node = node;
    await node.start();
    member.participant.start();
    member.coordinator.start();
  }

  member(id: string): BarrierMember {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no member ${id}`);
    return member;
  }

  running(): BarrierMember[] {
    return [...this.members.values()].filter((m) => m.node !== undefined);
  }

  async leader(): Promise<BarrierMember> {
    let leader: BarrierMember | undefined;
    await eventually('one node leads', () => {
      const leaders = this.running().filter((m) => m.node?.status().role === 'leader');
      leader = leaders.length === 1 ? leaders[0] : undefined;
      return leader !== undefined;
    });
    return leader as BarrierMember;
  }

  /** Begins a cluster checkpoint on the leader (retrying while leadership settles). */
  async trigger(): Promise<ClusterCheckpoint> {
    for (;;) {
      const leader = await this.leader();
      try {
        return await (leader.coordinator as CheckpointCoordinator).trigger();
      } catch (error) {
        if ((error as { code?: string }).code !== 'NOT_LEADER') throw error;
      }
    }
  }

  /** Waits until every running member's record shows checkpoint `id` ended, and returns its state there. */
  async ended(id: number): Promise<ClusterCheckpoint> {
    await eventually(`cluster checkpoint ${id} ended on every running member`, () =>
      this.running().every((m) =>
        ['committed', 'aborted'].includes(m.state.checkpoints.get(id)?.state ?? ''),
      ),
    );
    const states = new Set(this.running().map((m) => m.state.checkpoints.get(id)?.state));
    if (states.size !== 1) throw new Error(`members disagree on ${id}: ${[...states].join(', ')}`);
    return this.running()[0]!.state.checkpoints.get(id)!;
  }

  async stop(id: string): Promise<void> {
    const member = this.member(id);
    member.coordinator?.close();
    member.participant?.close();
    await member.node?.close();
    member.node = undefined;
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.members.keys()].map((id) => this.stop(id)));
    for (const member of this.members.values()) member.local.release();
    rmSync(this.root, { recursive: true, force: true });
  }
}
