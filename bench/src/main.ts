/**
 * The benchmarks' own command line (`npm run bench:wal -- --quick`, …): built by bench/tsconfig.json into
 * bench/dist, apart from the product, which neither ships nor registers it. Each run prints its figures and
 * writes them as JSON (bench/results/<name>.json unless --out says otherwise).
 */
import { Command } from 'commander';

interface BenchOptions {
  quick?: boolean;
  dir?: string;
  out?: string;
  only?: string;
  profile?: string;
  size?: string;
}

type Run = (options: {
  quick: boolean;
  dir?: string;
  out?: string;
  only?: string;
  profile?: string;
  size?: string;
}) => Promise<unknown>;

interface Bench {
  name: string;
  description: string;
  /** What --dir is for; a benchmark without one takes no --dir. */
  dir?: string;
  /** Options of its own: [flags, description]. */
  options?: [string, string][];
  // Loaded on demand, so one benchmark does not load the modules of the others.
  load: () => Promise<Run>;
}

const BENCHES: readonly Bench[] = [
  {
    name: 'wal',
    description: 'WAL append throughput and latency, against the raw limit of the disk',
    dir: 'directory to benchmark in (default: a temporary directory)',
    load: async () => (await import('./wal-bench')).runWalBench,
  },
  {
    name: 'checkpoint',
    description:
      'checkpoint write, compression, deduplication, load, WAL ingest and merge throughput on generated state ' +
      '(windows, JSON events, small records), against the zstd limits and Redis in the same run',
    dir: 'directory for the local store (default: a temporary directory)',
    load: async () => (await import('./checkpoint-bench')).runCheckpointBench,
  },
  {
    name: 'merge',
    description:
      'merge throughput alone, sequential and optimal with 1 and 2 threads (bench checkpoint runs it too)',
    load: async () => (await import('./merge-bench')).runMergeBench,
  },
  {
    name: 'merge-chain',
    description:
      'a stored chain merged into a full checkpoint by block and whole, on four chains (bench checkpoint runs it too)',
    dir: 'directory for the local stores (default: a temporary directory)',
    options: [
      [
        '--size <MB>',
        'logical state size in MB (default 100, 20 with --quick); above 500 one run each, the two 5% chains only',
      ],
    ],
    load: async () => (await import('./chain-merge-bench')).runChainMergeBench,
  },
  {
    name: 'gb-scale',
    description:
      'a 2 GB window state checkpointed, merged (by block and whole) and recovered (whole and streamed), each step in its own process with its peak RSS',
    dir: 'directory for the store (default: the OS temporary directory)',
    options: [['--size <MB>', 'logical state size in MB (default 2000, 200 with --quick)']],
    load: async () => (await import('./gb-scale')).runGbScale,
  },
  {
    name: 'compression-ceiling',
    description: 'how far zstd gets on each generator state: per block at levels 3 and 19, and in one frame',
    load: async () => (await import('./compression-ceiling')).runCompressionCeiling,
  },
  {
    name: 'face',
    description: "require('tidemark') time and modules, beside the WAL module alone",
    dir: "another build's dist/ to measure alongside (a before/after)",
    load: async () => (await import('./face-bench')).runFaceBench,
  },
  {
    name: 'tiering',
    description:
      'WAL upload throughput (local store, s3rver), PUTs per MiB of log, store requests in a steady run, jobs/s',
    dir: 'directory for temporary data (default: the OS temporary directory)',
    load: async () => (await import('./tiering-bench')).runTieringBench,
  },
  {
    name: 'recovery',
    description:
      'recovery throughput of logical state (local store, 1 and 2 threads, prefetch strategies, s3rver), where the time goes, WAL replay',
    dir: 'directory for the temporary stores and WAL (default: the OS temporary directory)',
    load: async () => (await import('./recovery-bench')).runRecoveryBench,
  },
  {
    name: 'cluster',
    description:
      'Raft across processes on loopback: failover time after kill -9 of the leader (3 and 5 nodes), proposal throughput and latency against the disk, REST',
    dir: "directory for the nodes' logs (default: the OS temporary directory)",
    options: [
      ['--only <parts>', 'comma-separated: failover, throughput, rest, barrier (default all)'],
      ['--profile <dir>', "node --cpu-prof the throughput run's nodes into <dir>, summarise the leader's"],
    ],
    load: async () => (await import('./cluster-bench')).runClusterBench,
  },
];

function buildProgram(): Command {
  const program = new Command('bench').description('Tidemark benchmarks (figures, not tests)');
  for (const bench of BENCHES) {
    const command = program
      .command(bench.name)
      .description(bench.description)
      .option('--quick', 'a short run');
    if (bench.dir !== undefined) command.option('--dir <dir>', bench.dir);
    for (const [flags, description] of bench.options ?? []) command.option(flags, description);
    command
      .option('--out <file>', 'where to write the figures as JSON')
      .action(async (options: BenchOptions) => {
        const run = await bench.load();
        await run({ ...options, quick: options.quick === true });
      });
  }
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  });
