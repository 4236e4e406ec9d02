import { TidemarkError } from '../../lib/errors';
import { getBuffer, manifestKey, type ObjectStore } from '../../storage';
import type { BlockDecoder } from '../block/block-decoder';
import type { CheckpointCatalog } from '../catalog/catalog';
import type { Manifest, ManifestBlockRef } from '../manifest/manifest';
import { decodeManifest } from '../manifest/manifest-codec';
import type { CheckpointMerger } from '../merge/checkpoint-merger';
import { RULE_CODES } from '../merge/conflict-resolution';
import { mergeRunComponent, type RunDelta } from '../merge/run-merge';
import { wholeRun, type RunSlice } from '../run/run-slice';
import { runFromSlices } from '../run/run-transfer';
import { fullStateRun, orderedComponent } from '../run/sliced-component';
import type { ComponentSnapshot, Snapshot } from '../state/state-types';
import { readRunBlocks } from './block-reader';

export interface CheckpointReadContext {
  store: ObjectStore;
  prefix: string;
  catalog: CheckpointCatalog;
  merger: CheckpointMerger;
  /** Blocks fetched at once. */
  concurrency?: number;
  /** Where blocks are checked and decoded (default: the calling thread). */
  decoder?: BlockDecoder;
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

/**
 * The state at checkpoint `id`: its full checkpoint's blocks, with each incremental of its chain laid over
 * them — as sorted runs, never one object per record: every block is fetched and checked against its
 * content hash, decoded into a run, and a component's incrementals are merged over its base's runs under
 * the merger's conflict rule (run-merge.ts, the path recovery takes). The components are SlicedComponents:
 * `records` builds objects only for a caller that reads them.
 */
export async function loadCheckpointState(
  context: CheckpointReadContext,
  id: number,
  componentIds?: readonly string[],
): Promise<Snapshot> {
  const filter = componentIds ? new Set(componentIds) : undefined;
  const manifests = await Promise.all(
    context.catalog.chain(id).map((link) => readManifest(context.store, context.prefix, link.id)),
  );
  for (let i = 1; i < manifests.length; i++) {
    // Each incremental starts where the one before ended (the object merge's validation refused a gap).
    if (manifests[i]!.fromLsn !== manifests[i - 1]!.lsn) {
      throw new TidemarkError(
        'INVALID_STATE_DATA',
        `checkpoint ${manifests[i]!.checkpointId} starts at LSN ${manifests[i]!.fromLsn}, but its parent ends at ${manifests[i - 1]!.lsn}`,
        { details: { checkpointId: manifests[i]!.checkpointId } },
      );
    }
  }
  const ids = new Set<string>();
  for (const manifest of manifests) {
    for (const componentId of Object.keys(manifest.components)) {
      if (filter === undefined || filter.has(componentId)) ids.add(componentId);
    }
  }
  const parts = planParts(manifests, [...ids].sort());
  // One fetch over every block of every component, so the lanes stay busy across component boundaries.
  const runs = await readRunBlocks(
    context.store,
    context.prefix,
    parts.flatMap((part) => part.refs),
    context.concurrency,
    context.decoder,
  );
  const rule = RULE_CODES[context.merger.config.conflictResolution];
  const components = new Map<string, ComponentSnapshot>();
  let next = 0;
  for (const { componentId, links } of groupParts(parts)) {
    let base: RunSlice[] = [];
    const deltas: RunDelta[] = [];
    const sources: number[] = [];
    for (const part of links) {
      const own = runs.slice(next, next + part.refs.length);
      next += part.refs.length;
      if (part.link === 0) {
        base = own.filter((run) => fullStateRun(componentId, run)).map(wholeRun);
        continue;
      }
      const run = own.length === 1 ? own[0]! : runFromSlices(own.map(wholeRun));
      deltas.push({ run, ...(part.clearedAt ? { clearedAt: part.clearedAt } : {}) });
      sources.push(part.link - 1);
    }
    const slices = mergeRunComponent(componentId, base, deltas, rule, sources);
    components.set(componentId, orderedComponent(componentId, slices));
  }
  return { lsn: manifests[manifests.length - 1]!.lsn, components };
}

/** One component's blocks in one checkpoint of the chain (link 0: the full checkpoint). */
interface Part {
  componentId: string;
  link: number;
  refs: readonly ManifestBlockRef[];
  clearedAt: { lsn: number; timestamp: number } | undefined;
}

/** Per component (in `ids` order), its parts in chain order: what is fetched, in that order. */
function planParts(manifests: readonly Manifest[], ids: readonly string[]): Part[] {
  const parts: Part[] = [];
  for (const componentId of ids) {
    manifests.forEach((manifest, link) => {
      const entry = manifest.components[componentId];
      // An entry without blocks still counts: an incremental's clear of the component is in its manifest.
      if (entry) parts.push({ componentId, link, refs: entry.blocks, clearedAt: entry.clearedAt });
    });
  }
  return parts;
}

function groupParts(parts: readonly Part[]): { componentId: string; links: Part[] }[] {
  const groups: { componentId: string; links: Part[] }[] = [];
  for (const part of parts) {
    const last = groups[groups.length - 1];
    if (last?.componentId === part.componentId) last.links.push(part);
    else groups.push({ componentId: part.componentId, links: [part] });
  }
  return groups;
}
