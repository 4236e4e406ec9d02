import { loadConfig } from '../../config';
import { TidemarkError } from '../../errors';
import { createBackend } from '../../storage';
import { CheckpointCatalog } from './catalog';
import { CatalogFile } from './catalog-file';
import { rebuildCatalog, type RebuildResult } from './catalog-rebuild';

export interface CatalogRebuildRunOptions {
  configFile?: string;
  dryRun?: boolean;
  /** Where the report goes (stdout unless given). */
  write?: (line: string) => void;
}

/**
 * What `tidemark catalog rebuild` does: store from configuration, rebuild, keep the old file's id counter
 * and token when the old file is still readable (so no id is reused and no token lowered), save
 * atomically, report. Returns false when a manifest had a problem.
 */
export async function runCatalogRebuild(options: CatalogRebuildRunOptions = {}): Promise<boolean> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const config = loadConfig({ configFile: options.configFile });
  const { store } = createBackend(config.storage);
  const result = await rebuildCatalog(store, config.storage.prefix);
  const file = CatalogFile.inDataDir(config.dataDir);

  let old: string;
  try {
    const previous = await file.load();
    if (previous === undefined) old = 'none';
    else {
      result.catalog.raiseCounters(previous.highestAllocatedId, previous.highestToken);
      old = `kept its id counter (${previous.highestAllocatedId}) and token (${previous.highestToken}) where higher`;
    }
  } catch (error) {
    if (!TidemarkError.is(error) || error.kind !== 'data') throw error;
    old = 'unreadable, replaced (id counter and token come from the manifests only)';
  }

  if (options.dryRun !== true) await new CheckpointCatalog(result.catalog.toData(), file).save();
  for (const line of report(result, file.path, old, options.dryRun === true)) write(line);
  return result.problems.length === 0;
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
    lines.push(`problem: ${p.key}: ${p.code}: ${p.message}${p.included ? ' (kept)' : ' (left out)'}`);
  }
  return lines;
}
