import { TidemarkError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { ObjectStore } from '../../storage';
import type { CheckpointCatalog } from '../catalog/catalog';
import { readManifest } from './checkpoint-reader';

/**
 * A crash between writing a manifest and committing it to the catalog leaves a complete checkpoint the
 * catalog does not know. Its id lies between the highest committed and the highest allocated, so a few
 * GETs (no LIST) find it; it is committed now if it still fits its chain, else left for a rebuild to see.
 */
export async function adoptPublishedManifests(
  deps: { catalog: CheckpointCatalog; store: ObjectStore },
  prefix: string,
  logger: Logger,
): Promise<void> {
  const committed = deps.catalog.list({ includeDeleted: true });
  const highestCommitted = committed.length > 0 ? committed[committed.length - 1]!.id : 0;
  for (let id = highestCommitted + 1; id <= deps.catalog.highestAllocatedId; id++) {
    let manifest;
    try {
      manifest = await readManifest(deps.store, prefix, id);
    } catch (error) {
      if (TidemarkError.is(error, 'CHECKPOINT_NOT_FOUND')) continue; // never published: the id stays a gap
      throw error;
    }
    try {
      await deps.catalog.commit(manifest);
      logger.info({ checkpointId: id }, 'adopted a checkpoint whose commit a crash interrupted');
    } catch (error) {
      logger.warn(
        { err: error, checkpointId: id },
        'a published manifest the catalog cannot commit was left alone',
      );
    }
  }
}
