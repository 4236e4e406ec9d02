/**
 * Which blocks of a full checkpoint's component a chain of deltas touches, so that a merge into a new
 * full checkpoint rewrites only those and names the others again by reference (no read, no decode, no
 * recompression): its cost grows with the changes, not the state (docs/checkpoint-merge.md).
 *
 * Every key belongs to one block's territory: from the block's first key up to the next block's first
 * key (the first block's reaches down to the lowest key, the last's up to the highest). A block is
 * touched when a delta changes a key inside its key range, or puts a key in its territory's gap after
 * its last key (a new key has to go somewhere). A delete in a gap deletes nothing the base holds: the
 * deltas' own records of that key meet in the territory's merge whenever a put of it touches the block.
 * Consecutive touched blocks form one stretch; a stretch is merged as a whole, with each delta's records
 * of its territory.
 */
import type { SortedRun } from '../run/run-types';

/** A base block's key range. */
export interface BlockKeyRange {
  readonly firstKey: Buffer;
  readonly lastKey: Buffer;
}

/** Base blocks [firstBlock, endBlock) merged with each delta's records [starts[d], ends[d]). */
export interface MergeStretch {
  readonly firstBlock: number;
  readonly endBlock: number;
  readonly deltaStarts: readonly number[];
  readonly deltaEnds: readonly number[];
}

/**
 * The stretches to rewrite, in key order; blocks outside every stretch are reused. Deltas are sorted runs
 * (keys rising). With no base blocks, one stretch holds every delta record (when there is any).
 */
export function planBlockReuse(
  blocks: readonly BlockKeyRange[],
  deltas: readonly SortedRun[],
): MergeStretch[] {
  const n = blocks.length;
  if (n === 0) {
    const any = deltas.some((delta) => delta.count > 0);
    return any
      ? [
          {
            firstBlock: 0,
            endBlock: 0,
            deltaStarts: deltas.map(() => 0),
            deltaEnds: deltas.map((d) => d.count),
          },
        ]
      : [];
  }
  const touched = new Uint8Array(n);
  for (const delta of deltas) markTouched(blocks, delta, touched);
  const stretches: MergeStretch[] = [];
  for (let b = 0; b < n; b++) {
    if (touched[b] === 0) continue;
    let end = b + 1;
    while (end < n && touched[end] === 1) end++;
    stretches.push({
      firstBlock: b,
      endBlock: end,
      deltaStarts: deltas.map((delta) => (b === 0 ? 0 : lowerBound(delta, blocks[b]!.firstKey))),
      deltaEnds: deltas.map((delta) => (end === n ? delta.count : lowerBound(delta, blocks[end]!.firstKey))),
    });
    b = end;
  }
  return stretches;
}

function markTouched(blocks: readonly BlockKeyRange[], delta: SortedRun, touched: Uint8Array): void {
  let b = 0;
  for (let i = 0; i < delta.count; i++) {
    // Keys rise: the block whose territory holds key i is at or after the previous one's.
    while (b + 1 < blocks.length && compareKeyTo(delta, i, blocks[b + 1]!.firstKey) >= 0) b++;
    if (touched[b] === 1) {
      // Skip the rest of this block's territory.
      if (b + 1 === blocks.length) return;
      const next = lowerBound(delta, blocks[b + 1]!.firstKey, i);
      i = next - 1;
      continue;
    }
    const isDelete = delta.deletes !== undefined && delta.deletes[i] === 1;
    const block = blocks[b]!;
    const inRange = compareKeyTo(delta, i, block.firstKey) >= 0 && compareKeyTo(delta, i, block.lastKey) <= 0;
    if (inRange || !isDelete) touched[b] = 1;
  }
}

/** The first record of `run` at or after `from` whose key is ≥ `key`. */
function lowerBound(run: SortedRun, key: Buffer, from = 0): number {
  let lo = from;
  let hi = run.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeyTo(run, mid, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Key order of the run's record i against `key`, as Buffer.compare. */
export function compareKeyTo(run: SortedRun, i: number, key: Buffer): number {
  const bytes = run.keyBytes;
  let p = run.keyStarts[i]!;
  const length = run.keyStarts[i + 1]! - p;
  const shorter = length < key.length ? length : key.length;
  for (let q = 0; q < shorter; q++, p++) {
    const x = bytes[p]!;
    const y = key[q]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return length === key.length ? 0 : length < key.length ? -1 : 1;
}
