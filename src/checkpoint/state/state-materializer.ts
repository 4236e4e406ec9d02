import { invalidArgument } from '../../lib/errors';
import { parseEntries, type EntryFrame, type LogRecord } from '../../wal';
import { SlicedComponent, slicesOf } from '../run/sliced-component';
import { ComponentState } from './component-state';
import { FrameApplier } from './frame-applier';
import { FramePrefetcher } from './frame-prefetcher';
import { checkKeyOrder, checkStateSlices } from './key-order';
import type { ComponentDelta, ComponentSnapshot, Delta, Snapshot } from './state-types';

/**
 * The state of every component, built by applying the WAL in LSN order, and what changed since any
 * LSN at or after the forget horizon (the last committed checkpoint the owner told us about).
 *
 * Semantics (each property-tested against a naive replay of the log):
 * - `put` sets a key; `delete` of a live key removes it and leaves a tombstone (its LSN and timestamp);
 *   `delete` of a key that is not live changes nothing; `clear` drops every key and tombstone and
 *   records the clear.
 * - `deltaSince(c)`, per component: `clearedAt` = the last clear after c, if any; `records` = for each key
 *   changed after c (after that clear, if any), its last change as put or delete. Applying it to the
 *   state at c (clear → drop all; then the puts and deletes) gives the state now. A key deleted after
 *   a clear that follows c: if it was put again after the clear, its delete is carried (harmless,
 *   and a reader that merges deltas sees the last word on the key); if not, nothing is carried — the
 *   clear already removed it.
 * - `forgetBefore(L)` drops tombstones and clear markers at or before L; afterwards `deltaSince(c)`
 *   needs c ≥ L.
 *
 * Keys and values are copied on apply (WAL read views point into big chunks) into each component's flat
 * slot table (slot-table.ts): no object per key. A snapshot's components are runs of their own
 * (SlicedComponent: a copy, in key order); deltas' records are views of the state's bytes, which are never
 * modified. Keeping a snapshot or a delta while applying more is safe.
 */
export class StateMaterializer {
  private readonly components = new Map<string, ComponentState>();
  private lastLsn: number;
  private horizon: number;
  private applier: FrameApplier | undefined;
  private prefetcher: FramePrefetcher | undefined;

  constructor(lsn = 0) {
    if (!Number.isSafeInteger(lsn) || lsn < 0) throw invalidArgument(`lsn must be a non-negative integer`);
    this.lastLsn = lsn;
    this.horizon = lsn;
  }

  /**
   * Starts from a loaded checkpoint; its keys and values are copied. With `adopt` (for a snapshot nobody
   * else holds: a node's open), the runs of components held as slices — what loadCheckpointState returns —
   * are taken over without a copy where the slices use most of them: they must never change afterwards.
   */
  static fromSnapshot(snapshot: Snapshot, options: { adopt?: boolean } = {}): StateMaterializer {
    const materializer = new StateMaterializer(snapshot.lsn);
    for (const [componentId, component] of snapshot.components) {
      const state = materializer.component(componentId);
      if (component instanceof SlicedComponent) {
        checkStateSlices(component);
        state.loadSlices(component.slices, options.adopt ?? false);
        continue;
      }
      checkKeyOrder(componentId, component.records);
      // Its records copied into a run of its own, which nobody else holds: taken over as it is.
      state.loadSlices(slicesOf(component), true);
    }
    return materializer;
  }

  /** LSN of the last applied record (0: none, or the LSN of the snapshot it started from). */
  get lsn(): number {
    return this.lastLsn;
  }

  /** The LSN before which tombstones and clear markers were forgotten: `deltaSince` needs one ≥ it. */
  get forgottenBefore(): number {
    return this.horizon;
  }

  componentIds(): string[] {
    return [...this.components.keys()];
  }

  apply(record: LogRecord): void {
    const lsn = record.lsn;
    if (!Number.isSafeInteger(lsn) || lsn <= this.lastLsn) {
      throw invalidArgument(`records must be applied in rising LSN order: got ${lsn} after ${this.lastLsn}`, {
        lsn,
        lastLsn: this.lastLsn,
      });
    }
    const { componentId, timestamp, changes } = record.entry;
    const state = this.component(componentId);
    for (let c = 0; c < changes.length; c++) {
      const change = changes[c]!;
      if (change.op === 'put') state.put(change.key, change.value, lsn, timestamp);
      else if (change.op === 'delete') state.delete(change.key, lsn, timestamp);
      else state.clear(lsn, timestamp);
    }
    this.lastLsn = lsn;
  }

  /**
   * Applies the entries of a WAL frame with LSNs above `lsn` (earlier ones were applied: passed over),
   * parsing them in place. The frame is checked whole first: a malformed one changes nothing. Returns the
   * newest timestamp of the entries applied (0 if none).
   */
  applyFrame(frame: EntryFrame): number {
    const { bytes, start, end, count, firstLsn } = frame;
    if (!Number.isSafeInteger(firstLsn) || firstLsn < 1) {
      throw invalidArgument(`a frame's first LSN must be a positive integer: got ${firstLsn}`);
    }
    const skip = Math.max(0, this.lastLsn + 1 - firstLsn);
    if (skip >= count) return 0;
    // The check pass hashes the keys and loads their buckets; the apply pass then finds them cached.
    const prefetcher = (this.prefetcher ??= new FramePrefetcher((id) => this.components.get(id)));
    prefetcher.start(skip);
    parseEntries(bytes, start, end, count, prefetcher);
    prefetcher.touchAll();
    const applier = (this.applier ??= new FrameApplier((id) => this.component(id)));
    applier.start(firstLsn, skip, prefetcher.hashes);
    parseEntries(bytes, start, end, count, applier);
    this.lastLsn = firstLsn + count - 1;
    return applier.newestTimestamp;
  }

  applyAll(records: Iterable<LogRecord>): void {
    for (const record of records) this.apply(record);
  }

  /** The state of the given components (default: all known) as of `lsn`; unknown ones are empty. */
  snapshot(componentIds?: Iterable<string>): Snapshot {
    const components = new Map<string, ComponentSnapshot>();
    for (const id of componentIds ?? this.components.keys()) {
      components.set(id, this.components.get(id)?.snapshot() ?? new SlicedComponent(id, []));
    }
    return { lsn: this.lastLsn, components };
  }

  /** What changed over `(lsn, this.lsn]` in the given components (default: all known). */
  deltaSince(lsn: number, componentIds?: Iterable<string>): Delta {
    if (!Number.isSafeInteger(lsn) || lsn < this.horizon || lsn > this.lastLsn) {
      throw invalidArgument(
        `deltaSince(${lsn}): the LSN must lie in [${this.horizon}, ${this.lastLsn}] (changes before ` +
          `${this.horizon} were forgotten)`,
        { lsn, forgottenBefore: this.horizon, lastLsn: this.lastLsn },
      );
    }
    const components = new Map<string, ComponentDelta>();
    for (const id of componentIds ?? this.components.keys()) {
      components.set(id, this.components.get(id)?.changesSince(lsn) ?? { componentId: id, records: [] });
    }
    return { fromLsn: lsn, toLsn: this.lastLsn, components };
  }

  /** Call once a checkpoint at `lsn` is committed: tombstones and clears at or before it are dropped. */
  forgetBefore(lsn: number): void {
    if (!Number.isSafeInteger(lsn) || lsn < 0 || lsn > this.lastLsn) {
      throw invalidArgument(`forgetBefore(${lsn}): the LSN must lie in [0, ${this.lastLsn}]`, { lsn });
    }
    if (lsn <= this.horizon) return;
    for (const state of this.components.values()) state.forgetThrough(lsn);
    this.horizon = lsn;
  }

  /** How many change-log entries the state keeps per component (what deltas are cut from): bounded. */
  changeLogLength(componentId: string): number {
    return this.components.get(componentId)?.changeLogLength ?? 0;
  }

  private component(componentId: string): ComponentState {
    let state = this.components.get(componentId);
    if (!state) {
      state = new ComponentState(componentId);
      this.components.set(componentId, state);
    }
    return state;
  }
}
