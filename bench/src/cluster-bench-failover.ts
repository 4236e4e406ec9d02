/**
 * Failover time: kill -9 of the leader → the survivors agree on a new leader, over many kills. Between
 * kills the victim is restarted (same directory and port) and the cluster left to calm down: everyone
 * running, following one leader, every log caught up; then a random part of a heartbeat interval passes,
 * so that kills fall at every phase of the heartbeat.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchCluster, type NodeProcess } from './cluster-bench-processes';
import type { Percentiles } from './cluster-bench-protocol';
import { percentiles } from './cluster-bench-stats';

export interface FailoverOptions {
  size: number;
  kills: number;
  root: string;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How often each node looks at its own status. */
  pollMs: number;
  log: (line: string) => void;
}

export interface FailoverResult {
  nodes: number;
  kills: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Kills after which the survivors did not agree within `giveUpMs` (not in the samples). */
  noLeader: number;
  giveUpMs: number;
  /** Kill → agreement, ms, in kill order. */
  samplesMs: number[];
  ms: Percentiles;
  /** The same in election timeouts. */
  electionTimeouts: Percentiles;
  /** How often the new leader's term was more than one above the old one (a split or repeated election). */
  extraTerms: number;
}

export async function measureFailover(options: FailoverOptions): Promise<FailoverResult> {
  const { size, kills, electionTimeoutMs, heartbeatIntervalMs, log } = options;
  const giveUpMs = 20 * electionTimeoutMs;
  const cluster = await BenchCluster.start({
    size,
    root: options.root,
    electionTimeoutMs,
    heartbeatIntervalMs,
    pollMs: options.pollMs,
  });
  const samplesMs: number[] = [];
  let noLeader = 0;
  let extraTerms = 0;
  try {
    for (let kill = 1; kill <= kills; kill++) {
      const { leader } = await calm(cluster, giveUpMs);
      // A random phase of the heartbeat: a follower's election clock restarts with each one.
      await sleep(2 * heartbeatIntervalMs + Math.random() * heartbeatIntervalMs);
      const victim = cluster.node(leader);
      const oldTerm = victim.state?.term ?? 0;
      if (cluster.agreement()?.leader !== leader) {
        kill--; // leadership moved while we waited: calm down again
        continue;
      }
      const survivors = cluster.running().filter((node) => node !== victim);
      const killedAt = await victim.kill();
      const agreed = await cluster
        .when(
          'the survivors agree on a new leader',
          () => {
            const found = cluster.agreement(survivors);
            return found && found.leader !== victim.spec.id ? found : undefined;
          },
          giveUpMs,
        )
        .catch(() => undefined);
      if (agreed === undefined) {
        noLeader++;
        log(`  kill ${kill}/${kills}: ${leader} killed, no agreed leader within ${giveUpMs} ms`);
      } else {
        const ms = agreed.at - killedAt;
        samplesMs.push(ms);
        const term = cluster.node(agreed.leader).state?.term ?? 0;
        if (term > oldTerm + 1) extraTerms++;
        log(
          `  kill ${kill}/${kills}: ${leader} → ${agreed.leader} in ${ms.toFixed(0)} ms ` +
            `(${(ms / electionTimeoutMs).toFixed(2)} × election timeout, term ${oldTerm} → ${term})`,
        );
      }
      await victim.start();
    }
  } finally {
    await cluster.close();
  }
  const ms = percentiles(samplesMs);
  return {
    nodes: size,
    kills,
    electionTimeoutMs,
    heartbeatIntervalMs,
    noLeader,
    giveUpMs,
    samplesMs: samplesMs.map((s) => Math.round(s * 10) / 10),
    ms,
    electionTimeouts: percentiles(samplesMs.map((s) => s / electionTimeoutMs)),
    extraTerms,
  };
}

/** Every node running and following one leader, and the leader's log matched by everyone. */
async function calm(cluster: BenchCluster, timeoutMs: number): Promise<{ leader: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = [...cluster.nodes.values()];
    const { leader } = await cluster.when(
      'all nodes follow one leader',
      () => (all.every((node: NodeProcess) => node.running) ? cluster.agreement(all) : undefined),
      Math.max(1, deadline - Date.now()),
    );
    const status = await cluster.node(leader).status();
    if (status.role === 'leader' && status.members.every((m) => m.match === status.lastIndex)) {
      return { leader };
    }
    if (Date.now() > deadline) throw new Error(`the cluster did not calm down within ${timeoutMs} ms`);
    await sleep(20);
  }
}
