import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { describeFailure } from './describe-failure';

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

/** Exit codes: everything checks; a fault (or the store could not be read); bad usage or configuration. */
export const VERIFY_EXIT = { ok: 0, fault: 1, usage: 2 } as const;

const integer = (value: string): number => (/^\d+$/.test(value) ? Number(value) : Number.NaN);

/**
 * `tidemark verify` — the reference's checkpoint_verify: verifies a local store directory (`--path`) or
 * the configured store (config file and environment, as `serve` reads them) at a level — basic,
 * standard (default) or full, see recovery/verification/verify-store.ts — and prints a per-checkpoint
 * report, then the WAL packs and totals (or `--json`). Sets the exit code rather than exiting:
 * 0 when everything checks, 1 on any fault (or when the store cannot be reached), 2 for bad usage or
 * configuration. Errors are printed as the other commands print them (`tidemark: CODE: message`).
 */
export function registerVerify(program: Command): void {
  program
    .command('verify')
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
    // Commander's own usage errors (an unknown option, a missing value) exit 2 as ours do.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : VERIFY_EXIT.usage))
    .action(async (options: VerifyCommandOptions, command: Command) => {
      // Loaded lazily, as the other commands do, so `tidemark --help` stays quick.
      const { runVerify } = await import('../recovery/verification/verify-run');
      try {
        const report = await runVerify({
          path: options.path,
          configFile: options.config,
          prefix: options.prefix,
          nodeId: options.node,
          level: options.level,
          json: options.json === true,
          threads: options.threads ?? Math.min(4, availableParallelism()),
          concurrency: options.concurrency,
        });
        process.exitCode = report.ok ? VERIFY_EXIT.ok : VERIFY_EXIT.fault;
      } catch (error) {
        const failure = describeFailure(error, command.optsWithGlobals<{ debug?: boolean }>().debug);
        process.stderr.write(failure.text);
        process.exitCode = failure.exitCode === 2 ? VERIFY_EXIT.usage : VERIFY_EXIT.fault;
      }
    });
}
