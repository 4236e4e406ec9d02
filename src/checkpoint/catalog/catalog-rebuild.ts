import { TidemarkError } from '../../lib/errors';
import { checkpointsPrefix, getBuffer, type ObjectStore, parseManifestKey } from '../../storage';
import type { Manifest } from '../manifest/manifest';
import { decodeManifest } from '../manifest/manifest-codec';
import { CheckpointCatalog } from './catalog';
import type { CheckpointSummary } from './checkpoint-summary';

export interface RebuildProblem {
  /** The manifest's object key. */
  key: string;
  /** The checkpoint id its key names, when it names one. */
  checkpointId?: number;
  /** The error code that refused it, or `CHAIN` for a manifest kept whose chain is broken. */
  code: string;
  message: string;
  /** Whether the manifest is in the rebuilt catalog despite the problem. */
  included: boolean;
}

export interface RebuildOptions {
  /**
   * What the previous catalog recorded as deleted: kept deleted in the rebuilt one (a manifest whose
   * deletion from the store failed or was interrupted must not come back to life).
   */
  deleted?: readonly CheckpointSummary[];
}

export interface RebuildResult {
  /** In memory; save it with `new CheckpointCatalog(result.catalog.toData(), file).save()`. */
  catalog: CheckpointCatalog;
  /** Manifests found under `{prefix}/checkpoints/`. */
  manifests: number;
  /** Checkpoints in the rebuilt catalog. */
  committed: number;
  problems: RebuildProblem[];
}

/**
 * Rebuilds the catalog from the manifests in the store (and the deletions `options` carries over): lists `{prefix}/checkpoints/`, reads and decodes
 * every `manifest.json`, and admits them in id order exactly as commits would have been — so a fenced
 * writer's leftover manifest (a token below one a lower id already carried) is refused again. Nothing is
 * skipped silently: a manifest that cannot be read, decoded or admitted is a problem (left out), and one
 * kept whose chain is broken (parent missing or mismatched) is a problem too (kept). Other objects under
 * the prefix whose key does not parse as a manifest but ends in `manifest.json` are problems as well.
 *
 * The result knows only what the store says: its id counter is the highest id a manifest key names (read
 * or not), its token the highest token of a manifest admitted; blocks that no manifest names are unknown to it. The CLI raises both counters to
 * the old catalog file's when that can still be read.
 */
export async function rebuildCatalog(
  store: ObjectStore,
  prefix: string,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const catalog = new CheckpointCatalog();
  const problems: RebuildProblem[] = [];
  const deleted = new Set<number>();
  for (const summary of options.deleted ?? []) {
    catalog.admitDeletedRecord(summary);
    deleted.add(summary.id);
  }
  const found: { key: string; id: number }[] = [];
  for await (const object of store.list(checkpointsPrefix(prefix))) {
    const id = parseManifestKey(prefix, object.key);
    if (id !== undefined) found.push({ key: object.key, id });
    else if (object.key.endsWith('/manifest.json')) {
      problems.push({
        key: object.key,
        code: 'INVALID_ARGUMENT',
        message: 'not a canonical manifest key ({prefix}/checkpoints/{20-digit id}/manifest.json)',
        included: false,
      });
    }
  }
  found.sort((a, b) => a.id - b.id);
  // Ids of manifests left out (unreadable, another version, fenced) are never handed out again either.
  catalog.raiseCounters(found.length === 0 ? 0 : (found[found.length - 1] as { id: number }).id, 0);

  const decoded: { key: string; manifest: Manifest }[] = [];
  for (const { key, id } of found) {
    if (deleted.has(id)) {
      problems.push({
        key,
        checkpointId: id,
        code: 'DELETED',
        message: `checkpoint ${id} was deleted (the previous catalog says so), but its manifest is still in the store`,
        included: false,
      });
      continue;
    }
    try {
      decoded.push({ key, manifest: decodeManifest(await getBuffer(store, key), { expectedId: id }) });
    } catch (error) {
      if (!TidemarkError.is(error) || error.kind === 'unavailable') throw error;
      problems.push({ key, checkpointId: id, code: error.code, message: error.message, included: false });
    }
  }

  let committed = 0;
  for (const { key, manifest } of decoded) {
    const id = manifest.checkpointId;
    try {
      for (const message of catalog.admitRebuilt(manifest)) {
        problems.push({ key, checkpointId: id, code: 'CHAIN', message, included: true });
      }
      committed++;
    } catch (error) {
      if (!TidemarkError.is(error)) throw error;
      problems.push({ key, checkpointId: id, code: error.code, message: error.message, included: false });
    }
  }
  return { catalog, manifests: found.length, committed, problems };
}
