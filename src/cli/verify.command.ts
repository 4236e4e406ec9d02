import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { processIo, type CliIo } from './cli-io';
import { endCommand } from './end-command';
import { reportUsageErrors } from './usage-errors';

interface VerifyCommandOptions {
  path?: string;
  config?: string;
  prefix?: string;
  node?: string;
  level: string;
  json?: boolean;
  threads?: number;
  concurrency?: number;
}

const integer = (value: string): number => (/^\d+$/.test(value) ? Number(value) : Number.NaN);

/**
 * `tidemark verify` — the reference's checkpoint_verify: verifies a local store directory (`--path`) or
 * the configured store (config file and environment, as `serve` reads them) at a level — basic,
 * standard (default) or full, see recovery/verification/verify-store.ts — and prints a per-checkpoint
 * report, then the WAL packs and totals (or `--json`). Exit codes: 0 when everything checks, 1 on any
 * fault (or when the store cannot be reached), 2 for bad usage or configuration. Errors are printed as
 * the other commands print them (`tidemark: CODE: message`). `io` is for tests.
 */
export function registerVerify(program: Command, io: Partial<CliIo> = {}): Command {
  const streams: CliIo = { ...processIo(), ...io };
  return reportUsageErrors(program.command('verify'), streams)
    .description(
      'verify checkpoints and WAL packs in a store: manifests and chains (basic), every block (standard), state digests and every WAL frame (full)',
    )
    .option('--path <dir>', 'a local store directory (default: the configured store)')
    .option('-c, --config <file>', 'YAML configuration file (default: $TIDEMARK_CONFIG)')
    .option('--prefix <prefix>', 'key prefix (default: storage.prefix, or tidemark with --path)')
    .option('--node <id>', "check only this node's WAL packs (default: every node's)")
    .option('--level <level>', 'basic | standard | full', 'standard')
    .option('--json', 'print the report as JSON')
    .option('--threads <n>', 'worker threads checking blocks', integer)
    .option('--concurrency <n>', 'store requests in flight', integer)
    .action(async (options: VerifyCommandOptions, command: Command) => {
      const debug = command.optsWithGlobals<{ debug?: boolean }>().debug === true;
      await endCommand(streams, debug, async () => {
        // Loaded lazily, as the other commands do, so `tidemark --help` stays quick.
        const { runVerify, verificationFault } = await import('./verify-run');
        const report = await runVerify({
          path: options.path,
          configFile: options.config,
          prefix: options.prefix,
          nodeId: options.node,
          level: options.level,
          json: options.json === true,
          threads: options.threads ?? Math.min(4, availableParallelism()),
          concurrency: options.concurrency,
          write: (text) => streams.stdout(`${text}\n`),
          env: streams.env,
        });
        return verificationFault(report);
      });
    });
}
