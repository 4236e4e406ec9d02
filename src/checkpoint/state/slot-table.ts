import type { SortedRun } from '../run/run-types';
import { allocateRun } from '../run/sorted-run';
import { PieceColumn } from './piece-column';

/**
 * A component's keys and their latest values in flat memory: per slot a key and a value (each a piece of
 * a PieceColumn), an LSN, a timestamp and a tombstone flag, all in typed arrays. No object, Buffer or
 * closure per key — what made the materialiser spend a third of its time in the garbage collector
 * (`node --cpu-prof` of bench:checkpoint's ingest). Views handed out (`key`, `value`) never change under
 * their holder (see PieceColumn).
 */
export class SlotTable {
  private readonly keys: PieceColumn;
  private readonly values: PieceColumn;
  private capacity = 0;
  private lsns = new Float64Array(0);
  private timestamps = new Float64Array(0);
  private deadFlags = new Uint8Array(0);
  /** Slots in use: [0, top) minus the free ones. */
  private top = 0;
  private readonly free: number[] = [];

  /** @param compactFromBytes below this much in a column's arena, garbage is left alone (tests make it small). */
  constructor(compactFromBytes = COMPACT_FROM_BYTES) {
    this.keys = new PieceColumn(compactFromBytes);
    this.values = new PieceColumn(compactFromBytes);
  }

  /** A new slot for `key` (copied), dead until `setValue` or `setDead`. */
  add(key: Uint8Array): number {
    return this.addRange(key, 0, key.length);
  }

  /** A new slot for the key `bytes[start, end)` (copied), dead until `setValue` or `setDead`. */
  addRange(bytes: Uint8Array, start: number, end: number): number {
    const slot = this.free.pop() ?? this.grow();
    // A freed slot's value was dropped with it; one from before a reset, by the reset.
    this.keys.set(slot, bytes, start, end, this.top);
    this.deadFlags[slot] = DEAD;
    return slot;
  }

  /**
   * New slots, in order, for the puts `run[start, end)`; returns the first (the others follow it). Only into
   * a table that has given up no slot (a fresh one, being loaded): its new slots are then contiguous. Keys
   * are copied; values too, unless `valuesPage` (adoptValues of this run) says where they were adopted.
   */
  loadRun(run: SortedRun, start: number, end: number, valuesPage: number | undefined): number {
    if (this.free.length > 0) throw new Error('SlotTable.loadRun: the table has free slots');
    const first = this.top;
    const count = end - start;
    this.ensureCapacity(first + count);
    this.keys.setPieces(first, run.keyBytes, run.keyStarts, start, end, undefined);
    this.values.setPieces(first, run.valueBytes, run.valueStarts, start, end, valuesPage);
    this.lsns.set(run.lsns.subarray(start, end), first);
    this.timestamps.set(run.timestamps.subarray(start, end), first);
    this.deadFlags.fill(LIVE, first, first + count);
    this.top += count;
    return first;
  }

  /**
   * The run's value bytes taken in as a page of the values' arena, no copy (they must never change), for
   * loadRun; undefined when the arena has no page address left (loadRun copies then). Only values: keys
   * adopted too would keep the run's buffer alive in a second column, which a compaction of the first
   * could not free.
   */
  adoptValues(run: SortedRun): number | undefined {
    return this.values.adopt(run.valueBytes);
  }

  /** After a load: the columns compact when most of what they adopted is garbage. */
  compactIfWasteful(): void {
    this.keys.compactIfWasteful(this.top);
    this.values.compactIfWasteful(this.top);
  }

  /** Room for `count` more slots without growing (a load that knows its size). */
  reserve(count: number): void {
    this.ensureCapacity(this.top + count);
  }

  /** The slot's value is now `value` (copied), written at `lsn`. */
  setValue(slot: number, value: Uint8Array, lsn: number, timestamp: number): void {
    this.setValueRange(slot, value, 0, value.length, lsn, timestamp);
  }

  /** The slot's value is now `bytes[start, end)` (copied), written at `lsn`. */
  setValueRange(
    slot: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    lsn: number,
    timestamp: number,
  ): void {
    this.values.set(slot, bytes, start, end, this.top);
    this.deadFlags[slot] = LIVE;
    this.lsns[slot] = lsn;
    this.timestamps[slot] = timestamp;
  }

  /** The slot's key was deleted at `lsn` (a tombstone): its value's bytes are garbage. */
  setDead(slot: number, lsn: number, timestamp: number): void {
    this.values.drop(slot);
    this.deadFlags[slot] = DEAD;
    this.lsns[slot] = lsn;
    this.timestamps[slot] = timestamp;
  }

  /** The slot is given up (its key forgotten): its bytes are garbage, the slot reused. */
  release(slot: number): void {
    this.keys.drop(slot);
    this.values.drop(slot);
    this.deadFlags[slot] = RELEASED;
    this.free.push(slot);
  }

  /** Every slot and byte dropped. */
  reset(): void {
    this.keys.reset(this.top);
    this.values.reset(this.top);
    this.top = 0;
    this.free.length = 0;
  }

  isDead(slot: number): boolean {
    return this.deadFlags[slot] !== LIVE;
  }

  /** Given up by `release`. */
  isReleased(slot: number): boolean {
    return this.deadFlags[slot] === RELEASED;
  }

  /** Whether the slot's key is `bytes[start, end)`. */
  keyEquals(slot: number, bytes: Uint8Array, start: number, end: number): boolean {
    return this.keys.equals(slot, bytes, start, end);
  }

  /** Byte order of two slots' keys. */
  compareKeys(a: number, b: number): number {
    return this.keys.compare(a, b);
  }

  lsn(slot: number): number {
    return this.lsns[slot]!;
  }

  timestamp(slot: number): number {
    return this.timestamps[slot]!;
  }

  keyBytes(slot: number): number {
    return this.keys.length(slot);
  }

  valueBytes(slot: number): number {
    return this.values.length(slot);
  }

  /** A view of the slot's key (stable). */
  key(slot: number): Buffer {
    return this.keys.view(slot);
  }

  /** A view of the slot's value (stable). */
  value(slot: number): Buffer {
    return this.values.view(slot);
  }

  /** The keys, values, LSNs and timestamps of `slots[0, count)`, in that order, as a run of their own. */
  copyRun(slots: Uint32Array, count: number): SortedRun {
    let keyBytes = 0;
    let valueBytes = 0;
    for (let i = 0; i < count; i++) {
      keyBytes += this.keys.length(slots[i]!);
      valueBytes += this.values.length(slots[i]!);
    }
    const run = allocateRun(count, keyBytes, valueBytes, false, Buffer.allocUnsafe);
    this.keys.copyOut(slots, count, run.keyBytes, run.keyStarts);
    this.values.copyOut(slots, count, run.valueBytes, run.valueStarts);
    for (let i = 0; i < count; i++) {
      run.lsns[i] = this.lsns[slots[i]!]!;
      run.timestamps[i] = this.timestamps[slots[i]!]!;
    }
    return run;
  }

  private grow(): number {
    if (this.top === this.capacity) this.ensureCapacity(this.top + 1);
    return this.top++;
  }

  /** Room for slots below `slots`, doubling. */
  private ensureCapacity(slots: number): void {
    if (slots <= this.capacity) return;
    let capacity = Math.max(INITIAL_SLOTS, this.capacity * 2);
    while (capacity < slots) capacity *= 2;
    this.keys.resize(capacity);
    this.values.resize(capacity);
    this.lsns = grown(this.lsns, new Float64Array(capacity));
    this.timestamps = grown(this.timestamps, new Float64Array(capacity));
    this.deadFlags = grown(this.deadFlags, new Uint8Array(capacity));
    this.capacity = capacity;
  }
}

/** A slot's flag: holds a value; a tombstone (or a key given no value yet); given up. */
const LIVE = 0;
const DEAD = 1;
const RELEASED = 2;
/** Below this, garbage is left alone. */
const COMPACT_FROM_BYTES = 4 * 1024 * 1024;
const INITIAL_SLOTS = 1024;

function grown<T extends Float64Array | Uint8Array>(old: T, next: T): T {
  next.set(old);
  return next;
}
