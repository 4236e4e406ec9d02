/**
 * The throughput figures' peer: how fast this disk takes the leader's batches with no Raft around them.
 * `raw`: the SAVE record FileRaftLogStore would write for a batch (encoded by its own encoder), appended with
 * writeSync + fdatasyncSync in a loop. `store`: FileRaftLogStore.save of the same batches, one after another,
 * without the network. Each in a fresh temporary directory, removed afterwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Entry } from '../../src/coordination/raft/core';
import { FileRaftLogStore } from '../../src/coordination/raft/log-store/file-raft-log-store';
import type { RaftLogUpdate } from '../../src/coordination/raft/log-store/raft-log-store';
import { SaveRecordEncoder } from '../../src/coordination/raft/log-store/save-record-encoder';
import type { Percentiles } from './cluster-bench-protocol';
import { percentiles } from './cluster-bench-stats';

export interface DiskRun {
  /** Entries per save (one write + one fdatasync). */
  batch: number;
  recordBytes: number;
  saves: number;
  seconds: number;
  savesPerSec: number;
  entriesPerSec: number;
  /** One save, ms. */
  saveMs: Percentiles;
}

/** A save as the leader makes it: `batch` entries of `commandBytes` after `index`, and a new commit index. */
function update(index: number, batch: number, commandBytes: number): RaftLogUpdate {
  const data = Buffer.alloc(commandBytes, 0x61);
  const entries: Entry[] = Array.from({ length: batch }, (_, i) => ({
    term: 1,
    index: index + 1 + i,
    kind: 'normal',
    data,
  }));
  return { entries, hardState: { term: 1, vote: 'n1', commit: index } };
}

async function inTempDir<T>(root: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.promises.mkdtemp(path.join(root, 'tidemark-bench-disk-'));
  try {
    return await fn(dir);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

function run(batch: number, recordBytes: number, times: number[], seconds: number): DiskRun {
  return {
    batch,
    recordBytes,
    saves: times.length,
    seconds,
    savesPerSec: times.length / seconds,
    entriesPerSec: (times.length * batch) / seconds,
    saveMs: percentiles(times),
  };
}

export async function rawDisk(
  root: string,
  batch: number,
  commandBytes: number,
  millis: number,
): Promise<DiskRun> {
  const record = Buffer.from(new SaveRecordEncoder().encode(update(0, batch, commandBytes)));
  return inTempDir(root, async (dir) => {
    const fd = fs.openSync(path.join(dir, 'log'), 'w');
    const times: number[] = [];
    const started = performance.now();
    try {
      while (performance.now() - started < millis) {
        const t0 = performance.now();
        fs.writeSync(fd, record);
        fs.fdatasyncSync(fd);
        times.push(performance.now() - t0);
      }
    } finally {
      fs.closeSync(fd);
    }
    return run(batch, record.length, times, (performance.now() - started) / 1000);
  });
}

export async function storeAlone(
  root: string,
  batch: number,
  commandBytes: number,
  millis: number,
): Promise<DiskRun> {
  const recordBytes = new SaveRecordEncoder().encode(update(0, batch, commandBytes)).length;
  return inTempDir(root, async (dir) => {
    const store = new FileRaftLogStore(dir);
    await store.load();
    const times: number[] = [];
    let index = 0;
    const started = performance.now();
    try {
      while (performance.now() - started < millis) {
        // Built outside the timed call, as the driver hands the store entries it already holds.
        const next = update(index, batch, commandBytes);
        const t0 = performance.now();
        await store.save(next);
        times.push(performance.now() - t0);
        index += batch;
      }
    } finally {
      await store.close();
    }
    return run(batch, recordBytes, times, (performance.now() - started) / 1000);
  });
}
