import { asStateRecords } from '../../checkpoint/block/record-codec';
import type { Manifest, ManifestBlockRef } from '../../checkpoint/manifest/manifest';
import { StateDigest } from '../../checkpoint/manifest/state-digest';
import type { CheckpointMerger } from '../../checkpoint/merge/checkpoint-merger';
import type { ComponentDelta, ComponentSnapshot, Snapshot } from '../../checkpoint/state/state-types';
import type { ObjectStore } from '../../storage';
import { fetchBlocks } from '../block-fetcher';
import type { BlockPool } from '../block-pool';
import type { CheckedCheckpoint, Checkpoints } from './verify-manifests';
import type { VerificationTotals, VerifyProgress } from './verify-report';
import { addFault, faultOf } from './verify-util';

export interface DigestCheckContext {
  store: ObjectStore;
  prefix: string;
  pool: BlockPool;
  concurrency: number;
  merger: CheckpointMerger;
  totals: VerificationTotals;
  report: (progress: VerifyProgress) => void;
}

/**
 * Full level, state digests: rebuilds the whole state after every checkpoint — a full one from its
 * blocks, an incremental by merging its changes into its parent's state — and compares, for each
 * component its manifest lists, the recomputed StateDigest, key count and bytes with the manifest's. An
 * incremental manifest lists only the components that changed; the others' state is its parent's, checked
 * there. Walks each chain from its full checkpoint down (a parent's state is kept while its children are
 * checked, so each block is read once here), and skips checkpoints that already have faults, with
 * everything built on them: their state cannot be rebuilt faithfully (the chain faults say so).
 */
export async function checkDigests(checkpoints: Checkpoints, context: DigestCheckContext): Promise<void> {
  const children = new Map<number, CheckedCheckpoint[]>();
  const roots: CheckedCheckpoint[] = [];
  for (const checked of checkpoints.values()) {
    const m = checked.manifest;
    if (m === undefined) continue;
    if (m.parentId === null) roots.push(checked);
    else children.set(m.parentId, [...(children.get(m.parentId) ?? []), checked]);
  }
  const total = checkpoints.size;
  let done = 0;
  context.report({ phase: 'digests', done, total });

  const visit = async (checked: CheckedCheckpoint, parent: Snapshot | undefined): Promise<void> => {
    const m = checked.manifest!;
    done++;
    if (checked.entry.faults.length > 0) return;
    let state: Snapshot;
    try {
      state = await rebuild(m, parent, context);
      compare(checked, state);
    } catch (error) {
      const where = `checkpoint ${m.checkpointId}: its state cannot be rebuilt`;
      addFault(checked.entry.faults, faultOf(error, checked.entry.key, where));
      return;
    } finally {
      context.report({ phase: 'digests', done, total });
    }
    for (const child of children.get(m.checkpointId) ?? []) await visit(child, state);
  };
  for (const root of roots) await visit(root, undefined);
}

async function rebuild(m: Manifest, parent: Snapshot | undefined, context: DigestCheckContext) {
  const read = (refs: readonly ManifestBlockRef[]) =>
    fetchBlocks(refs, {
      store: context.store,
      prefix: context.prefix,
      pool: context.pool,
      strategy: 'sequential',
      concurrency: context.concurrency,
      signal: new AbortController().signal,
      onBlock: (bytes) => {
        context.totals.blocksRead++;
        context.totals.bytesRead += bytes;
      },
    });
  if (parent === undefined) {
    const components = new Map<string, ComponentSnapshot>();
    for (const [componentId, component] of Object.entries(m.components)) {
      components.set(componentId, { componentId, records: asStateRecords(await read(component.blocks)) });
    }
    return { lsn: m.lsn, components };
  }
  const changed = new Map<string, ComponentDelta>();
  for (const [componentId, component] of Object.entries(m.components)) {
    changed.set(componentId, {
      componentId,
      records: await read(component.blocks),
      ...(component.clearedAt ? { clearedAt: component.clearedAt } : {}),
    });
  }
  return context.merger.mergeIncrementals(parent, [
    { fromLsn: m.fromLsn, toLsn: m.lsn, components: changed },
  ]);
}

function compare(checked: CheckedCheckpoint, state: Snapshot): void {
  const m = checked.manifest!;
  const key = checked.entry.key;
  for (const [componentId, described] of Object.entries(m.components)) {
    const digest = new StateDigest();
    for (const record of state.components.get(componentId)?.records ?? []) {
      digest.update(record.key, record.value);
    }
    const where = `checkpoint ${m.checkpointId}: component ${componentId}`;
    const actual = digest.digest();
    if (actual !== described.digest) {
      checked.entry.faults.push({
        code: 'CHECKSUM_MISMATCH',
        message: `${where}: the state rebuilt from the blocks has digest ${actual}, the manifest says ${described.digest}`,
        key,
      });
    }
    if (digest.keyCount !== described.keyCount || digest.bytes !== described.bytes) {
      checked.entry.faults.push({
        code: 'INVALID_STATE_DATA',
        message: `${where}: the state rebuilt from the blocks has ${digest.keyCount} keys in ${digest.bytes} bytes, the manifest says ${described.keyCount} in ${described.bytes}`,
        key,
      });
    }
  }
}
