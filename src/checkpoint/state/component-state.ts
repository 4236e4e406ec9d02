import type { SortedRun } from '../run/run-types';
import { SlicedComponent } from '../run/sliced-component';
import type { ComponentDelta, DeltaRecord, StateRecord } from './state-types';
import { SlotTable } from './slot-table';
import { SortedKeyIndex } from './sorted-key-index';

/**
 * The state of one component, plus what is needed to say what changed since an LSN:
 * - per key a slot of a SlotTable (flat memory: its live value or its tombstone, with LSN and timestamp),
 *   found by the key's latin1 string;
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
  private readonly slotOf = new Map<string, number>();
  private readonly table = new SlotTable();
  private readonly order = new SortedKeyIndex();
  private readonly tombstones = new Set<number>();
  private logSlots: number[] = [];
  private logLsns: number[] = [];
  private clearedAt: { lsn: number; timestamp: number } | undefined;
  private live = 0;

  constructor(readonly componentId: string) {}

  get liveKeys(): number {
    return this.live;
  }

  /** Entries of the change log deltas are cut from: kept within 2 per live key plus a fixed slack. */
  get changeLogLength(): number {
    return this.logSlots.length;
  }

  /** Keys and values are copied (the WAL hands out views into its read chunks). */
  put(key: Buffer, value: Buffer, lsn: number, timestamp: number): void {
    const id = key.toString('latin1');
    let slot = this.slotOf.get(id);
    const changedInThisEntry = slot !== undefined && this.table.lsn(slot) === lsn;
    if (slot === undefined) {
      slot = this.table.add(key);
      this.slotOf.set(id, slot);
      this.order.add(id);
      this.live++;
    } else if (this.table.isDead(slot)) {
      this.tombstones.delete(slot);
      this.live++;
    }
    this.table.setValue(slot, value, lsn, timestamp);
    if (!changedInThisEntry) this.logChange(slot, lsn);
  }

  delete(key: Buffer, lsn: number, timestamp: number): void {
    const slot = this.slotOf.get(key.toString('latin1'));
    if (slot === undefined || this.table.isDead(slot)) return;
    const changedInThisEntry = this.table.lsn(slot) === lsn;
    this.table.setDead(slot, lsn, timestamp);
    this.tombstones.add(slot);
    this.live--;
    if (!changedInThisEntry) this.logChange(slot, lsn);
  }

  clear(lsn: number, timestamp: number): void {
    this.slotOf.clear();
    this.table.reset();
    this.order.reset();
    this.tombstones.clear();
    this.logSlots = [];
    this.logLsns = [];
    this.live = 0;
    this.clearedAt = { lsn, timestamp };
  }

  /** Loads a checkpointed record (sorted input, unique keys). */
  load(record: StateRecord): void {
    const id = record.key.toString('latin1');
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      slot = this.table.add(record.key);
      this.slotOf.set(id, slot);
      this.order.add(id);
      this.live++;
    }
    this.table.setValue(slot, record.value, record.lsn, record.timestamp);
  }

  /** Live records in key byte order, as objects over views of the state's bytes (which never change). */
  records(): StateRecord[] {
    const out = new Array<StateRecord>(this.live);
    let n = 0;
    for (const id of this.order.keys()) {
      const slot = this.slotOf.get(id) as number;
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
    let keyBytes = 0;
    let valueBytes = 0;
    for (const id of this.order.keys()) {
      const slot = this.slotOf.get(id) as number;
      if (this.table.isDead(slot)) continue;
      slots[n++] = slot;
      keyBytes += this.table.keyBytes(slot);
      valueBytes += this.table.valueBytes(slot);
    }
    if (n === 0) return new SlicedComponent(this.componentId, []);
    const run: SortedRun = {
      count: n,
      keyBytes: Buffer.allocUnsafe(keyBytes),
      keyStarts: new Uint32Array(n + 1),
      valueBytes: Buffer.allocUnsafe(valueBytes),
      valueStarts: new Uint32Array(n + 1),
      deletes: undefined,
      lsns: new Float64Array(n),
      timestamps: new Float64Array(n),
    };
    let keyAt = 0;
    let valueAt = 0;
    for (let i = 0; i < n; i++) {
      const slot = slots[i]!;
      keyAt += this.table.copyKey(slot, run.keyBytes, keyAt);
      valueAt += this.table.copyValue(slot, run.valueBytes, valueAt);
      run.keyStarts[i + 1] = keyAt;
      run.valueStarts[i + 1] = valueAt;
      run.lsns[i] = this.table.lsn(slot);
      run.timestamps[i] = this.table.timestamp(slot);
    }
    return new SlicedComponent(this.componentId, [{ run, start: 0, end: n }]);
  }

  /** The changes over `(lsn, now]`: the last clear after `lsn`, then each changed key's last change. */
  changesSince(lsn: number): ComponentDelta {
    const records: DeltaRecord[] = [];
    const slots = this.logSlots;
    const lsns = this.logLsns;
    const table = this.table;
    for (let i = firstAfter(lsns, lsn); i < slots.length; i++) {
      const slot = slots[i] as number;
      // Stale entry: the key changed again later.
      if (table.lsn(slot) !== lsns[i]) continue;
      const key = table.key(slot);
      const at = { lsn: table.lsn(slot), timestamp: table.timestamp(slot) };
      records.push(
        table.isDead(slot)
          ? { op: 'delete', key, ...at }
          : { op: 'put', key, value: table.value(slot), ...at },
      );
    }
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
      this.slotOf.delete(this.table.key(slot).toString('latin1'));
      this.table.release(slot);
      this.tombstones.delete(slot);
      dropped = true;
    }
    if (dropped) this.order.retain((id) => this.slotOf.has(id));
    // Every entry of a released slot is at or before `lsn` (its last change, the delete, is): none survives
    // to point at the slot once it is reused.
    const start = firstAfter(this.logLsns, lsn);
    if (start > 0) {
      this.logSlots = this.logSlots.slice(start);
      this.logLsns = this.logLsns.slice(start);
    }
  }

  private logChange(slot: number, lsn: number): void {
    this.logSlots.push(slot);
    this.logLsns.push(lsn);
    if (this.logSlots.length > 2 * this.slotOf.size + 1024) this.compactLog();
  }

  /** Drops stale entries, so the log never holds more than one entry per slot (amortised O(1)). */
  private compactLog(): void {
    const slots: number[] = [];
    const lsns: number[] = [];
    for (let i = 0; i < this.logSlots.length; i++) {
      const slot = this.logSlots[i] as number;
      if (this.table.lsn(slot) === this.logLsns[i]) {
        slots.push(slot);
        lsns.push(this.logLsns[i] as number);
      }
    }
    this.logSlots = slots;
    this.logLsns = lsns;
  }
}

/** Index of the first element of the ascending `lsns` that is greater than `lsn`. */
function firstAfter(lsns: readonly number[], lsn: number): number {
  let lo = 0;
  let hi = lsns.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((lsns[mid] as number) <= lsn) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
