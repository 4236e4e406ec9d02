import { mix32 } from '../../lib/mix32';
import type { SlotTable } from './slot-table';

/**
 * Finds a component's slot by its key bytes: an open-addressing hash table (linear probing, at most half
 * full) of slot numbers and their hashes in a Uint32Array, keys compared in the slot table's arena. It
 * replaces a `Map<string, number>` keyed by the key's latin1 string: making that string, hashing it and
 * keeping a Map entry and a string per key were most of the materialiser's time and garbage
 * (`node --cpu-prof` of the ingest bench: `put` and the GC, ~1 µs a record).
 */
export class KeyIndex {
  /** Per bucket b: at 2b the slot + 1 (0: empty), at 2b + 1 its key's hash — one cache line for both. */
  private buckets = new Uint32Array(2 * INITIAL_BUCKETS);
  private mask = INITIAL_BUCKETS - 1;
  private count = 0;

  constructor(private readonly table: SlotTable) {}

  get size(): number {
    return this.count;
  }

  /** The slot whose key is `bytes[start, end)` (of hash `hash`, from `hashKey`), or -1. */
  find(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const buckets = this.buckets;
    const mask = this.mask;
    for (let b = hash & mask; ; b = (b + 1) & mask) {
      const held = buckets[2 * b]!;
      if (held === 0) return -1;
      if (buckets[2 * b + 1] === hash && this.table.keyEquals(held - 1, bytes, start, end)) return held - 1;
    }
  }

  /** Reads the bucket a probe for `hash` starts at (to have it in the cache by then); returns what it holds. */
  touch(hash: number): number {
    return this.buckets[2 * (hash & this.mask)]!;
  }

  /** Indexes `slot` under `hash` (its key must not be indexed yet). */
  insert(slot: number, hash: number): void {
    if (2 * (this.count + 1) > this.mask + 1) this.grow();
    this.place(slot + 1, hash);
    this.count++;
  }

  /**
   * Indexes slots `first`, `first + 1`, … under `hashes[0]`, `hashes[1]`, … (none indexed yet). Many at once —
   * a component loaded from a checkpoint — go in bucket-region by bucket-region: one at a time they land on
   * random buckets of a table far larger than the cache, a miss each (`node --cpu-prof` of a 3.8 M-record
   * load: ~180 ns a key); grouped first by the high bits of their home bucket (a counting sort, two passes
   * in order), each group's buckets lie close together.
   */
  insertMany(first: number, hashes: Uint32Array): void {
    const count = hashes.length;
    while (2 * (this.count + count) > this.mask + 1) this.grow();
    const regionBits = Math.max(0, Math.log2(this.mask + 1) - REGION_BUCKET_BITS);
    if (count < GROUPED_FROM || regionBits === 0) {
      for (let i = 0; i < count; i++) this.place(first + i + 1, hashes[i]!);
      this.count += count;
      return;
    }
    const shift = REGION_BUCKET_BITS;
    const mask = this.mask;
    const starts = new Uint32Array((1 << regionBits) + 1);
    for (let i = 0; i < count; i++) starts[((hashes[i]! & mask) >>> shift) + 1]!++;
    for (let r = 1; r < starts.length; r++) starts[r]! += starts[r - 1]!;
    // Slot and hash side by side, in region order: the placing pass below reads them in order.
    const grouped = new Uint32Array(2 * count);
    for (let i = 0; i < count; i++) {
      const hash = hashes[i]!;
      const at = 2 * starts[(hash & mask) >>> shift]!++;
      grouped[at] = first + i + 1;
      grouped[at + 1] = hash;
    }
    for (let j = 0; j < 2 * count; j += 2) this.place(grouped[j]!, grouped[j + 1]!);
    this.count += count;
  }

  /** Forgets `slot`, indexed under `hash`. */
  remove(slot: number, hash: number): void {
    const buckets = this.buckets;
    const mask = this.mask;
    let hole = hash & mask;
    while (buckets[2 * hole] !== slot + 1) {
      if (buckets[2 * hole] === 0)
        throw new Error(`KeyIndex.remove: slot ${slot} is not indexed under ${hash}`);
      hole = (hole + 1) & mask;
    }
    // Backward-shift deletion: later members of the probe run move into the hole when their home bucket
    // does not lie (cyclically) between the hole and them, so no tombstones are needed.
    for (let b = (hole + 1) & mask; buckets[2 * b] !== 0; b = (b + 1) & mask) {
      const home = buckets[2 * b + 1]! & mask;
      if (((b - home) & mask) >= ((b - hole) & mask)) {
        buckets[2 * hole] = buckets[2 * b]!;
        buckets[2 * hole + 1] = buckets[2 * b + 1]!;
        hole = b;
      }
    }
    buckets[2 * hole] = 0;
    this.count--;
  }

  /** Forgets every slot. */
  reset(): void {
    this.buckets = new Uint32Array(2 * INITIAL_BUCKETS);
    this.mask = INITIAL_BUCKETS - 1;
    this.count = 0;
  }

  private place(held: number, hash: number): void {
    const buckets = this.buckets;
    const mask = this.mask;
    let b = hash & mask;
    while (buckets[2 * b] !== 0) b = (b + 1) & mask;
    buckets[2 * b] = held;
    buckets[2 * b + 1] = hash;
  }

  private grow(): void {
    const old = this.buckets;
    this.buckets = new Uint32Array(2 * old.length);
    this.mask = old.length - 1;
    for (let b = 0; b < old.length; b += 2) if (old[b] !== 0) this.place(old[b]!, old[b + 1]!);
  }
}

const INITIAL_BUCKETS = 1024;
/** insertMany groups keys by regions of 2^13 buckets (64 KiB of the table) once it has this many. */
const REGION_BUCKET_BITS = 13;
const GROUPED_FROM = 65_536;

/** MurmurHash3 (x86, 32-bit) of `bytes[start, end)`: four bytes a round, well mixed for linear probing. */
export function hashKey(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x9747b28c;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = end - i;
  if (tail > 0) {
    let k = bytes[i]!;
    if (tail > 1) k |= bytes[i + 1]! << 8;
    if (tail > 2) k |= bytes[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return mix32(h ^ (end - start));
}
