import { PagedArena } from './paged-arena';

/**
 * A component's keys and their latest values in flat memory: per slot an arena address and length for the
 * key and for the value, an LSN, a timestamp and a tombstone flag, all in typed arrays; the bytes in a
 * PagedArena. No object, Buffer or closure per key — what made the materialiser spend a third of its time
 * in the garbage collector (`node --cpu-prof` of bench:checkpoint's ingest).
 *
 * Bytes are only ever appended: a new value goes after the arena's end and the old one becomes garbage,
 * so a view handed out (`key`, `value`) never changes under its holder. When half the arena is garbage the
 * live bytes move to a new arena; old views keep the old pages.
 */
export class SlotTable {
  /** @param compactFromBytes below this much in the arena, garbage is left alone (tests make it small). */
  constructor(private readonly compactFromBytes = COMPACT_FROM_BYTES) {}

  private arena = new PagedArena();
  /** Arena bytes no slot refers to any more. */
  private garbage = 0;
  private capacity = 0;
  private keyAt = new Float64Array(0);
  private keyLength = new Uint32Array(0);
  private valueAt = new Float64Array(0);
  private valueLength = new Uint32Array(0);
  private lsns = new Float64Array(0);
  private timestamps = new Float64Array(0);
  private deadFlags = new Uint8Array(0);
  /** Slots in use: [0, top) minus the free ones. */
  private top = 0;
  private readonly free: number[] = [];

  /** A new slot for `key` (copied), dead until `setValue` or `setDead`. */
  add(key: Uint8Array): number {
    const slot = this.free.pop() ?? this.grow();
    // Released while the key is appended: a compaction inside the append must not move what the slot held
    // in its last use (a freed slot, or one from before a reset — reset leaves the columns as they were).
    this.keyLength[slot] = 0;
    this.valueLength[slot] = 0;
    this.deadFlags[slot] = 2;
    this.keyAt[slot] = this.append(key);
    this.keyLength[slot] = key.length;
    this.deadFlags[slot] = 1;
    return slot;
  }

  /** The slot's value is now `value` (copied), written at `lsn`. */
  setValue(slot: number, value: Uint8Array, lsn: number, timestamp: number): void {
    this.garbage += this.valueLength[slot]!;
    // Not moved by a compaction inside the append: the old value is garbage already.
    this.valueLength[slot] = 0;
    this.valueAt[slot] = this.append(value);
    this.valueLength[slot] = value.length;
    this.deadFlags[slot] = 0;
    this.lsns[slot] = lsn;
    this.timestamps[slot] = timestamp;
  }

  /** The slot's key was deleted at `lsn` (a tombstone): its value's bytes are garbage. */
  setDead(slot: number, lsn: number, timestamp: number): void {
    this.garbage += this.valueLength[slot]!;
    this.valueLength[slot] = 0;
    this.deadFlags[slot] = 1;
    this.lsns[slot] = lsn;
    this.timestamps[slot] = timestamp;
  }

  /** The slot is given up (its key forgotten): its bytes are garbage, the slot reused. */
  release(slot: number): void {
    this.garbage += this.keyLength[slot]! + this.valueLength[slot]!;
    this.keyLength[slot] = 0;
    this.valueLength[slot] = 0;
    this.deadFlags[slot] = 2;
    this.free.push(slot);
  }

  /** Every slot and byte dropped. */
  reset(): void {
    this.arena = new PagedArena();
    this.garbage = 0;
    this.top = 0;
    this.free.length = 0;
  }

  isDead(slot: number): boolean {
    return this.deadFlags[slot] !== 0;
  }

  lsn(slot: number): number {
    return this.lsns[slot]!;
  }

  timestamp(slot: number): number {
    return this.timestamps[slot]!;
  }

  keyBytes(slot: number): number {
    return this.keyLength[slot]!;
  }

  valueBytes(slot: number): number {
    return this.valueLength[slot]!;
  }

  /** A view of the slot's key (stable: see the class comment). */
  key(slot: number): Buffer {
    return this.arena.view(this.keyAt[slot]!, this.keyLength[slot]!);
  }

  /** A view of the slot's value. */
  value(slot: number): Buffer {
    return this.arena.view(this.valueAt[slot]!, this.valueLength[slot]!);
  }

  copyKey(slot: number, target: Buffer, at: number): number {
    return this.arena.copyOut(this.keyAt[slot]!, this.keyLength[slot]!, target, at);
  }

  copyValue(slot: number, target: Buffer, at: number): number {
    return this.arena.copyOut(this.valueAt[slot]!, this.valueLength[slot]!, target, at);
  }

  private append(bytes: Uint8Array): number {
    if (this.garbage > this.arena.used / 2 && this.arena.used >= this.compactFromBytes) this.compact();
    return this.arena.append(bytes);
  }

  /** The live bytes, slot by slot, into a new arena (released slots left out). */
  private compact(): void {
    const next = new PagedArena();
    for (let slot = 0; slot < this.top; slot++) {
      if (this.deadFlags[slot] === 2) continue;
      this.keyAt[slot] = next.append(this.arena.view(this.keyAt[slot]!, this.keyLength[slot]!));
      this.valueAt[slot] = next.append(this.arena.view(this.valueAt[slot]!, this.valueLength[slot]!));
    }
    this.arena = next;
    this.garbage = 0;
  }

  private grow(): number {
    if (this.top === this.capacity) {
      const capacity = Math.max(INITIAL_SLOTS, this.capacity * 2);
      this.keyAt = grown(this.keyAt, new Float64Array(capacity));
      this.keyLength = grown(this.keyLength, new Uint32Array(capacity));
      this.valueAt = grown(this.valueAt, new Float64Array(capacity));
      this.valueLength = grown(this.valueLength, new Uint32Array(capacity));
      this.lsns = grown(this.lsns, new Float64Array(capacity));
      this.timestamps = grown(this.timestamps, new Float64Array(capacity));
      this.deadFlags = grown(this.deadFlags, new Uint8Array(capacity));
      this.capacity = capacity;
    }
    return this.top++;
  }
}

/** Below this, garbage is left alone. */
const COMPACT_FROM_BYTES = 4 * 1024 * 1024;
const INITIAL_SLOTS = 1024;

function grown<T extends Float64Array | Uint32Array | Uint8Array>(old: T, next: T): T {
  next.set(old);
  return next;
}
