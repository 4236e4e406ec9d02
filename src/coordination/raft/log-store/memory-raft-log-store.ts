import type { Snapshot } from '../core';
import { LogState } from './log-state';
import type { RaftLogStore, RaftLogUpdate, StoredRaftState } from './raft-log-store';
import { storeClosed } from './store-closed';
import { checkSnapshotShape } from './value-checks';

/** What survives a crash: shared by a store and the one its `crash()` returns. */
interface MemoryDisk {
  readonly log: LogState;
  snapshot: Snapshot | undefined;
}

type Lifecycle = 'new' | 'open' | 'closed' | 'crashed';

const REFUSAL: Record<Lifecycle, string> = {
  new: 'is not open: call load() first',
  open: 'is open',
  closed: 'is closed',
  crashed: 'crashed',
};

/**
 * A RaftLogStore in memory, for the deterministic simulation; it accepts and refuses exactly what the file
 * store does (both check against LogState).
 *
 * Crash model: a save is atomic and durable the moment it is called (it is applied whole before its
 * promise resolves), so what a resolved save wrote is always kept, and there are no unsynced writes to
 * lose. `crash()` is the process dying: this instance then refuses every call with CLOSED (the dead node's
 * late saves change nothing), and the instance it returns, over the same stored state, is what the
 * restarted node opens (and `load()`s).
 */
export class MemoryRaftLogStore implements RaftLogStore {
  private state: Lifecycle = 'new';

  constructor(private readonly disk: MemoryDisk = { log: new LogState(), snapshot: undefined }) {}

  async load(): Promise<StoredRaftState> {
    this.refuseIf('closed', 'crashed');
    this.state = 'open';
    const { log, snapshot } = this.disk;
    return { hardState: log.hardState, snapshot, entries: log.entries.slice() };
  }

  async save(update: RaftLogUpdate): Promise<void> {
    this.refuseIf('new', 'closed', 'crashed');
    if (update.snapshot) checkSnapshotShape(update.snapshot);
    this.disk.log.checkChange(update);
    this.disk.log.applyChange(update);
    if (update.snapshot) this.disk.snapshot = update.snapshot;
  }

  async compact(snapshot: Snapshot): Promise<void> {
    this.refuseIf('new', 'closed', 'crashed');
    this.disk.log.checkCompaction(snapshot);
    this.disk.log.dropThrough(snapshot);
    this.disk.snapshot = snapshot;
  }

  async close(): Promise<void> {
    if (this.state !== 'crashed') this.state = 'closed';
  }

  /** Kills this instance; returns the store the restarted node opens, holding every save made so far. */
  crash(): MemoryRaftLogStore {
    this.state = 'crashed';
    return new MemoryRaftLogStore(this.disk);
  }

  private refuseIf(...states: Lifecycle[]): void {
    if (states.includes(this.state)) throw storeClosed(REFUSAL[this.state]);
  }
}
