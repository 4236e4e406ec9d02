import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig, type TidemarkConfig } from '../config';
import { TidemarkError, echoInput, invalidArgument, quoteInput } from '../lib/errors';
import { ReadOnlyLocalFileStore } from '../storage/fs/read-only-local-file-store';
import { createBackend, type ObjectStore } from '../storage';
import { CheckpointCatalog } from '../checkpoint/catalog/catalog';
import { DirLock } from '../wal';
import { CatalogFile, type CatalogData } from '../checkpoint/catalog/catalog-file';
import { rebuildCatalog, type RebuildResult } from '../checkpoint/catalog/catalog-rebuild';

export interface CatalogRebuildRunOptions {
  configFile?: string;
  dryRun?: boolean;
  /** Where the report goes (stdout unless given). */
  write?: (line: string) => void;
  /** The environment the configuration is read from (process.env unless given). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Returns false when a manifest had a problem (see rebuildCatalogFile). */
export async function runCatalogRebuild(options: CatalogRebuildRunOptions = {}): Promise<boolean> {
  return (await rebuildCatalogFile(options)).fault === undefined;
}

/**
 * What `tidemark catalog rebuild` does: store from configuration, rebuild, keep the old file's id counter
 * and token when the old file is still readable (so no id is reused and no token lowered), save
 * atomically, report. `fault` says in one line why it fails when a manifest had a problem (the catalog is
 * written all the same, without what was left out, unless a dry run).
 */
export async function rebuildCatalogFile(
  options: CatalogRebuildRunOptions = {},
): Promise<{ fault?: { code: string; message: string } }> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const config = loadConfig({ configFile: options.configFile, env: options.env });
  if (!existsSync(config.dataDir) || !statSync(config.dataDir).isDirectory()) {
    // A mistyped DATA_DIR would otherwise become a new data directory holding an empty catalog.
    throw invalidArgument(
      `the data directory ${echoInput(config.dataDir)} is not there (DATA_DIR or dataDir): nothing to rebuild the catalog of; create it first to rebuild one there`,
      { dataDir: config.dataDir },
    );
  }
  if (config.storage.backend === 'Memory') {
    throw invalidArgument(
      'the configured store is in memory (storage.backend Memory): nothing to rebuild the catalog from',
    );
  }
  const dryRun = options.dryRun === true;
  // The node holds its WAL directory's lock while it runs, and owns catalog.json all that time.
  const lock = dryRun ? undefined : await lockNode(config.wal.dir);
  try {
    const store = readOnlyStore(config);
    const file = CatalogFile.inDataDir(config.dataDir);
    let previous: CatalogData | undefined;
    let old: string;
    try {
      previous = await file.load();
      old =
        previous === undefined
          ? 'none'
          : `kept its id counter (${previous.highestAllocatedId}), token (${previous.highestToken}) where higher, and its deletions`;
    } catch (error) {
      if (!TidemarkError.is(error) || error.kind !== 'data') throw error;
      old = 'unreadable, replaced (id counter and token come from the manifests only)';
    }
    const deleted = previous?.checkpoints.filter((c) => c.status === 'deleted');
    const result = await rebuildCatalog(store, config.storage.prefix, { deleted });
    if (previous) result.catalog.raiseCounters(previous.highestAllocatedId, previous.highestToken);
    refuseToEmpty(result, previous, config.storage.prefix, file.path);

    if (!dryRun) await new CheckpointCatalog(result.catalog.toData(), file).save();
    for (const line of report(result, file.path, old, dryRun)) write(line);
    const problems = result.problems.filter((p) => p.code !== 'DELETED');
    const first = problems[0];
    if (first === undefined) return {};
    const written = dryRun
      ? 'nothing written (dry run)'
      : 'the catalog was written without what was left out';
    const message = `${problems.length} manifest(s) with a problem, ${written}; first: ${first.key}: ${first.message}`;
    return { fault: { code: first.code, message } };
  } finally {
    await lock?.release();
  }
}

/**
 * A store with no manifest at all under the prefix, for a catalog that lists checkpoints, is a store
 * configuration pointing elsewhere (another prefix, bucket or directory) far more often than a node whose
 * every manifest is gone: the catalog is not emptied on its word.
 */
function refuseToEmpty(
  result: RebuildResult,
  previous: CatalogData | undefined,
  prefix: string,
  catalogPath: string,
): void {
  const listed = previous?.checkpoints.filter((c) => c.status !== 'deleted').length ?? 0;
  if (result.manifests > 0 || listed === 0) return;
  throw invalidArgument(
    `the store holds no manifest under the prefix ${quoteInput(prefix)}, but ${catalogPath} lists ${listed} checkpoint(s): is the storage configuration right? Nothing written (remove catalog.json to rebuild an empty one)`,
    { prefix, listed },
  );
}

/**
 * The configured store, to read only: a local directory is not prepared as a node's store is (created, and
 * emptied of the temporary files of puts in flight — a running node's, with --dry-run).
 */
function readOnlyStore(config: TidemarkConfig): ObjectStore {
  const storage = config.storage;
  if (storage.backend !== 'LocalFile') return createBackend(storage).store;
  return new ReadOnlyLocalFileStore(storage.basePath ?? path.join(config.dataDir, 'store'));
}

/** The WAL directory's lock, when the directory exists: LOCKED (naming the pid) while a node runs. */
async function lockNode(walDir: string): Promise<DirLock | undefined> {
  try {
    return await DirLock.acquire(walDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (TidemarkError.is(error, 'LOCKED')) {
      throw new TidemarkError(
        'LOCKED',
        `a node is running on this data directory (${error.message}); stop it before rebuilding its catalog, or use --dry-run`,
        { cause: error, details: error.details },
      );
    }
    throw error;
  }
}

function report(result: RebuildResult, path: string, old: string, dryRun: boolean): string[] {
  const { catalog } = result;
  const chains = catalog.chains();
  const lines = [
    `${dryRun ? 'would write' : 'wrote'} ${path}`,
    `manifests: ${result.manifests} found, ${result.committed} in the catalog, ${result.problems.length} problem(s)`,
    `chains: ${chains.length}${chains.length === 0 ? '' : ` (longest ${Math.max(...chains.map((c) => c.length))})`}`,
    `blocks: ${catalog.blockCount}`,
    `latest checkpoint: ${catalog.latest()?.id ?? 'none'}; next id above ${catalog.highestAllocatedId}; highest fencing token ${catalog.highestToken}`,
    `previous catalog file: ${old}`,
  ];
  for (const p of result.problems) {
    const label = p.code === 'DELETED' ? 'kept deleted' : 'problem';
    lines.push(`${label}: ${p.key}: ${p.code}: ${p.message}${p.included ? ' (kept)' : ' (left out)'}`);
  }
  return lines;
}
