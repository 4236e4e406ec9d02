import type { Manifest, ManifestBlockRef } from '../checkpoint/manifest/manifest';
import type { RunDelta } from '../checkpoint/merge/run-merge';
import { wholeRun, type RunSlice } from '../checkpoint/run/run-slice';
import { runFromSlices } from '../checkpoint/run/run-transfer';
import { fullStateRun } from '../checkpoint/run/sliced-component';
import type { SortedRun } from '../checkpoint/run/sorted-run';
import { fetchBlockParts, type BlockFetchOptions } from './block-fetcher';

/** One component's blocks of a chain, read as sorted runs. */
export interface FetchedComponent {
  /** Its state in the full checkpoint: one slice per block (none when it holds none). */
  readonly base: RunSlice[];
  /** Per incremental (in chain order), its changes there: one run, or undefined where it changed nothing. */
  readonly deltas: (RunDelta | undefined)[];
}

interface Part {
  /** 0: the full checkpoint; i ≥ 1: incremental i of the chain. */
  link: number;
  start: number;
  end: number;
}

/**
 * Reads every block the chain names for `componentIds` through ONE fetch pipeline, so that lanes and
 * worker threads stay busy across component and link boundaries (a pipeline per component drained at
 * each one). Each component is handed to `onComponent` as its last block arrives — the caller's work on it
 * (a merge on this thread) overlaps the decoding of the next ones — or, when it failed, `undefined`.
 * With `optimistic`, a failing block (or a failing `onComponent`) takes down only its component: its other
 * blocks are not fetched, the rest goes on; the failures are returned. Otherwise the first one is thrown.
 */
export async function fetchChain(
  manifests: readonly Manifest[],
  componentIds: readonly string[],
  options: BlockFetchOptions,
  optimistic: boolean,
  onComponent: (componentId: string, fetched: FetchedComponent | undefined) => void,
): Promise<Map<string, unknown>> {
  const refs: ManifestBlockRef[] = [];
  const owner: string[] = [];
  const parts = new Map<string, Part[]>();
  const remaining = new Map<string, number>();
  for (const id of componentIds) {
    const own: Part[] = [];
    manifests.forEach((manifest, link) => {
      const entry = manifest.components[id];
      // An entry without blocks still counts: an incremental's clear of the component is in its manifest.
      if (!entry) return;
      own.push({ link, start: refs.length, end: refs.length + entry.blocks.length });
      for (const ref of entry.blocks) {
        refs.push(ref);
        owner.push(id);
      }
    });
    parts.set(id, own);
    remaining.set(
      id,
      own.reduce((sum, p) => sum + p.end - p.start, 0),
    );
  }

  const runs = new Array<SortedRun | undefined>(refs.length);
  const assemble = (id: string): FetchedComponent => {
    const fetched: FetchedComponent = { base: [], deltas: manifests.slice(1).map(() => undefined) };
    for (const part of parts.get(id)!) {
      const own = runs.slice(part.start, part.end) as SortedRun[];
      if (part.link === 0) {
        fetched.base.push(...own.filter((run) => fullStateRun(id, run)).map(wholeRun));
        continue;
      }
      const clearedAt = manifests[part.link]!.components[id]!.clearedAt;
      // A delta's blocks are read as one run: its records are few next to the base's, and a merge
      // addresses a delta's records by one index.
      const run = own.length === 1 ? own[0]! : runFromSlices(own.map(wholeRun));
      fetched.deltas[part.link - 1] = { run, ...(clearedAt ? { clearedAt } : {}) };
    }
    for (const part of parts.get(id)!) runs.fill(undefined, part.start, part.end);
    return fetched;
  };
  const failed = new Map<string, unknown>();
  const deliver = (id: string): void => onComponent(id, assemble(id));
  // Components with no block at all (changed only by clears) are whole already.
  for (const id of componentIds) if (remaining.get(id) === 0) deliver(id);
  await fetchBlockParts(
    refs,
    {
      ...options,
      onPart: (index, run) => {
        runs[index] = run;
        const id = owner[index]!;
        const left = remaining.get(id)! - 1;
        remaining.set(id, left);
        if (left === 0) deliver(id);
      },
    },
    optimistic
      ? {
          onFailure: (index, error) => {
            const id = owner[index]!;
            if (failed.has(id)) return;
            failed.set(id, error);
            for (const part of parts.get(id)!) runs.fill(undefined, part.start, part.end);
            onComponent(id, undefined);
          },
          skip: (index) => failed.has(owner[index]!),
        }
      : undefined,
  );
  return failed;
}
