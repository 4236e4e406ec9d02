import { systemClock, type Clock } from '../../lib/clock';
import { nullPrototypeRecord } from '../../lib/null-prototype';
import { manifestKey, type ObjectStore } from '../../storage';
import type { CheckpointCatalog } from '../catalog/catalog';
import type { CheckpointSummary } from '../catalog/checkpoint-summary';
import type { ComponentManifest, Manifest } from '../manifest/manifest';
import { MANIFEST_FORMAT_VERSION } from '../manifest/manifest';
import { encodeManifest } from '../manifest/manifest-codec';
import { StateDigest } from '../manifest/state-digest';
import type { SortedRun } from '../run/run-types';
import { SlicedComponent } from '../run/sliced-component';
import type { BlockRecord } from '../block/record-codec';
import type { ComponentSnapshot, Delta, Snapshot } from '../state/state-types';
import {
  writeRecordBlocks,
  writeRunBlocks,
  type BlockWriteOptions,
  type BlockWriteResult,
} from './block-writer';

/** What writing a checkpoint needs: where blocks and manifests go, who is writing, with which token. */
export interface CheckpointWriteContext {
  store: ObjectStore;
  prefix: string;
  catalog: CheckpointCatalog;
  nodeId: string;
  fencingToken: number;
  /**
   * The last check before the manifest is written: rejects (FENCED) when this writer no longer holds the
   * lease its token came from (a paused process whose lease expired). The catalog's token check is the
   * other line of defence; conditional writes in the store a third, where the store enforces them.
   */
  fence?: () => Promise<void>;
  blocks: BlockWriteOptions;
  codec: string;
  /** The manifest's createdAt and the write's duration (default: the system clock). */
  clock?: Clock;
}

export interface Totals {
  logicalBytes: number;
  storedBytes: number;
  newBytes: number;
  newBlocks: number;
  reusedBlocks: number;
}

export function addTotals(totals: Totals, result: Totals): void {
  totals.logicalBytes += result.logicalBytes;
  totals.storedBytes += result.storedBytes;
  totals.newBytes += result.newBytes;
  totals.newBlocks += result.newBlocks;
  totals.reusedBlocks += result.reusedBlocks;
}

/** What every checkpoint write starts with: a token check, a fresh id, empty totals. */
export async function beginCheckpointWrite(context: CheckpointWriteContext) {
  const started = (context.clock ?? systemClock).monotonic();
  context.catalog.checkToken(context.fencingToken);
  const id = await context.catalog.nextCheckpointId();
  const totals: Totals = { logicalBytes: 0, storedBytes: 0, newBytes: 0, newBlocks: 0, reusedBlocks: 0 };
  const components = nullPrototypeRecord<ComponentManifest>();
  return { started, id, totals, components };
}

/** Key count, logical bytes and digest of a component's whole state. */
export function describeState(state: ComponentSnapshot | undefined): Omit<ComponentManifest, 'blocks'> {
  const digest = new StateDigest();
  if (state instanceof SlicedComponent) {
    for (const { run, start, end } of state.slices) digest.updateRun(run, start, end);
  } else {
    for (const record of state?.records ?? []) digest.update(record.key, record.value);
  }
  return { keyCount: digest.keyCount, bytes: digest.bytes, digest: digest.digest() };
}

/** The component's state as one run of records (no deletes), when it is held so: a materialiser's snapshot. */
function stateRun(state: ComponentSnapshot): SortedRun | undefined {
  if (!(state instanceof SlicedComponent) || state.slices.length !== 1) return undefined;
  const { run, start, end } = state.slices[0]!;
  return start === 0 && end === run.count && run.deletes === undefined ? run : undefined;
}

/**
 * Writes a full checkpoint of `snapshot`: every component's records as blocks (deduplicated through the
 * catalog), then — only once every block is durable — the manifest, create-if-absent, then the catalog
 * commit. A crash anywhere before the manifest leaves only unreferenced blocks, never a visible checkpoint.
 */
export async function writeFullCheckpoint(
  context: CheckpointWriteContext,
  snapshot: Snapshot,
  timestamp: number,
): Promise<Manifest> {
  const { started, id, totals, components } = await beginCheckpointWrite(context);
  for (const componentId of [...snapshot.components.keys()].sort()) {
    const state = snapshot.components.get(componentId) as ComponentSnapshot;
    // The digest takes each block's records as the block starts (in key order): this thread hashes while
    // earlier blocks are encoded and compressed elsewhere, instead of after them.
    const digest = new StateDigest();
    const run = stateRun(state);
    const { store, prefix, catalog, blocks } = context;
    let written: BlockWriteResult;
    if (run !== undefined) {
      written = await writeRunBlocks(store, prefix, catalog, run, blocks, (start, end) => {
        digest.updateRun(run, start, end);
      });
    } else {
      const records = state.records;
      written = await writeRecordBlocks(store, prefix, catalog, records, blocks, (start, end) => {
        for (let i = start; i < end; i++) digest.update(records[i]!.key, records[i]!.value);
      });
    }
    addTotals(totals, written);
    const described = { keyCount: digest.keyCount, bytes: digest.bytes, digest: digest.digest() };
    components[componentId] = { blocks: written.blocks, ...described };
  }
  return publishCheckpoint(context, started, totals, {
    checkpointId: id,
    kind: 'full',
    parentId: null,
    baseId: id,
    depth: 0,
    fromLsn: 0,
    lsn: snapshot.lsn,
    timestamp,
    components,
  });
}

/**
 * Writes an incremental checkpoint on `parent`: per changed component, its puts and deletes since the
 * parent (and the LSN of a clear), plus the key count, size and digest of its whole state after them,
 * taken from `state` (the materialised state at `delta.toLsn`).
 */
export async function writeIncrementalCheckpoint(
  context: CheckpointWriteContext,
  parent: CheckpointSummary,
  delta: Delta,
  state: Snapshot,
  timestamp: number,
): Promise<Manifest> {
  const { started, id, totals, components } = await beginCheckpointWrite(context);
  for (const componentId of [...delta.components.keys()].sort()) {
    const change = delta.components.get(componentId)!;
    if (change.records.length === 0 && !change.clearedAt) continue;
    // The whole state's digest while the first block is encoded and stored (on a worker, with one): taken
    // as that block starts. A change with no block (a clear alone) starts none.
    let described: Omit<ComponentManifest, 'blocks'> | undefined;
    const describe = () => (described = describeState(state.components.get(componentId)));
    const written = await writeRecordBlocks(
      context.store,
      context.prefix,
      context.catalog,
      change.records as readonly BlockRecord[],
      context.blocks,
      (start) => {
        if (start === 0) describe();
      },
    );
    described ??= describe();
    addTotals(totals, written);
    components[componentId] = {
      blocks: written.blocks,
      ...described,
      ...(change.clearedAt ? { clearedAt: change.clearedAt } : {}),
    };
  }
  return publishCheckpoint(context, started, totals, {
    checkpointId: id,
    kind: 'incremental',
    parentId: parent.id,
    baseId: parent.baseId,
    depth: parent.depth + 1,
    fromLsn: parent.lsn,
    lsn: delta.toLsn,
    timestamp: Math.max(timestamp, parent.timestamp),
    components,
  });
}

export type ManifestBody = Pick<
  Manifest,
  'checkpointId' | 'kind' | 'parentId' | 'baseId' | 'depth' | 'fromLsn' | 'lsn' | 'timestamp' | 'components'
>;

/** Writes the manifest (create-if-absent: never overwritten) and commits it to the catalog. */
export async function publishCheckpoint(
  context: CheckpointWriteContext,
  started: number,
  totals: Totals,
  body: ManifestBody,
): Promise<Manifest> {
  const clock = context.clock ?? systemClock;
  const manifest: Manifest = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    ...body,
    createdAt: new Date(clock.now()).toISOString(),
    fencingToken: context.fencingToken,
    nodeId: context.nodeId,
    codec: context.codec,
    stats: { ...totals, durationMs: clock.monotonic() - started },
  };
  // Checked again right before the manifest: a writer fenced while writing blocks must not publish.
  context.catalog.checkToken(context.fencingToken);
  await context.fence?.();
  await context.store.put(manifestKey(context.prefix, manifest.checkpointId), encodeManifest(manifest), {
    ifNoneMatch: '*',
  });
  await context.catalog.commit(manifest);
  return manifest;
}
