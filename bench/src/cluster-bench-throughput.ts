/**
 * Pipelined proposal throughput and commit latency: three Raft node processes on loopback, the leader's
 * process proposing with `concurrency` proposals in flight; after each level, the disk peer with the batch
 * the leader's store wrote on average at that level (cluster-bench-disk.ts), in the same run.
 */
import * as path from 'node:path';
import { rawDisk, storeAlone, type DiskRun } from './cluster-bench-disk';
import { BenchCluster } from './cluster-bench-processes';
import type { LoadResult } from './cluster-bench-protocol';

export interface ThroughputOptions {
  root: string;
  levels: readonly number[];
  commandBytes: number;
  warmupMs: number;
  measureMs: number;
  diskMillis: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Write each node's CPU profile (node --cpu-prof) into this directory as `<id>.cpuprofile`. */
  profileDir?: string;
  log: (line: string) => void;
}

export interface ThroughputLevel {
  concurrency: number;
  /** Committed and applied proposals per second, as the leader's proposers saw them resolve. */
  proposalsPerSec: number;
  load: LoadResult;
  /** The leader's entries per save that carried entries, over the window. */
  batch: number;
  raw: DiskRun;
  store: DiskRun;
  /** proposalsPerSec ÷ raw.entriesPerSec: how close Raft gets to its disk at that batch. */
  ratioToRaw: number;
  ratioToStore: number;
  /** Whether the leader was the same at the end of the level. */
  leaderKept: boolean;
}

export interface ThroughputResult {
  nodes: number;
  leader: string;
  profile: string | undefined;
  levels: ThroughputLevel[];
}

export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const { profileDir, log } = options;
  const cluster = await BenchCluster.start({
    size: 3,
    root: options.root,
    electionTimeoutMs: options.electionTimeoutMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    pollMs: 50,
    execArgv: profileDir
      ? (id) => ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${id}.cpuprofile`]
      : undefined,
  });
  const levels: ThroughputLevel[] = [];
  let leader = '';
  try {
    ({ leader } = await cluster.when('a leader', () => cluster.agreement(), 30_000));
    for (const concurrency of options.levels) {
      const load = await cluster.node(leader).load({
        concurrency,
        commandBytes: options.commandBytes,
        warmupMs: options.warmupMs,
        measureMs: options.measureMs,
      });
      const proposalsPerSec = load.completed / load.seconds;
      const batch = Math.max(1, Math.round(load.store.entries / Math.max(1, load.store.entrySaves)));
      const raw = await rawDisk(options.root, batch, options.commandBytes, options.diskMillis);
      const store = await storeAlone(options.root, batch, options.commandBytes, options.diskMillis);
      const leaderKept = cluster.agreement()?.leader === leader;
      levels.push({
        concurrency,
        proposalsPerSec,
        load,
        batch,
        raw,
        store,
        ratioToRaw: proposalsPerSec / raw.entriesPerSec,
        ratioToStore: proposalsPerSec / store.entriesPerSec,
        leaderKept,
      });
      log(
        `  ${concurrency} in flight: ${Math.round(proposalsPerSec).toLocaleString('en-US')} proposals/s, ` +
          `p50 ${load.latencyMs.p50.toFixed(2)} ms, p99 ${load.latencyMs.p99.toFixed(2)} ms; ` +
          `${batch} entries/save; raw disk ${Math.round(raw.entriesPerSec).toLocaleString('en-US')}/s` +
          (load.failed > 0 ? `; ${load.failed} failed (${load.firstError})` : '') +
          (load.transport.failedStreams + load.transport.droppedMessages > 0
            ? `; transport: ${load.transport.failedStreams} streams failed, ${load.transport.droppedMessages} messages dropped`
            : '') +
          (leaderKept ? '' : '; THE LEADER CHANGED'),
      );
    }
  } finally {
    await cluster.close();
  }
  return {
    nodes: 3,
    leader,
    profile: profileDir ? path.join(profileDir, `${leader}.cpuprofile`) : undefined,
    levels,
  };
}
