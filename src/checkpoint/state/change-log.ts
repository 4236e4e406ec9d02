/**
 * A component's change log: (slot, LSN) pairs in LSN order, one per key and LSN, in typed arrays (two
 * `number[]` pushes a put cost a tenth of the ingest in `node --cpu-prof`). Entries live in
 * `[first, end)`; dropping the oldest moves `first`, and the space before it is reclaimed when the arrays
 * fill.
 */
export class ChangeLog {
  private slots = new Uint32Array(INITIAL_ENTRIES);
  private lsns = new Float64Array(INITIAL_ENTRIES);
  private first = 0;
  private end = 0;

  get length(): number {
    return this.end - this.first;
  }

  push(slot: number, lsn: number): void {
    if (this.end === this.slots.length) this.makeRoom();
    this.slots[this.end] = slot;
    this.lsns[this.end++] = lsn;
  }

  /** Calls `visit` for each entry with an LSN above `lsn`, oldest first. */
  forEachAfter(lsn: number, visit: (slot: number, lsn: number) => void): void {
    for (let i = this.firstAfter(lsn); i < this.end; i++) visit(this.slots[i]!, this.lsns[i]!);
  }

  /** Drops the entries at or before `lsn`. */
  dropThrough(lsn: number): void {
    this.first = this.firstAfter(lsn);
  }

  /** Keeps only the entries `keep` accepts, in order. */
  retain(keep: (slot: number, lsn: number) => boolean): void {
    let kept = 0;
    for (let i = this.first; i < this.end; i++) {
      if (!keep(this.slots[i]!, this.lsns[i]!)) continue;
      this.slots[kept] = this.slots[i]!;
      this.lsns[kept++] = this.lsns[i]!;
    }
    this.first = 0;
    this.end = kept;
  }

  reset(): void {
    this.slots = new Uint32Array(INITIAL_ENTRIES);
    this.lsns = new Float64Array(INITIAL_ENTRIES);
    this.first = 0;
    this.end = 0;
  }

  /** Index of the first entry whose LSN is above `lsn` (LSNs ascend). */
  private firstAfter(lsn: number): number {
    let lo = this.first;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lsns[mid]! <= lsn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Moves the entries to the front when half the arrays lie before `first`; otherwise doubles them. */
  private makeRoom(): void {
    const length = this.length;
    if (this.first >= this.slots.length / 2) {
      this.slots.copyWithin(0, this.first, this.end);
      this.lsns.copyWithin(0, this.first, this.end);
    } else {
      const slots = new Uint32Array(this.slots.length * 2);
      const lsns = new Float64Array(this.lsns.length * 2);
      slots.set(this.slots.subarray(this.first, this.end));
      lsns.set(this.lsns.subarray(this.first, this.end));
      this.slots = slots;
      this.lsns = lsns;
    }
    this.first = 0;
    this.end = length;
  }
}

const INITIAL_ENTRIES = 1024;
