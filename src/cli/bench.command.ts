import type { Command } from 'commander';

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks (figures, not tests)');
  bench
    .command('wal')
    .description('WAL append throughput and latency, against the raw limit of the disk')
    .option('--quick', 'a short run')
    .option('--dir <dir>', 'directory to benchmark in (default: a temporary directory)')
    .option('--out <file>', 'where to write the figures as JSON')
    .action(async (options: { quick?: boolean; dir?: string; out?: string }) => {
      const { runWalBench } = await import('../bench/wal-bench');
      await runWalBench({ quick: options.quick === true, dir: options.dir, out: options.out });
    });
  bench
    .command('checkpoint')
    .description('checkpoint write, compression, deduplication and merge throughput on generated state')
    .option('--quick', 'a short run')
    .option('--dir <dir>', 'directory for the local store (default: a temporary directory)')
    .option('--out <file>', 'where to write the figures as JSON')
    .action(async (options: { quick?: boolean; dir?: string; out?: string }) => {
      const { runCheckpointBench } = await import('../bench/checkpoint-bench');
      await runCheckpointBench({ quick: options.quick === true, dir: options.dir, out: options.out });
    });
  bench
    .command('tiering')
    .description(
      'WAL upload throughput (local store, s3rver), PUTs per MiB of log, store requests in a steady run, jobs/s',
    )
    .option('--quick', 'a short run')
    .option('--dir <dir>', 'directory for temporary data (default: the OS temporary directory)')
    .option('--out <file>', 'where to write the figures as JSON')
    .action(async (options: { quick?: boolean; dir?: string; out?: string }) => {
      const { runTieringBench } = await import('../bench/tiering-bench');
      await runTieringBench({ quick: options.quick === true, dir: options.dir, out: options.out });
    });
  bench
    .command('recovery')
    .description(
      'recovery throughput of logical state (local store, 1 and 2 threads, prefetch strategies, s3rver), where the time goes, WAL replay',
    )
    .option('--quick', 'a short run')
    .option('--dir <dir>', 'directory for the temporary stores and WAL (default: the OS temporary directory)')
    .option('--out <file>', 'where to write the figures as JSON')
    .action(async (options: { quick?: boolean; dir?: string; out?: string }) => {
      const { runRecoveryBench } = await import('../bench/recovery-bench');
      await runRecoveryBench({ quick: options.quick === true, dir: options.dir, out: options.out });
    });
}
