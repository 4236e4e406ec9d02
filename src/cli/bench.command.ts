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
}
