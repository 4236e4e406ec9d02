import { performance } from 'node:perf_hooks';
import type {
  RaftLogStore,
  RaftLogUpdate,
  StoredRaftState,
} from '../../src/coordination/raft/log-store/raft-log-store';
import type { Snapshot } from '../../src/coordination/raft/core';
import type { StoreCounts } from './cluster-bench-protocol';
import { percentiles } from './cluster-bench-stats';

/**
 * A log store that counts what passes through it to the real one: how many saves (each one write and one
 * fdatasync in FileRaftLogStore) and entries the leader writes, so the disk peer can write the same batches.
 */
export class CountingStore implements RaftLogStore {
  private saves = 0;
  private entrySaves = 0;
  private entries = 0;
  private saveMs: number[] = [];
  private compactMs: number[] = [];

  constructor(private readonly inner: RaftLogStore) {}

  load(): Promise<StoredRaftState> {
    return this.inner.load();
  }

  async save(update: RaftLogUpdate): Promise<void> {
    const started = performance.now();
    await this.inner.save(update);
    this.saveMs.push(performance.now() - started);
    this.saves++;
    if (update.entries.length > 0) this.entrySaves++;
    this.entries += update.entries.length;
  }

  async compact(snapshot: Snapshot): Promise<void> {
    const started = performance.now();
    await this.inner.compact(snapshot);
    this.compactMs.push(performance.now() - started);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** What was counted since the last call. */
  take(): StoreCounts {
    const counts = {
      saves: this.saves,
      entrySaves: this.entrySaves,
      entries: this.entries,
      saveMs: percentiles(this.saveMs),
      compactMs: percentiles(this.compactMs),
    };
    this.saves = this.entrySaves = this.entries = 0;
    this.saveMs = [];
    this.compactMs = [];
    return counts;
  }
}
