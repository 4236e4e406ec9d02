import type { RunSlice } from '../run/run-slice';
import type { SortedRun } from '../run/run-types';
import { SlicedComponent } from '../run/sliced-component';
import type { ComponentDelta, DeltaRecord, StateRecord } from './state-types';
import { ChangeLog } from './change-log';
import { KeyIndex, hashKey } from './key-index';
import { SlotTable } from './slot-table';
import { SortedKeyIndex } from './sorted-key-index';

/**
 * The state of one component, plus what is needed to say what changed since an LSN:
 * - per key a slot of a SlotTable (flat memory: its live value or its tombstone, with LSN and timestamp),
 *   found by a KeyIndex (a hash table over the key bytes) and kept in key order by a SortedKeyIndex;
 * - `clearedAt`: the last clear (a clear drops every slot, tombstones included: the clear marker says
 *   more than they could);
 * - a change log of (slot, LSN) in LSN order, one entry per key and LSN, so `changesSince(c)` costs the
 *   changes after c, not the size of the state. Entries whose slot changed again later are stale; they
 *   are skipped when read and compacted away when the log outgrows the state.
 *
 * A delete of a key that is not live changes nothing and records nothing: after a clear, or after its
 * tombstone was forgotten, the key is absent at every LSN a delta may start from.
 */
export class ComponentState {
  private readonly table = new SlotTable();
  private readonly index = new KeyIndex(this.table);
  private readonly order = new SortedKeyIndex(this.table);
  private readonly tombstones = new Set<number>();
  private readonly log = new ChangeLog();
  private clearedAt: { lsn: number; timestamp: number } | undefined;
  private live = 0;

  constructor(readonly componentId: string) {}

  get liveKeys(): number {
    return this.live;
  }

  /** Entries of the change log deltas are cut from: kept within 2 per live key plus a fixed slack. */
  get changeLogLength(): number {
    return this.log.length;
  }

  /** Keys and values are copied (the WAL hands out views into its read chunks). */
  put(key: Uint8Array, value: Uint8Array, lsn: number, timestamp: number): void {
    this.putRange(key, 0, key.length, value, 0, value.length, lsn, timestamp);
  }

  /** `put` of the key `keyBytes[keyStart, keyEnd)` and the value `valueBytes[valueStart, valueEnd)`. */
  putRange(
    keyBytes: Uint8Array,
    keyStart: number,
    keyEnd: number,
    valueBytes: Uint8Array,
    valueStart: number,
    valueEnd: number,
    lsn: number,
    timestamp: number,
    hash = hashKey(keyBytes, keyStart, keyEnd),
  ): void {
    const table = this.table;
    let slot = this.index.find(keyBytes, keyStart, keyEnd, hash);
    const changedInThisEntry = slot >= 0 && table.lsn(slot) === lsn;
    if (slot < 0) {
      slot = table.addRange(keyBytes, keyStart, keyEnd);
      this.index.insert(slot, hash);
      this.order.add(slot);
      this.live++;
    } else if (table.isDead(slot)) {
      this.tombstones.delete(slot);
      this.live++;
    }
    table.setValueRange(slot, valueBytes, valueStart, valueEnd, lsn, timestamp);
    if (!changedInThisEntry) this.logChange(slot, lsn);
  }

  delete(key: Uint8Array, lsn: number, timestamp: number): void {
    this.deleteRange(key, 0, key.length, lsn, timestamp);
  }

  /** `delete` of the key `bytes[keyStart, keyEnd)` (`hash`: its hashKey, when known). */
  deleteRange(
    bytes: Uint8Array,
    keyStart: number,
    keyEnd: number,
    lsn: number,
    timestamp: number,
    hash = hashKey(bytes, keyStart, keyEnd),
  ): void {
    const slot = this.index.find(bytes, keyStart, keyEnd, hash);
    if (slot < 0 || this.table.isDead(slot)) return;
    const changedInThisEntry = this.table.lsn(slot) === lsn;
    this.table.setDead(slot, lsn, timestamp);
    this.tombstones.add(slot);
    this.live--;
    if (!changedInThisEntry) this.logChange(slot, lsn);
  }

  clear(lsn: number, timestamp: number): void {
    this.index.reset();
    this.table.reset();
    this.order.reset();
    this.tombstones.clear();
    this.log.reset();
    this.live = 0;
    this.clearedAt = { lsn, timestamp };
  }

  /**
   * Loads a checkpointed component held as slices (their concatenation rising strictly, puts only) into
   * this empty state. Keys are copied. With `adopt`, the values of a run whose buffer the slices mostly use
   * are taken over without a copy (the run must never change; what the slices leave of its buffer counts as
   * garbage, which a compaction frees); the others are copied (PieceColumn.setPieces).
   */
  loadSlices(slices: readonly RunSlice[], adopt: boolean): void {
    if (this.index.size > 0 || this.tombstones.size > 0) {
      throw new Error(`ComponentState.loadSlices: component ${this.componentId} is not empty`);
    }
    let total = 0;
    for (const { start, end } of slices) total += end - start;
    const table = this.table;
    table.reserve(total);
    const adopted = adopt ? worthAdopting(slices) : undefined;
    const hashes = new Uint32Array(total);
    let first = -1;
    let n = 0;
    for (const { run, start, end } of slices) {
      if (end === start) continue;
      let page: number | undefined;
      if (adopted?.has(run)) {
        page = adopted.get(run) ?? table.adoptValues(run);
        adopted.set(run, page);
      }
      const slot = table.loadRun(run, start, end, page);
      if (first < 0) first = slot;
      const keys = run.keyBytes;
      const starts = run.keyStarts;
      for (let i = start; i < end; i++) hashes[n++] = hashKey(keys, starts[i]!, starts[i + 1]!);
    }
    if (first < 0) return;
    table.compactIfWasteful();
    this.index.insertMany(first, hashes);
    this.order.addSorted(first, total);
    this.live += total;
  }

  /** Reads the index bucket a lookup of a key of `hash` starts at (see FramePrefetcher). */
  touch(hash: number): number {
    return this.index.touch(hash);
  }

  /** Live records in key byte order, as objects over views of the state's bytes (which never change). */
  records(): StateRecord[] {
    const out = new Array<StateRecord>(this.live);
    let n = 0;
    for (const slot of this.order.slots()) {
      if (this.table.isDead(slot)) continue;
      out[n++] = {
        key: this.table.key(slot),
        value: this.table.value(slot),
        lsn: this.table.lsn(slot),
        timestamp: this.table.timestamp(slot),
      };
    }
    return out;
  }

  /** Live records in key order as one run of their own (a copy: later changes do not reach it). */
  snapshot(): SlicedComponent {
    const slots = new Uint32Array(this.live);
    let n = 0;
    for (const slot of this.order.slots()) if (!this.table.isDead(slot)) slots[n++] = slot;
    if (n === 0) return new SlicedComponent(this.componentId, []);
    return new SlicedComponent(
      this.componentId,
      [{ run: this.table.copyRun(slots, n), start: 0, end: n }],
      true,
    );
  }

  /** The changes over `(lsn, now]`: the last clear after `lsn`, then each changed key's last change. */
  changesSince(lsn: number): ComponentDelta {
    const records: DeltaRecord[] = [];
    const table = this.table;
    this.log.forEachAfter(lsn, (slot, changedAt) => {
      // Stale entry: the key changed again later.
      if (table.lsn(slot) !== changedAt) return;
      const key = table.key(slot);
      const at = { lsn: changedAt, timestamp: table.timestamp(slot) };
      records.push(
        table.isDead(slot)
          ? { op: 'delete', key, ...at }
          : { op: 'put', key, value: table.value(slot), ...at },
      );
    });
    records.sort((a, b) => Buffer.compare(a.key, b.key));
    const delta: ComponentDelta = { componentId: this.componentId, records };
    if (this.clearedAt && this.clearedAt.lsn > lsn) delta.clearedAt = { ...this.clearedAt };
    return delta;
  }

  /** Drops tombstones, the clear marker and change-log entries at or before `lsn`. */
  forgetThrough(lsn: number): void {
    if (this.clearedAt && this.clearedAt.lsn <= lsn) this.clearedAt = undefined;
    let dropped = false;
    for (const slot of this.tombstones) {
      if (this.table.lsn(slot) > lsn) continue;
      const key = this.table.key(slot);
      this.index.remove(slot, hashKey(key, 0, key.length));
      this.table.release(slot);
      this.tombstones.delete(slot);
      dropped = true;
    }
    // Before any slot is reused: a released slot reused first would be in the order twice.
    if (dropped) this.order.dropReleased();
    // Every entry of a released slot is at or before `lsn` (its last change, the delete, is): none survives
    // to point at the slot once it is reused.
    this.log.dropThrough(lsn);
  }

  private logChange(slot: number, lsn: number): void {
    this.log.push(slot, lsn);
    // Stale entries dropped, so the log never holds more than one entry per slot (amortised O(1)).
    if (this.log.length > 2 * this.index.size + 1024) this.log.retain((s, at) => this.table.lsn(s) === at);
  }
}

/**
 * The runs whose value bytes the slices use at least half of the buffer the run's values are a view of
 * (mapped to undefined: not adopted yet). That buffer stays alive as long as one value points into it: a
 * decoded run's holds its offsets, LSNs, timestamps and keys too, and adopting a run the slices barely use
 * would keep all of it for a few values (small records: 24 bytes of columns for 22 of data).
 */
function worthAdopting(slices: readonly RunSlice[]): Map<SortedRun, number | undefined> {
  const used = new Map<SortedRun, number>();
  for (const { run, start, end } of slices) {
    used.set(run, (used.get(run) ?? 0) + run.valueStarts[end]! - run.valueStarts[start]!);
  }
  const worth = new Map<SortedRun, number | undefined>();
  for (const [run, bytes] of used)
    if (2 * bytes >= run.valueBytes.buffer.byteLength) worth.set(run, undefined);
  return worth;
}
