import type { Command } from 'commander';

interface RebuildOptions {
  config?: string;
  dryRun?: boolean;
}

/**
 * `tidemark catalog rebuild`: rebuilds `{dataDir}/catalog.json` from the manifests in the configured
 * object store, keeping the deletions the old file recorded. Refused (LOCKED) while a node runs on the
 * data directory (it holds the WAL directory's lock and owns the catalog file). Exits non-zero when any
 * manifest had a problem; the catalog is written all the same (without the refused manifests), unless
 * `--dry-run`.
 */
export function registerCatalogRebuild(catalog: Command): void {
  catalog
    .command('rebuild')
    .description('rebuild the checkpoint catalog (catalog.json) from the manifests in the object store')
    .option('-c, --config <file>', 'YAML configuration file (default: $TIDEMARK_CONFIG)')
    .option('--dry-run', 'report what the store holds without writing catalog.json')
    .action(async (options: RebuildOptions) => {
      // Loaded lazily, as the other commands do, so `tidemark --help` stays quick.
      const { runCatalogRebuild } = await import('../checkpoint/catalog/catalog-rebuild-run');
      const ok = await runCatalogRebuild({ configFile: options.config, dryRun: options.dryRun === true });
      if (!ok) process.exitCode = 1;
    });
}
