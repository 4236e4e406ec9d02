import type { ComponentDelta, DeltaRecord, StateRecord } from './state-types';
import { SortedKeyIndex } from './sorted-key-index';

/** A deleted key, remembered so that deltas can carry the delete. */
interface Tombstone {
  readonly key: Buffer;
  readonly value: null;
  readonly lsn: number;
  readonly timestamp: number;
}

/**
 * What a component holds per key: its live record or its tombstone. Slots are never mutated, only
 * replaced, so snapshots can hand out live slots as their StateRecords without copying.
 */
type Slot = Readonly<StateRecord> | Tombstone;

/**
 * The state of one component, plus what is needed to say what changed since an LSN:
 * - `clearedAt`: the last clear (a clear drops every slot, tombstones included: the clear marker says
 *   more than they could);
 * - a change log of (key, LSN) in LSN order, one entry per key and LSN, so `changesSince(c)` costs the
 *   changes after c, not the size of the state. Entries whose key changed again later are stale; they
 *   are skipped when read and compacted away when the log outgrows the state.
 *
 * A delete of a key that is not live changes nothing and records nothing: after a clear, or after its
 * tombstone was forgotten, the key is absent at every LSN a delta may start from.
 */
export class ComponentState {
  private readonly slots = new Map<string, Slot>();
  private readonly order = new SortedKeyIndex();
  private readonly tombstones = new Set<string>();
  private logKeys: string[] = [];
  private logLsns: number[] = [];
  private clearedAt: { lsn: number; timestamp: number } | undefined;
  private live = 0;

  constructor(readonly componentId: string) {}

  get liveKeys(): number {
    return this.live;
  }

  /** Entries of the change log deltas are cut from: kept within 2 per live key plus a fixed slack. */
  get changeLogLength(): number {
    return this.logKeys.length;
  }

  put(key: Buffer, value: Buffer, lsn: number, timestamp: number): void {
    const id = key.toString('latin1');
    const old = this.slots.get(id);
    // Copies: the WAL hands out views into its read chunks. An existing key keeps its key copy.
    const record: StateRecord = {
      key: old ? old.key : Buffer.from(key),
      value: Buffer.from(value),
      lsn,
      timestamp,
    };
    this.slots.set(id, record);
    if (!old) {
      this.order.add(id);
      this.live++;
    } else if (old.value === null) {
      this.tombstones.delete(id);
      this.live++;
    }
    this.logChange(id, old, lsn);
  }

  delete(key: Buffer, lsn: number, timestamp: number): void {
    const id = key.toString('latin1');
    const old = this.slots.get(id);
    if (!old || old.value === null) return;
    this.slots.set(id, { key: old.key, value: null, lsn, timestamp });
    this.tombstones.add(id);
    this.live--;
    this.logChange(id, old, lsn);
  }

  clear(lsn: number, timestamp: number): void {
    this.slots.clear();
    this.order.reset();
    this.tombstones.clear();
    this.logKeys = [];
    this.logLsns = [];
    this.live = 0;
    this.clearedAt = { lsn, timestamp };
  }

  /** Loads a checkpointed record (sorted input, unique keys, buffers owned by the caller from now on). */
  load(record: StateRecord): void {
    const id = record.key.toString('latin1');
    if (!this.slots.has(id)) {
      this.order.add(id);
      this.live++;
    }
    this.slots.set(id, {
      key: record.key,
      value: record.value,
      lsn: record.lsn,
      timestamp: record.timestamp,
    });
  }

  /** Live records in key byte order. The records are shared, read-only views of the state. */
  records(): StateRecord[] {
    const out = new Array<StateRecord>(this.live);
    let n = 0;
    for (const id of this.order.keys()) {
      const slot = this.slots.get(id) as Slot;
      if (slot.value !== null) out[n++] = slot as StateRecord;
    }
    return out;
  }

  /** The changes over `(lsn, now]`: the last clear after `lsn`, then each changed key's last change. */
  changesSince(lsn: number): ComponentDelta {
    const records: DeltaRecord[] = [];
    const keys = this.logKeys;
    const lsns = this.logLsns;
    for (let i = firstAfter(lsns, lsn); i < keys.length; i++) {
      const slot = this.slots.get(keys[i] as string);
      // Stale entry: the key changed again later (or its tombstone was forgotten).
      if (!slot || slot.lsn !== lsns[i]) continue;
      records.push(
        slot.value === null
          ? { op: 'delete', key: slot.key, lsn: slot.lsn, timestamp: slot.timestamp }
          : { op: 'put', key: slot.key, value: slot.value, lsn: slot.lsn, timestamp: slot.timestamp },
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
    for (const id of this.tombstones) {
      if ((this.slots.get(id) as Slot).lsn <= lsn) {
        this.slots.delete(id);
        this.tombstones.delete(id);
        dropped = true;
      }
    }
    if (dropped) this.order.retain((id) => this.slots.has(id));
    const start = firstAfter(this.logLsns, lsn);
    if (start > 0) {
      this.logKeys = this.logKeys.slice(start);
      this.logLsns = this.logLsns.slice(start);
    }
  }

  private logChange(id: string, old: Slot | undefined, lsn: number): void {
    // One log entry per key and LSN: a second change in the same entry reuses the first's.
    if (old && old.lsn === lsn) return;
    this.logKeys.push(id);
    this.logLsns.push(lsn);
    if (this.logKeys.length > 2 * this.slots.size + 1024) this.compactLog();
  }

  /** Drops stale entries, so the log never holds more than one entry per slot (amortised O(1)). */
  private compactLog(): void {
    const keys: string[] = [];
    const lsns: number[] = [];
    for (let i = 0; i < this.logKeys.length; i++) {
      const id = this.logKeys[i] as string;
      const slot = this.slots.get(id);
      if (slot && slot.lsn === this.logLsns[i]) {
        keys.push(id);
        lsns.push(slot.lsn);
      }
    }
    this.logKeys = keys;
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
