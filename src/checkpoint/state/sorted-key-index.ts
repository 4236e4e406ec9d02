import type { SlotTable } from './slot-table';

/**
 * The key order of one component's slots, kept between snapshots so that a snapshot after a few new keys
 * costs a merge (O(n + k log k)) instead of a full sort (O(n log n)). Keys are compared as bytes in the
 * slot table's arena.
 *
 * Invariant: `sorted` ∪ `pending` = the slots the component holds (live or tombstone), disjoint.
 */
export class SortedKeyIndex {
  private sorted = new Uint32Array(0);
  /** Slots added since the last `slots()`, in `pending[0, pendingCount)`. */
  private pending = new Uint32Array(INITIAL_PENDING);
  private pendingCount = 0;
  private readonly compare: (a: number, b: number) => number;

  constructor(private readonly table: SlotTable) {
    this.compare = (a, b) => table.compareKeys(a, b);
  }

  /** A key got a slot it did not have. */
  add(slot: number): void {
    if (this.pendingCount === this.pending.length) {
      const pending = new Uint32Array(2 * this.pending.length);
      pending.set(this.pending);
      this.pending = pending;
    }
    this.pending[this.pendingCount++] = slot;
  }

  /**
   * Slots `first` … `first + count - 1` got keys that rise in that order, all above every key held:
   * appended to the order as they are, no sort (a component loaded from a checkpoint).
   */
  addSorted(first: number, count: number): void {
    if (this.pendingCount > 0) {
      for (let i = 0; i < count; i++) this.add(first + i);
      return;
    }
    const sorted = new Uint32Array(this.sorted.length + count);
    sorted.set(this.sorted);
    for (let i = 0; i < count; i++) sorted[this.sorted.length + i] = first + i;
    this.sorted = sorted;
  }

  /** Every slot was dropped (a clear). */
  reset(): void {
    this.sorted = new Uint32Array(0);
    this.pending = new Uint32Array(INITIAL_PENDING);
    this.pendingCount = 0;
  }

  /** Some slots were released: keep only those still held. */
  dropReleased(): void {
    const table = this.table;
    // Into a new array: one `slots()` handed out earlier stays as it was.
    const sorted = this.sorted;
    const kept = new Uint32Array(sorted.length);
    let count = 0;
    for (let i = 0; i < sorted.length; i++) if (!table.isReleased(sorted[i]!)) kept[count++] = sorted[i]!;
    this.sorted = kept.subarray(0, count);
    const pending = this.pending;
    count = 0;
    for (let i = 0; i < this.pendingCount; i++)
      if (!table.isReleased(pending[i]!)) pending[count++] = pending[i]!;
    this.pendingCount = count;
  }

  /** Every slot in key byte order. The array is shared: callers must not change it. */
  slots(): Uint32Array {
    if (this.pendingCount === 0) return this.sorted;
    // Array#sort, not the typed array's: it finds runs already in order (keys often come in order), where
    // Uint32Array#sort compared 8× as often on sorted input.
    const added = Array.from(this.pending.subarray(0, this.pendingCount)).sort(this.compare);
    const old = this.sorted;
    const merged = new Uint32Array(old.length + added.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < added.length) {
      merged[k++] = this.compare(old[i]!, added[j]!) < 0 ? old[i++]! : added[j++]!;
    }
    while (i < old.length) merged[k++] = old[i++]!;
    while (j < added.length) merged[k++] = added[j++]!;
    this.sorted = merged;
    this.pendingCount = 0;
    return merged;
  }
}

const INITIAL_PENDING = 1024;
