import { constants } from 'node:buffer';
import { TidemarkError } from '../../lib/errors';

/**
 * A component's keys and their latest values in flat memory: per slot an arena offset and length for the
 * key and for the value, an LSN, a timestamp and a tombstone flag, all in typed arrays; the bytes in one
 * arena Buffer. No object, Buffer or closure per key — what made the materialiser spend a third of its time
 * in the garbage collector (`node --cpu-prof` of bench:checkpoint's ingest).
 *
 * Bytes are only ever appended: a new value goes after the arena's end and the old one becomes garbage,
 * so a view handed out (`key`, `value`) never changes under its holder — when the arena grows or is
 * compacted the bytes move to a new Buffer and old views keep the old one.
 */
export class SlotTable {
  private arena = Buffer.allocUnsafe(INITIAL_ARENA_BYTES);
  private used = 0;
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
    this.arena = Buffer.allocUnsafe(INITIAL_ARENA_BYTES);
    this.used = 0;
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
    const at = this.keyAt[slot]!;
    return this.arena.subarray(at, at + this.keyLength[slot]!);
  }

  /** A view of the slot's value. */
  value(slot: number): Buffer {
    const at = this.valueAt[slot]!;
    return this.arena.subarray(at, at + this.valueLength[slot]!);
  }

  copyKey(slot: number, target: Buffer, at: number): number {
    const from = this.keyAt[slot]!;
    return this.arena.copy(target, at, from, from + this.keyLength[slot]!);
  }

  copyValue(slot: number, target: Buffer, at: number): number {
    const from = this.valueAt[slot]!;
    return this.arena.copy(target, at, from, from + this.valueLength[slot]!);
  }

  private append(bytes: Uint8Array): number {
    if (this.used + bytes.length > this.arena.length) this.makeRoom(bytes.length);
    const at = this.used;
    this.arena.set(bytes, at);
    this.used += bytes.length;
    return at;
  }

  /**
   * A larger arena: twice what the live bytes and `needed` take. Mostly garbage: only the live bytes are
   * moved, slot by slot (offsets change); else the used bytes in one copy (offsets stay).
   */
  private makeRoom(needed: number): void {
    const live = this.used - this.garbage;
    if (live + needed > MAX_LENGTH) {
      throw new TidemarkError(
        'INTERNAL',
        `a component's state in memory would pass ${MAX_LENGTH} bytes (the largest Buffer): split it`,
      );
    }
    const compact = this.garbage > this.used / 2;
    const wanted = Math.max(INITIAL_ARENA_BYTES, 2 * ((compact ? live : this.used) + needed));
    const next = Buffer.allocUnsafe(Math.min(MAX_LENGTH, wanted));
    if (!compact && this.used + needed <= next.length) {
      this.arena.copy(next, 0, 0, this.used);
      this.arena = next;
      return;
    }
    let at = 0;
    for (let slot = 0; slot < this.top; slot++) {
      if (this.deadFlags[slot] === 2) continue;
      at = this.move(next, at, this.keyAt, this.keyLength, slot);
      at = this.move(next, at, this.valueAt, this.valueLength, slot);
    }
    this.arena = next;
    this.used = at;
    this.garbage = 0;
  }

  private move(next: Buffer, at: number, offsets: Float64Array, lengths: Uint32Array, slot: number): number {
    const from = offsets[slot]!;
    const length = lengths[slot]!;
    this.arena.copy(next, at, from, from + length);
    offsets[slot] = at;
    return at + length;
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

const INITIAL_ARENA_BYTES = 64 * 1024;
const MAX_LENGTH = constants.MAX_LENGTH;
const INITIAL_SLOTS = 1024;

function grown<T extends Float64Array | Uint32Array | Uint8Array>(old: T, next: T): T {
  next.set(old);
  return next;
}
