/**
 * `npm run bench:cluster`: the Raft coordinator across real processes on loopback — failover time after
 * kill -9 of the leader (3 and 5 nodes), pipelined proposal throughput and commit latency (3 nodes) beside
 * the raw limit of the disk in the same run, and the same through REST on `tidemark serve` processes.
 * Prints tables and writes JSON (bench/results/cluster.json). Nothing here asserts speed: see bench/README.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { measureBarrier, type BarrierResult } from './cluster-bench-barrier';
import { measureFailover, type FailoverResult } from './cluster-bench-failover';
import { summariseProfile, type ProfileSummary } from './cluster-bench-profile';
import {
  printBarrier,
  printFailover,
  printProfile,
  printRest,
  printThroughput,
} from './cluster-bench-report';
import { measureRest, SERVE_CLI, type RestResult } from './cluster-bench-rest';
import { measureThroughput, type ThroughputResult } from './cluster-bench-throughput';

export interface ClusterBenchOptions {
  quick?: boolean;
  /** Where the nodes' temporary directories go (the disk measured): default the OS temp dir. */
  dir?: string;
  out?: string;
  /** Parts to run, comma-separated: failover, throughput, rest, barrier (default all). */
  only?: string;
  /** Profile the throughput run's nodes (node --cpu-prof) into this directory and summarise the leader's. */
  profile?: string;
}

/** The product's defaults (src/config/cluster.schema.ts). */
const ELECTION_TIMEOUT_MS = 1000;
const HEARTBEAT_INTERVAL_MS = 100;
const COMMAND_BYTES = 64;
const GOALS = { failoverP99ElectionTimeouts: 2, proposalsPerSec: 20_000, barrierOverheadP50Ms: 5 };
const PARTS = ['failover', 'throughput', 'rest', 'barrier'] as const;

export async function runClusterBench(opts: ClusterBenchOptions = {}): Promise<void> {
  const quick = opts.quick ?? false;
  const root = path.resolve(opts.dir ?? os.tmpdir());
  const out = path.resolve(opts.out ?? path.join('bench', 'results', 'cluster.json'));
  const parts = new Set(opts.only ? opts.only.split(',').map((p) => p.trim()) : PARTS);
  for (const part of parts) {
    if (!(PARTS as readonly string[]).includes(part)) throw new Error(`--only: unknown part ${part}`);
  }
  await fs.promises.mkdir(root, { recursive: true });
  const log = (line: string): void => console.log(line);
  const loadBefore = os.loadavg();
  const started = Date.now();
  console.log(
    `bench cluster${quick ? ' (quick)' : ''}: ${os.cpus().length} CPUs, Node ${process.version}, ` +
      `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const failover: FailoverResult[] = [];
  if (parts.has('failover')) {
    for (const size of [3, 5]) {
      console.log(`failover, ${size} nodes:`);
      failover.push(
        await measureFailover({
          size,
          kills: quick ? 5 : 100,
          root,
          electionTimeoutMs: ELECTION_TIMEOUT_MS,
          heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
          pollMs: 5,
          log,
        }),
      );
    }
  }

  let throughput: ThroughputResult | undefined;
  let profile: ProfileSummary | undefined;
  if (parts.has('throughput')) {
    console.log('throughput, 3 nodes:');
    const profileDir = opts.profile === undefined ? undefined : path.resolve(opts.profile);
    if (profileDir) await fs.promises.mkdir(profileDir, { recursive: true });
    throughput = await measureThroughput({
      root,
      levels: quick ? [1, 64, 1024] : [1, 64, 1024, 8192],
      commandBytes: COMMAND_BYTES,
      warmupMs: quick ? 300 : 1000,
      measureMs: quick ? 1000 : 4000,
      diskMillis: quick ? 300 : 2000,
      electionTimeoutMs: ELECTION_TIMEOUT_MS,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      profileDir,
      log,
    });
    if (throughput.profile) profile = summariseProfile(throughput.profile);
  }

  let rest: RestResult | { skipped: string } | undefined;
  if (parts.has('rest')) {
    if (!fs.existsSync(SERVE_CLI)) {
      rest = { skipped: `${SERVE_CLI} not found: npm run build first` };
      console.log(`REST: skipped, ${rest.skipped}`);
    } else {
      console.log('REST, 3 tidemark serve processes:');
      rest = await measureRest({
        root,
        levels: quick ? [64] : [1, 64, 512],
        warmupMs: quick ? 300 : 1000,
        measureMs: quick ? 1000 : 4000,
        log,
      });
    }
  }

  let barrier: BarrierResult | { skipped: string } | undefined;
  if (parts.has('barrier')) {
    if (!fs.existsSync(SERVE_CLI)) {
      barrier = { skipped: `${SERVE_CLI} not found: npm run build first` };
      console.log(`cluster checkpoints: skipped, ${barrier.skipped}`);
    } else {
      console.log('cluster checkpoints, 3 tidemark serve processes:');
      barrier = await measureBarrier({
        root,
        checkpoints: quick ? 20 : 200,
        kills: quick ? 2 : 10,
        electionTimeoutMs: ELECTION_TIMEOUT_MS,
        heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
        log,
      });
    }
  }

  const loadAfter = os.loadavg();
  console.log('');
  if (failover.length > 0) printFailover(failover, GOALS.failoverP99ElectionTimeouts);
  if (throughput) {
    console.log('');
    printThroughput(throughput, GOALS.proposalsPerSec);
    console.log(
      `x raw = proposals/s ÷ (entries/save × the disk's write + fdatasync cycles/s for that record alone)`,
    );
  }
  if (rest && 'levels' in rest) {
    console.log('');
    printRest(rest);
  }
  if (profile) printProfile(profile);
  if (barrier && 'beginToCommitMs' in barrier) {
    console.log('');
    printBarrier(barrier, GOALS.barrierOverheadP50Ms);
  }
  console.log(
    `\nload average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, ` +
      `after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );

  const cpus = os.cpus();
  const document = {
    benchmark: 'cluster',
    date: new Date().toISOString(),
    quick,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      totalMemoryBytes: os.totalmem(),
      platform: os.platform(),
      release: os.release(),
      arch: os.arch(),
      node: process.version,
      tempDir: root,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
    },
    settings: {
      electionTimeoutMs: ELECTION_TIMEOUT_MS,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      commandBytes: COMMAND_BYTES,
      nodes:
        'RaftNode + FileRaftLogStore + HttpRaftTransport, one child process each (cluster-bench-node.ts)',
      clock:
        'kill and leader-change times on the shared wall clock: performance.timeOrigin + performance.now()',
    },
    goals: GOALS,
    failover,
    throughput,
    profile,
    rest,
    barrier,
  };
  await fs.promises.mkdir(path.dirname(out), { recursive: true });
  await fs.promises.writeFile(out, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`written ${out}`);
}
