import type { Command } from 'commander';
import { processIo, type CliIo } from './cli-io';
import { endCommand } from './end-command';
import { reportUsageErrors } from './usage-errors';

interface RebuildOptions {
  config?: string;
  dryRun?: boolean;
}

/**
 * `tidemark catalog rebuild`: rebuilds `{dataDir}/catalog.json` from the manifests in the configured
 * object store, keeping the deletions the old file recorded. Refused (LOCKED) while a node runs on the
 * data directory (it holds the WAL directory's lock and owns the catalog file). Exits 1 when any
 * manifest had a problem; the catalog is written all the same (without the refused manifests), unless
 * `--dry-run`. `io` is for tests.
 */
export function registerCatalogRebuild(catalog: Command, io: Partial<CliIo> = {}): Command {
  const streams: CliIo = { ...processIo(), ...io };
  return reportUsageErrors(catalog.command('rebuild'), streams)
    .description('rebuild the checkpoint catalog (catalog.json) from the manifests in the object store')
    .option('-c, --config <file>', 'YAML configuration file (default: $TIDEMARK_CONFIG)')
    .option('--dry-run', 'report what the store holds without writing catalog.json')
    .action(async (options: RebuildOptions, command: Command) => {
      const debug = command.optsWithGlobals<{ debug?: boolean }>().debug === true;
      await endCommand(streams, debug, async () => {
        // Loaded lazily, as the other commands do, so `tidemark --help` stays quick.
        const { rebuildCatalogFile } = await import('./catalog-rebuild-run');
        const { fault } = await rebuildCatalogFile({
          configFile: options.config,
          dryRun: options.dryRun === true,
          write: (line) => streams.stdout(`${line}\n`),
          env: streams.env,
        });
        return fault;
      });
    });
}
