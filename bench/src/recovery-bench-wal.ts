/**
 * The WAL of the point-in-time case: a real SegmentedWal whose LSNs line up with the checkpoints of
 * recovery-bench-state.ts, shipped to the store as packs; and the replay measured directly (entries/s read,
 * and read + folded into the engine's WalOverlay), from the local segments and from the uploaded packs.
 */
import * as path from 'node:path';
import { WalOverlay } from '../../src/recovery/wal-overlay';
import { coverWal, listRemotePacks, replayWal, type WalSources } from '../../src/recovery/wal-source';
import type { ObjectStore } from '../../src/storage';
import { SegmentShipper } from '../../src/tiering/segment-shipper';
import { UploadedSegments } from '../../src/wal/archive/uploaded-segments';
import { SegmentedWal, type LogEntry } from '../../src/wal';
import { collectGarbage, median } from './recovery-bench-engine';
import {
  AGGREGATORS,
  aggKey,
  aggregate,
  INCREMENTALS,
  micros,
  NODE_ID,
  OPERATORS,
  pane,
  PREFIX,
  prng,
  Slab,
  T0,
  WINDOW_MS,
  WINDOWS,
  windowKey,
  type RecoveryWorkload,
} from './recovery-bench-state';

export interface BenchWal {
  wal: SegmentedWal;
  uploads: UploadedSegments;
  /** The newest checkpoint's LSN + `entriesPast`. */
  targetLsn: number;
  /** Bytes of the entries past the checkpoint, as appended (keys + values). */
  entryBytes: number;
}

/**
 * A WAL in `dir` holding LSN 1 up to past the target: filler entries up to the checkpoint's LSN (never
 * replayed), `entriesPast` realistic entries after it — puts into the newest windows and the aggregates,
 * 1 in 16 a delete of an old window's key — then filler until the segment holding the target is sealed.
 * Every sealed segment is shipped to `store` as packs (recorded in `uploads`).
 */
export async function buildWal(
  dir: string,
  store: ObjectStore,
  workload: Pick<RecoveryWorkload, 'groups'>,
  checkpointLsn: number,
  entriesPast: number,
): Promise<BenchWal> {
  const wal = await SegmentedWal.open(path.join(dir, 'wal'), {
    segmentSize: 1024 * 1024,
    enableSync: false,
    preallocate: false,
    canDelete: () => false,
  });
  const rand = prng(11);
  const slab = new Slab();
  const sequences = new Map<string, number>();
  let lsn = wal.stats().lastLsn;
  const entry = (componentId: string, key: Buffer | string, value?: Buffer): LogEntry => {
    const sequence = (sequences.get(componentId) ?? 0) + 1;
    sequences.set(componentId, sequence);
    const change = value ? { op: 'put' as const, key, value } : { op: 'delete' as const, key };
    return { componentId, sequence, timestamp: micros(++lsn), changes: [change] };
  };
  const filler = (count: number) =>
    Array.from({ length: count }, () => entry('filler', `f:${lsn}`, slab.text('x'.repeat(16))));
  while (lsn < checkpointLsn) await wal.appendBatch(filler(Math.min(1000, checkpointLsn - lsn)));
  if (wal.stats().lastLsn !== checkpointLsn)
    throw new Error(`bench WAL is at LSN ${wal.stats().lastLsn}, expected ${checkpointLsn}`);

  const current = T0 + (WINDOWS + INCREMENTALS - 1) * WINDOW_MS;
  const oldest = T0 + INCREMENTALS * WINDOW_MS;
  let entryBytes = 0;
  for (let done = 0; done < entriesPast;) {
    const batch: LogEntry[] = [];
    for (; batch.length < 500 && done < entriesPast; done++) {
      const c = done % (OPERATORS + AGGREGATORS);
      const g = Math.floor(rand() * workload.groups);
      let e: LogEntry;
      if (c >= OPERATORS) {
        e = entry(`aggregator_${c - OPERATORS + 1}`, aggKey(c - OPERATORS + 1, g), aggregate(slab, rand));
      } else if (done % 16 === 15) {
        e = entry(`window_processor_${c + 1}`, windowKey(c + 1, oldest, g));
      } else {
        e = entry(`window_processor_${c + 1}`, windowKey(c + 1, current, g), pane(slab, rand, current));
      }
      const change = e.changes[0] as { key: string; value?: Buffer };
      entryBytes += change.key.length + (change.value?.length ?? 0);
      batch.push(e);
    }
    await wal.appendBatch(batch);
  }
  const targetLsn = checkpointLsn + entriesPast;
  while (!wal.segments().some((s) => s.sealed && s.lastLsn >= targetLsn)) await wal.appendBatch(filler(1000));

  const uploads = await UploadedSegments.open(dir);
  const shipper = new SegmentShipper(wal, store, uploads, {
    prefix: PREFIX,
    nodeId: NODE_ID,
    packTargetBytes: 4 * 1024 * 1024,
    maxPackDelayMs: 0,
    concurrency: 2,
  });
  await shipper.ship({ flush: true });
  return { wal, uploads, targetLsn, entryBytes };
}

export interface WalReplayResult {
  source: 'local segments' | 'uploaded packs';
  entries: number;
  /** Median ms to read (and check) the entries; and to read and apply them. */
  readMs: number;
  applyMs: number;
  readEntriesPerSec: number;
  applyEntriesPerSec: number;
  /** Packs or segments read. */
  objects: number;
}

/** Replays (checkpointLsn, targetLsn] from one source as the engine does (replayWal), `runs` times. */
export async function measureWalReplay(
  store: ObjectStore,
  bench: BenchWal,
  checkpointLsn: number,
  source: WalReplayResult['source'],
  runs: number,
): Promise<WalReplayResult> {
  const sources: WalSources =
    source === 'local segments'
      ? { store, prefix: PREFIX, nodeId: NODE_ID, wal: bench.wal }
      : { store, prefix: PREFIX, nodeId: NODE_ID, uploads: bench.uploads };
  const remote = source === 'local segments' ? [] : await listRemotePacks(sources);
  const coverage = coverWal(sources, remote, checkpointLsn + 1, bench.targetLsn);
  const once = async (apply: boolean) => {
    collectGarbage();
    const overlay = new WalOverlay();
    let entries = 0;
    const started = performance.now();
    for await (const record of replayWal(sources, coverage)) {
      if (apply) overlay.apply(record);
      entries++;
    }
    return { ms: performance.now() - started, entries };
  };
  const read: number[] = [];
  const applied: number[] = [];
  let entries = 0;
  for (let r = 0; r < runs; r++) {
    read.push((await once(false)).ms);
    const a = await once(true);
    applied.push(a.ms);
    entries = a.entries;
  }
  const readMs = median(read);
  const applyMs = median(applied);
  const objects =
    source === 'local segments'
      ? bench.wal.segments().filter((s) => s.lastLsn > checkpointLsn && s.firstLsn <= bench.targetLsn).length
      : coverage.remote.length;
  return {
    source,
    entries,
    readMs,
    applyMs,
    readEntriesPerSec: (entries * 1000) / readMs,
    applyEntriesPerSec: (entries * 1000) / applyMs,
    objects,
  };
}
