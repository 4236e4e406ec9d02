/**
 * The key order of one component, kept between snapshots so that a snapshot after a few new keys
 * costs a merge (O(n + k log k)) instead of a full sort (O(n log n)).
 *
 * Keys are latin1 strings of the key bytes: one char per byte, so string order is byte order.
 * Invariant: `sorted` ∪ `pending` = the keys the component holds a slot for (live or tombstone), disjoint.
 */
export class SortedKeyIndex {
  private sorted: string[] = [];
  private pending: string[] = [];

  /** A key got a slot it did not have. */
  add(key: string): void {
    this.pending.push(key);
  }

  /** Every slot was dropped (a clear). */
  reset(): void {
    this.sorted = [];
    this.pending = [];
  }

  /** Some slots were dropped: keep only the keys `has` still knows. */
  retain(has: (key: string) => boolean): void {
    this.sorted = this.sorted.filter(has);
    this.pending = this.pending.filter(has);
  }

  /** All keys in byte order. The array is shared: callers must not change it. */
  keys(): readonly string[] {
    if (this.pending.length === 0) return this.sorted;
    const added = this.pending.sort(compareStrings);
    const old = this.sorted;
    const merged = new Array<string>(old.length + added.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < added.length) {
      merged[k++] = (old[i] as string) < (added[j] as string) ? (old[i++] as string) : (added[j++] as string);
    }
    while (i < old.length) merged[k++] = old[i++] as string;
    while (j < added.length) merged[k++] = added[j++] as string;
    this.sorted = merged;
    this.pending = [];
    return merged;
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
