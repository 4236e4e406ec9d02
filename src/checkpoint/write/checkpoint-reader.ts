import { TidemarkError } from '../../lib/errors';
import { getBuffer, manifestKey, type ObjectStore } from '../../storage';
import { asStateRecords } from '../block/record-codec';
import type { CheckpointCatalog } from '../catalog/catalog';
import type { Manifest } from '../manifest/manifest';
import { decodeManifest } from '../manifest/manifest-codec';
import type { CheckpointMerger } from '../merge/checkpoint-merger';
import type { ComponentDelta, ComponentSnapshot, Delta, Snapshot } from '../state/state-types';
import { readRecordBlocks } from './block-reader';

export interface CheckpointReadContext {
  store: ObjectStore;
  prefix: string;
  catalog: CheckpointCatalog;
  merger: CheckpointMerger;
  /** Blocks fetched at once. */
  concurrency?: number;
}

/** The manifest of checkpoint `id` from the store; CHECKPOINT_NOT_FOUND when it is not there. */
export async function readManifest(store: ObjectStore, prefix: string, id: number): Promise<Manifest> {
  let bytes: Buffer;
  try {
    bytes = await getBuffer(store, manifestKey(prefix, id));
  } catch (error) {
    if (TidemarkError.is(error, 'NOT_FOUND')) {
      throw new TidemarkError('CHECKPOINT_NOT_FOUND', `checkpoint ${id} has no manifest in the store`, {
        cause: error,
        details: { checkpointId: id },
      });
    }
    throw error;
  }
  return decodeManifest(bytes, { expectedId: id });
}

function wanted(manifest: Manifest, componentIds: ReadonlySet<string> | undefined): string[] {
  return Object.keys(manifest.components)
    .filter((id) => componentIds === undefined || componentIds.has(id))
    .sort();
}

/**
 * The state at checkpoint `id`: its full checkpoint's blocks, with each incremental of its chain merged
 * on top by the merger. Every block is checked against its content hash on the way.
 */
export async function loadCheckpointState(
  context: CheckpointReadContext,
  id: number,
  componentIds?: readonly string[],
): Promise<Snapshot> {
  const filter = componentIds ? new Set(componentIds) : undefined;
  const chain = context.catalog.chain(id);
  const manifests = await Promise.all(
    chain.map((link) => readManifest(context.store, context.prefix, link.id)),
  );
  const [base, ...incrementals] = manifests as [Manifest, ...Manifest[]];
  const components = new Map<string, ComponentSnapshot>();
  for (const componentId of wanted(base, filter)) {
    const refs = base.components[componentId]!.blocks;
    const records = asStateRecords(
      await readRecordBlocks(context.store, context.prefix, refs, context.concurrency),
    );
    components.set(componentId, { componentId, records });
  }
  const deltas: Delta[] = [];
  for (const manifest of incrementals) {
    const changed = new Map<string, ComponentDelta>();
    for (const componentId of wanted(manifest, filter)) {
      const entry = manifest.components[componentId]!;
      const records = await readRecordBlocks(
        context.store,
        context.prefix,
        entry.blocks,
        context.concurrency,
      );
      changed.set(componentId, {
        componentId,
        records,
        ...(entry.clearedAt ? { clearedAt: entry.clearedAt } : {}),
      });
    }
    deltas.push({ fromLsn: manifest.fromLsn, toLsn: manifest.lsn, components: changed });
  }
  const snapshot: Snapshot = { lsn: base.lsn, components };
  return deltas.length === 0 ? snapshot : context.merger.mergeIncrementals(snapshot, deltas);
}
