import { PagedArena } from './paged-arena';

/**
 * One byte string per slot (a slot table's keys, or its values) in a PagedArena: per slot an address and a
 * length in typed arrays. Keys and values live in columns of their own so that pieces appended in key
 * order — a component loaded or ingested in order — lie next to each other, and a run is copied out in
 * a few large copies rather than one call per piece (`node --cpu-prof`: ~375 ns a native copy call).
 *
 * Bytes are only ever appended: a new piece goes after the arena's end and the old one becomes garbage,
 * so a view handed out never changes under its holder. When half the arena is garbage the live pieces
 * move to a new arena; old views keep the old pages.
 */
/** From this many pieces, a copied stretch goes in one copy to a page of its own (setPieces). */
const COPY_WHOLE_FROM = 32;

export class PieceColumn {
  private arena = new PagedArena();
  /** Arena bytes no slot refers to any more. */
  private garbage = 0;
  private at = new Float64Array(0);
  private lengths = new Uint32Array(0);

  /** @param compactFromBytes below this much in the arena, garbage is left alone (tests make it small). */
  constructor(private readonly compactFromBytes: number) {}

  /** Room for slots below `capacity`. */
  resize(capacity: number): void {
    const at = new Float64Array(capacity);
    at.set(this.at);
    const lengths = new Uint32Array(capacity);
    lengths.set(this.lengths);
    this.at = at;
    this.lengths = lengths;
  }

  /**
   * The slot's piece is now `bytes[start, end)` (copied); the old one is garbage. `slots` bounds the slots
   * in use, which a compaction moves.
   */
  set(slot: number, bytes: Uint8Array, start: number, end: number, slots: number): void {
    this.garbage += this.lengths[slot]!;
    // Empty while appending: a compaction inside the append must not move the piece being replaced.
    this.lengths[slot] = 0;
    if (this.garbage > this.arena.used / 2 && this.arena.used >= this.compactFromBytes) this.compact(slots);
    this.at[slot] = this.arena.appendRange(bytes, start, end);
    this.lengths[slot] = end - start;
  }

  /**
   * Slots `first`, `first + 1`, … get the pieces `bytes[starts[i], starts[i + 1])` for i in [from, to).
   * With `page` (what `adopt` returned for `bytes`) they point into it, no copy. Else they are copied: a
   * long stretch in one copy into a buffer of its size, taken in as a page (one native call instead of one
   * per piece: a load of 800 k keys spent 65 ms more piece by piece), a short one piece by piece.
   */
  setPieces(
    first: number,
    bytes: Buffer,
    starts: Uint32Array,
    from: number,
    to: number,
    page: number | undefined,
  ): void {
    let origin = 0;
    if (page === undefined && to - from >= COPY_WHOLE_FROM && this.canAdopt()) {
      origin = starts[from]!;
      const copy = Buffer.allocUnsafeSlow(starts[to]! - origin);
      bytes.copy(copy, 0, origin, starts[to]!);
      page = this.adopt(copy)!;
    }
    const at = this.at;
    const lengths = this.lengths;
    for (let i = from, slot = first; i < to; i++, slot++) {
      const length = starts[i + 1]! - starts[i]!;
      at[slot] =
        page === undefined
          ? this.arena.appendRange(bytes, starts[i]!, starts[i + 1]!)
          : page + (starts[i]! - origin);
      lengths[slot] = length;
      // Adopted bytes were counted garbage when adopted: what a piece points at is not.
      if (page !== undefined) this.garbage -= length;
    }
  }

  /**
   * Takes `bytes` in as a page without a copy (they must never change) and returns its address, or
   * undefined when the arena has no page address left (the caller copies instead). The whole buffer they
   * are a view of stays alive with them: it counts as garbage until pieces point at it (`setPieces`), so
   * that a compaction comes once little of it is in use, and frees it.
   */
  adopt(bytes: Buffer): number | undefined {
    if (!this.canAdopt()) return undefined;
    const held = bytes.buffer.byteLength;
    this.garbage += held;
    return this.arena.adopt(bytes, held);
  }

  canAdopt(): boolean {
    return this.arena.canAdopt(1);
  }

  /** Moves the live pieces to a new arena when at least half the arena is garbage (after a load). */
  compactIfWasteful(slots: number): void {
    if (this.garbage > this.arena.used / 2 && this.arena.used >= this.compactFromBytes) this.compact(slots);
  }

  /** The slot's piece is dropped (garbage). */
  drop(slot: number): void {
    this.garbage += this.lengths[slot]!;
    this.lengths[slot] = 0;
  }

  /** Every piece of slots [0, slots) dropped (slots are numbered from 0 again). */
  reset(slots: number): void {
    this.arena = new PagedArena();
    this.garbage = 0;
    this.lengths.fill(0, 0, slots);
  }

  length(slot: number): number {
    return this.lengths[slot]!;
  }

  /** A view of the slot's piece (stable: see the class comment). */
  view(slot: number): Buffer {
    return this.arena.view(this.at[slot]!, this.lengths[slot]!);
  }

  /** Whether the slot's piece is `bytes[start, end)`. */
  equals(slot: number, bytes: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    return this.lengths[slot] === length && this.arena.equals(this.at[slot]!, bytes, start, length);
  }

  /** Byte order of two slots' pieces. */
  compare(a: number, b: number): number {
    return this.arena.compare(this.at[a]!, this.lengths[a]!, this.at[b]!, this.lengths[b]!);
  }

  /**
   * The pieces of `slots[0, count)` one after another into `target` from 0, `starts[i + 1]` set to where
   * piece i ends; pieces that lie next to each other in the arena go in one copy. Returns the bytes written.
   */
  copyOut(slots: Uint32Array, count: number, target: Buffer, starts: Uint32Array): number {
    let written = 0;
    let runAt = 0;
    let runLength = 0;
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      const at = this.at[slot]!;
      const length = this.lengths[slot]!;
      // Adjacent addresses are on the same page: a piece never spans two.
      if (at !== runAt + runLength || runLength === 0) {
        written += runLength === 0 ? 0 : this.arena.copyOut(runAt, runLength, target, written);
        runAt = at;
        runLength = 0;
      }
      runLength += length;
      starts[i + 1] = written + runLength;
    }
    if (runLength > 0) written += this.arena.copyOut(runAt, runLength, target, written);
    return written;
  }

  /** The live pieces of slots [0, slots), slot by slot, into a new arena. */
  private compact(slots: number): void {
    const next = new PagedArena();
    for (let slot = 0; slot < slots; slot++) {
      const length = this.lengths[slot]!;
      // An empty piece's address may be stale (from before a reset): never read.
      this.at[slot] = length === 0 ? 0 : next.append(this.arena.view(this.at[slot]!, length));
    }
    this.arena = next;
    this.garbage = 0;
  }
}
