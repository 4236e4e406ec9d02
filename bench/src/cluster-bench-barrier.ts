/**
 * Cluster checkpoints on three `tidemark serve` processes with a small state: begin → commit latency of
 * checkpoints triggered one after another (POST /v1/cluster/checkpoints on the leader), beside the slowest
 * node's own checkpoint in each (its `cutMs`, timed inside the node): the difference is what coordination
 * costs. Then kill -9 of the leader, restarted at once (as a StatefulSet would): the time from the kill to
 * the next committed cluster checkpoint.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Percentiles } from './cluster-bench-protocol';
import { getJson, leaderOf, startServeCluster, type Served } from './cluster-bench-serve';
import { percentiles } from './cluster-bench-stats';

export interface BarrierOptions {
  root: string;
  checkpoints: number;
  kills: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  log: (line: string) => void;
}

export interface BarrierResult {
  nodes: number;
  entriesPerNode: number;
  committed: number;
  aborted: number;
  /** endedAt − beganAt on the leader's clock. */
  beginToCommitMs: Percentiles;
  /** The slowest member's own checkpoint in each. */
  slowestCutMs: Percentiles;
  /** beginToCommit − slowestCut, per checkpoint. */
  coordinationOverheadMs: Percentiles;
  /** Where the overhead goes: begin decided → the slowest node starts cutting (the begin's replication). */
  beginToCutStartMs: Percentiles;
  /** The last ack's cut ended → commit decided (the ack's way to the leader and its replication). */
  lastAckToCommitMs: Percentiles;
  /** kill -9 of the leader (restarted at once) → the next cluster checkpoint committed. */
  killToNextCommitMs: Percentiles;
}

interface CheckpointView {
  id: number;
  state: 'pending' | 'committed' | 'aborted';
  durationMs?: number;
  /** On the node asked (the leader): when it applied the commit, ms after the begin. */
  appliedHereMs?: number;
  acks: Record<string, { cutMs?: number; durationMs: number }>;
}

const ENTRIES_PER_NODE = 1_000;

export async function measureBarrier(options: BarrierOptions): Promise<BarrierResult> {
  const ids = ['n1', 'n2', 'n3'];
  const cluster = await startServeCluster(options.root, ids, {
    TIDEMARK_ELECTION_TIMEOUT_MS: String(options.electionTimeoutMs),
    TIDEMARK_HEARTBEAT_INTERVAL_MS: String(options.heartbeatIntervalMs),
    TIDEMARK_CLUSTER_CHECKPOINT_INTERVAL_MS: '0',
    TIDEMARK_CHECKPOINT_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
  });
  try {
    for (const node of cluster.nodes) await ready(node);
    for (const node of cluster.nodes) await fill(node);
    const durations: number[] = [];
    const cuts: number[] = [];
    const overheads: number[] = [];
    const toCutStart: number[] = [];
    const toCommit: number[] = [];
    let aborted = 0;
    for (let i = 0; i < options.checkpoints; i++) {
      // A little new state on every node each time, so each cut writes a real (small) checkpoint.
      await Promise.all(cluster.nodes.map((node) => append(node, i, 10)));
      const view = await checkpointOnce(cluster.nodes);
      if (view.state !== 'committed') {
        aborted++;
        continue;
      }
      const slowest = Math.max(...Object.values(view.acks).map((ack) => ack.cutMs ?? 0));
      // To the commit applied on the leader (committed through Raft), not to its decision (`durationMs`).
      const committedMs = view.appliedHereMs ?? view.durationMs ?? 0;
      durations.push(committedMs);
      cuts.push(slowest);
      overheads.push(committedMs - slowest);
      const acks = Object.values(view.acks);
      toCutStart.push(Math.max(...acks.map((ack) => ack.durationMs - (ack.cutMs ?? 0))));
      toCommit.push(committedMs - Math.max(...acks.map((ack) => ack.durationMs)));
    }
    const result = {
      beginToCommitMs: percentiles(durations),
      slowestCutMs: percentiles(cuts),
      coordinationOverheadMs: percentiles(overheads),
      beginToCutStartMs: percentiles(toCutStart),
      lastAckToCommitMs: percentiles(toCommit),
    };
    options.log(
      `  ${durations.length} committed, ${aborted} aborted: begin→commit p50 ${result.beginToCommitMs.p50} ms, ` +
        `p99 ${result.beginToCommitMs.p99} ms; slowest node's own checkpoint p50 ${result.slowestCutMs.p50} ms; ` +
        `overhead p50 ${result.coordinationOverheadMs.p50} ms, p99 ${result.coordinationOverheadMs.p99} ms`,
    );
    const recoveries: number[] = [];
    for (let k = 0; k < options.kills; k++) {
      const leader = await leaderOf(cluster.nodes);
      const before = await lastCommitted(cluster.nodes);
      const killedAt = performance.now();
      leader.child.kill('SIGKILL');
      await new Promise((resolve) => leader.child.once('exit', resolve));
      cluster.restart(leader.id);
      const next = await nextCommitted(cluster.nodes, before);
      const ms = performance.now() - killedAt;
      recoveries.push(ms);
      options.log(`  kill -9 ${leader.id} → cluster checkpoint ${next} committed after ${ms.toFixed(0)} ms`);
    }
    return {
      nodes: ids.length,
      entriesPerNode: ENTRIES_PER_NODE,
      committed: durations.length,
      aborted,
      ...result,
      killToNextCommitMs: percentiles(recoveries),
    };
  } finally {
    await cluster.stop();
  }
}

async function ready(node: Served): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await getJson(node.apiPort, '/v1/cluster')) !== undefined) return;
    await sleep(50);
  }
  throw new Error(`${node.id} did not answer within 60 s: ${node.stderr}`);
}

async function fill(node: Served): Promise<void> {
  for (let batch = 0; batch < ENTRIES_PER_NODE / 100; batch++) await append(node, batch, 100);
}

let sequence = 0;

async function append(node: Served, round: number, count: number): Promise<void> {
  const entries = Array.from({ length: count }, (_, i) => ({
    componentId: 'window_1',
    sequence: ++sequence,
    changes: [
      {
        op: 'put',
        key: Buffer.from(`key-${(round * count + i) % 5_000}`).toString('base64'),
        value: Buffer.from(`value-${round}-${i}-${'x'.repeat(64)}`).toString('base64'),
      },
    ],
  }));
  const response = await fetch(`http://127.0.0.1:${node.apiPort}/v1/wal/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ entries }),
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`append on ${node.id}: HTTP ${response.status}`);
}

/** Triggers one on the leader (retrying refusals while the cluster settles) and waits for its end. */
async function checkpointOnce(nodes: readonly Served[]): Promise<CheckpointView> {
  for (;;) {
    const leader = await leaderOf(nodes);
    const response = await fetch(`http://127.0.0.1:${leader.apiPort}/v1/cluster/checkpoints`, {
      method: 'POST',
    });
    const body = (await response.json()) as CheckpointView;
    if (response.status !== 202) {
      await sleep(5);
      continue;
    }
    for (;;) {
      const view = await getJson<CheckpointView>(leader.apiPort, `/v1/cluster/checkpoints/${body.id}`);
      if (view !== undefined && view.state !== 'pending') return view;
      await sleep(1);
    }
  }
}

/** The highest committed id any node knows (a follower's record may lag the leader's). */
async function lastCommitted(nodes: readonly Served[]): Promise<number> {
  let last = 0;
  for (const node of nodes) {
    const view = await getJson<{ lastCommittedId: number }>(node.apiPort, '/v1/cluster/checkpoints?limit=1');
    if (view !== undefined) last = Math.max(last, view.lastCommittedId);
  }
  return last;
}

/** Keeps asking the leader (whoever it is) for a checkpoint until one above `after` commits. */
async function nextCommitted(nodes: readonly Served[], after: number): Promise<number> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    for (const node of nodes) {
      const view = await getJson<{
        role?: string;
        checkpoints: { lastCommittedId: number; pending: number[] };
      }>(node.apiPort, '/v1/cluster');
      if (view === undefined) continue;
      if (view.checkpoints.lastCommittedId > after) return view.checkpoints.lastCommittedId;
      if (view.role === 'leader' && view.checkpoints.pending.length === 0) {
        await fetch(`http://127.0.0.1:${node.apiPort}/v1/cluster/checkpoints`, { method: 'POST' })
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
      }
    }
    await sleep(5);
  }
  throw new Error(`no cluster checkpoint above ${after} committed within 120 s`);
}
