import type { EntrySink } from '../../wal';
import type { ComponentState } from './component-state';

/**
 * Lays a WAL frame's entries onto the components as `parseEntries` walks them: keys and values are copied
 * straight from the frame's bytes into the slot tables, with no object per entry or change. Entries with
 * an index below `skipBelow` (applied before) are passed over. The keys' hashes come from the check pass
 * (FramePrefetcher), in the same order.
 */
export class FrameApplier implements EntrySink {
  private firstLsn = 0;
  private skipBelow = 0;
  private lsn = 0;
  private timestamp = 0;
  /** The component of the entry being parsed; undefined while skipping. */
  private state: ComponentState | undefined;
  private readonly recentIds: string[] = [];
  private readonly recentStates: ComponentState[] = [];
  private nextRecent = 0;
  /** The newest timestamp of the entries applied since `start`. */
  newestTimestamp = 0;
  /** The keys' hashes, in the order the frame names them (from the check pass), and the next one's index. */
  private hashes: Uint32Array = new Uint32Array(0);
  private nextHash = 0;

  constructor(private readonly componentOf: (componentId: string) => ComponentState) {}

  /** A frame whose first entry has LSN `firstLsn`; its first `skip` entries are passed over. */
  start(firstLsn: number, skip: number, hashes: Uint32Array): void {
    this.firstLsn = firstLsn;
    this.skipBelow = skip;
    this.newestTimestamp = 0;
    this.hashes = hashes;
    this.nextHash = 0;
  }

  begin(index: number, componentId: string, _sequence: number, timestamp: number): void {
    if (index < this.skipBelow) {
      this.state = undefined;
      return;
    }
    this.lsn = this.firstLsn + index;
    this.timestamp = timestamp;
    if (timestamp > this.newestTimestamp) this.newestTimestamp = timestamp;
    this.state = this.stateOf(componentId);
  }

  /** parseEntries hands the same string again for a recent id: found by identity, no Map lookup. */
  private stateOf(componentId: string): ComponentState {
    const ids = this.recentIds;
    for (let i = 0; i < ids.length; i++) if (ids[i] === componentId) return this.recentStates[i]!;
    const state = this.componentOf(componentId);
    const at = ids.length < RECENT ? ids.length : this.nextRecent;
    this.nextRecent = (at + 1) % RECENT;
    ids[at] = componentId;
    this.recentStates[at] = state;
    return state;
  }

  put(bytes: Buffer, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void {
    if (this.state === undefined) return;
    const hash = this.hashes[this.nextHash++]!;
    this.state.putRange(bytes, keyStart, keyEnd, bytes, valueStart, valueEnd, this.lsn, this.timestamp, hash);
  }

  delete(bytes: Buffer, keyStart: number, keyEnd: number): void {
    if (this.state === undefined) return;
    this.state.deleteRange(bytes, keyStart, keyEnd, this.lsn, this.timestamp, this.hashes[this.nextHash++]!);
  }

  clear(): void {
    this.state?.clear(this.lsn, this.timestamp);
  }

  metadata(): void {}

  end(): void {}
}

const RECENT = 8;
