import type { Command } from 'commander';
import { processIo } from './cli-io';
import type { RecoverCliOptions, RecoverIo } from './recover-run';
import { reportUsageErrors } from './usage-errors';

/**
 * `tidemark recover --to <ISO time | lsn:N | checkpoint:N> [--components a,b] --out <dir>` (or
 * `--cluster-checkpoint N [--node id]`: a cluster's restore point, every member into `<dir>/<node>`): recovers state
 * from the configured store (and this node's catalog, WAL and uploads record when its data directory is
 * there) or from a local store directory (`--path`), and writes it to a directory (format:
 * src/recovery/output/directory-writer.ts). `--dry-run` prints the plan and reads no block. Progress bars
 * (bytes, blocks, components) on stderr when it is a terminal. Exit codes: 0 done, 1 the recovery (or a
 * component, in optimistic mode) failed, 2 bad usage or configuration. `io` is for tests.
 */
export function registerRecover(program: Command, io: Partial<RecoverIo> = {}): Command {
  const streams: RecoverIo = { ...processIo(), progressStream: process.stderr, ...io };
  const recover = reportUsageErrors(program.command('recover'), streams);
  return recover
    .description('recover components to a checkpoint, a log position or a point in time, into a directory')
    .option(
      '--to <target>',
      'checkpoint:N, lsn:N, time:<µs since the epoch>, or an ISO 8601 time with a zone',
    )
    .option(
      '--cluster-checkpoint <n>',
      "every member's part of committed cluster checkpoint N, into <out>/<node>",
    )
    .option('--node <id>', 'with --cluster-checkpoint: only this member')
    .option('--components <ids>', 'comma-separated component ids (default: all)')
    .option('--out <dir>', 'directory to write the state to (new or empty)')
    .option('--dry-run', 'print the plan (checkpoints, WAL range, objects, bytes, estimate); read no block')
    .option('--json', 'print the plan or the result as JSON')
    .option('-c, --config <file>', 'YAML configuration file (default: $TIDEMARK_CONFIG)')
    .option(
      '--path <dir>',
      'read only this local store directory (the catalog is rebuilt from its manifests)',
    )
    .option('--level <level>', 'verification: basic, standard or full (default: recovery.verificationLevel)')
    .option('--threads <n>', 'worker threads checking blocks (default: recovery.maxParallelThreads)')
    .option('--no-progress', 'draw no progress bars')
    .action(async (options: RecoverCliOptions, command: Command) => {
      // Loaded lazily, as the other commands do, so `tidemark --help` stays quick.
      const debug = command.optsWithGlobals<{ debug?: boolean }>().debug === true;
      if (options.clusterCheckpoint !== undefined) {
        const { runRecoverCluster } = await import('./recover-cluster-run');
        streams.exit(await runRecoverCluster({ ...options, debug }, streams));
        return;
      }
      const { runRecover } = await import('./recover-run');
      streams.exit(await runRecover({ ...options, debug }, streams));
    });
}
