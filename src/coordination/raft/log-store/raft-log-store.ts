import type { Entry, HardState, Snapshot } from '../core';

/** What a log store holds: entries continue from `snapshot.index + 1` (or from 1 without a snapshot). */
export interface StoredRaftState {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

/**
 * One save, applied in this order: `snapshot` (a leader's), then `entries`, then `hardState`. Entry data is
 * kept by reference (the memory store, and the file store for its compaction rewrite): do not change it
 * after saving.
 */
export interface RaftLogUpdate {
  hardState?: HardState;
  snapshot?: Snapshot;
  entries: readonly Entry[];
}

/** The durable store behind one Raft node (docs/raft-log-store.md). Calls are serialised by the store. */
export interface RaftLogStore {
  /**
   * (Re)opens the store and returns what it holds: a torn tail is cut, corruption before it refused with
   * CHECKSUM_MISMATCH (file and offset in the details) and nothing changed. Also the way back after a
   * failed save or compact.
   */
  load(): Promise<StoredRaftState>;
  /**
   * Durable before it resolves. `entries` replace the stored log from `entries[0].index` on; a `snapshot`
   * drops the entries up to its index, or all of them when the log does not hold its index with its term.
   * INVALID_ARGUMENT (nothing written) for an update that does not fit the log; after an I/O failure
   * (IO_ERROR, DISK_FULL) the store refuses saves until `load()` is called again.
   */
  save(update: RaftLogUpdate): Promise<void>;
  /** Stores the node's own snapshot of its applied state and drops the entries up to its index. */
  compact(snapshot: Snapshot): Promise<void>;
  close(): Promise<void>;
}
