import type { Manifest, ManifestBlockRef } from '../checkpoint/manifest/manifest';
import type { RunDelta } from '../checkpoint/merge/run-merge';
import { wholeRun, type RunSlice } from '../checkpoint/run/run-slice';
import { concatRuns, type SortedRun } from '../checkpoint/run/sorted-run';
import { TidemarkError } from '../lib/errors';
import { fetchBlockParts, type BlockFetchOptions } from './block-fetcher';

/** A chain's blocks for some components, read as sorted runs: the full checkpoint's and each incremental's. */
export interface FetchedChain {
  /** Per component, its state in the full checkpoint: one slice per block (none when it holds none). */
  base: Map<string, RunSlice[]>;
  /** Per incremental (in chain order), the changes of the components it changed: one run each. */
  deltas: Map<string, RunDelta>[];
  /** Components whose blocks failed (optimistic mode only; otherwise the first failure is thrown). */
  failed: Map<string, unknown>;
}

interface Part {
  componentId: string;
  /** 0: the full checkpoint; i ≥ 1: incremental i of the chain. */
  link: number;
  start: number;
  end: number;
}

/**
 * Reads every block the chain names for `componentIds` through ONE fetch pipeline, so that lanes and
 * worker threads stay busy across component and link boundaries (a pipeline per component drained at
 * each one). With `optimistic`, a failing block takes down only its component: its other blocks are not
 * fetched, the rest goes on. `onComponentDone` is called as each component's last block arrives.
 */
export async function fetchChain(
  manifests: readonly Manifest[],
  componentIds: readonly string[],
  options: BlockFetchOptions,
  optimistic: boolean,
  onComponentDone: () => void,
): Promise<FetchedChain> {
  const refs: ManifestBlockRef[] = [];
  const owner: string[] = [];
  const parts: Part[] = [];
  const remaining = new Map<string, number>();
  for (const id of componentIds) {
    let count = 0;
    manifests.forEach((manifest, link) => {
      const entry = manifest.components[id];
      if (!entry) return;
      parts.push({ componentId: id, link, start: refs.length, end: refs.length + entry.blocks.length });
      for (const ref of entry.blocks) {
        refs.push(ref);
        owner.push(id);
      }
      count += entry.blocks.length;
    });
    if (count === 0) onComponentDone();
    else remaining.set(id, count);
  }

  const failed = new Map<string, unknown>();
  const onBlock = options.onBlock;
  const blocks = await fetchBlockParts(
    refs,
    {
      ...options,
      onBlock: (bytes, index) => {
        onBlock?.(bytes, index);
        const id = owner[index]!;
        const left = remaining.get(id)! - 1;
        remaining.set(id, left);
        if (left === 0) onComponentDone();
      },
    },
    optimistic
      ? {
          onFailure: (index, error) => {
            const id = owner[index]!;
            if (!failed.has(id)) {
              failed.set(id, error);
              onComponentDone();
            }
          },
          skip: (index) => failed.has(owner[index]!),
        }
      : undefined,
  );

  const fetched: FetchedChain = {
    base: new Map(componentIds.map((id) => [id, []])),
    deltas: manifests.slice(1).map(() => new Map()),
    failed,
  };
  for (const part of parts) {
    const id = part.componentId;
    if (failed.has(id)) continue;
    const runs = blocks.slice(part.start, part.end) as SortedRun[];
    if (part.link === 0) {
      try {
        fetched.base.set(id, runs.filter((run) => fullStateRun(id, run)).map(wholeRun));
      } catch (error) {
        if (!optimistic) throw error;
        failed.set(id, error);
      }
      continue;
    }
    const clearedAt = manifests[part.link]!.components[id]!.clearedAt;
    // A delta's blocks are read as one run: its records are few next to the base's, and a merge
    // addresses a delta's records by one index.
    fetched.deltas[part.link - 1]!.set(id, { run: concatRuns(runs), ...(clearedAt ? { clearedAt } : {}) });
  }
  for (const id of failed.keys()) {
    fetched.base.delete(id);
    for (const delta of fetched.deltas) delta.delete(id);
  }
  return fetched;
}

/** A full checkpoint's block holds puts only: INVALID_STATE_DATA for a delete. Empty runs are left out. */
function fullStateRun(componentId: string, run: SortedRun): boolean {
  const deletes = run.deletes;
  if (deletes !== undefined && deletes.indexOf(1) !== -1) {
    throw new TidemarkError(
      'INVALID_STATE_DATA',
      `a full-state block of component ${componentId} holds a delete`,
      {
        details: { componentId, index: deletes.indexOf(1) },
      },
    );
  }
  return run.count > 0;
}
