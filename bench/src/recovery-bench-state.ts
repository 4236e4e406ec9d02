/**
 * The state the recovery benchmark recovers, and the stores it is written to.
 *
 * A windowed stream job's state, deterministic for a target size:
 *   - 4 window operators (`window_processor_{1..4}`), keys `window:{op}:{windowStartMs, 13 digits}:user-{6
 *     digits}` (34 B; byte order is time order), values a window pane: count u32, pad, sum/min/max f64, then
 *     1–29 events of (timestamp f64, amount f64) — 48–496 B, ~270 B on average;
 *   - 2 aggregators (`aggregator_{1,2}`), keys `aggregate:{a}:user-{6 digits}` (23 B), values 64 B (eight f64);
 *   - base: the newest 20 one-minute windows of every group, the group count chosen for the target size;
 *   - 3 incrementals, one minute apart: the oldest window evicted (deletes), the newest window updated for
 *     half of the groups, a new window opened for the other half, 30% of the aggregates updated.
 * LSNs are small on purpose — the full checkpoint is at LSN 40,000 and each incremental 5,000 later — so a
 * real WAL can hold every LSN up to the newest checkpoint and 10,000 entries past it (the point-in-time case).
 */
import type { BlockCodec } from '../../src/checkpoint/block/codecs';
import { CheckpointCatalog } from '../../src/checkpoint/catalog/catalog';
import type { Manifest } from '../../src/checkpoint/manifest/manifest';
import { CheckpointMerger } from '../../src/checkpoint/merge';
import type {
  ComponentDelta,
  ComponentSnapshot,
  Delta,
  DeltaRecord,
  Snapshot,
  StateRecord,
} from '../../src/checkpoint/state/state-types';
import {
  writeFullCheckpoint,
  writeIncrementalCheckpoint,
  type CheckpointWriteContext,
} from '../../src/checkpoint/write/checkpoint-writer';
import type { ObjectStore } from '../../src/storage';

export const PREFIX = 'bench';
export const NODE_ID = 'node-1';
export const OPERATORS = 4;
export const AGGREGATORS = 2;
export const WINDOWS = 20;
export const INCREMENTALS = 3;
export const WINDOW_MS = 60_000;
const BASE_LSN = 40_000;
const STEP = 5_000;
export const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);
export const micros = (lsn: number): number => T0 * 1000 + lsn * 1000;

export interface RecoveryWorkload {
  base: Snapshot;
  deltas: Delta[];
  /** Key + value bytes of the base. */
  baseBytes: number;
  baseRecords: number;
  deltaRecords: number;
  groups: number;
  meanKeyBytes: number;
  meanValueBytes: number;
}

/** mulberry32: the same state every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keys and values are views into large slabs, as decoded blocks hand them out. */
export class Slab {
  private buffer = Buffer.allocUnsafe(0);
  private used = 0;
  take(size: number): Buffer {
    if (this.used + size > this.buffer.length) {
      this.buffer = Buffer.allocUnsafe(Math.max(size, 16 * 1024 * 1024));
      this.used = 0;
    }
    const view = this.buffer.subarray(this.used, this.used + size);
    this.used += size;
    return view;
  }
  text(s: string): Buffer {
    const b = this.take(s.length);
    b.write(s, 0, 'latin1');
    return b;
  }
}

const user = (g: number): string => `user-${String(g).padStart(6, '0')}`;
export const windowKey = (op: number, start: number, g: number): string =>
  `window:${op}:${String(start).padStart(13, '0')}:${user(g)}`;
export const aggKey = (a: number, g: number): string => `aggregate:${a}:${user(g)}`;

export function pane(slab: Slab, rand: () => number, start: number): Buffer {
  const events = 1 + Math.floor(rand() * 29);
  const b = slab.take(32 + 16 * events);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let e = 0; e < events; e++) {
    const amount = Math.round(rand() * 10_000) / 100;
    sum += amount;
    min = Math.min(min, amount);
    max = Math.max(max, amount);
    b.writeDoubleLE(start + Math.floor(rand() * WINDOW_MS), 32 + 16 * e);
    b.writeDoubleLE(amount, 40 + 16 * e);
  }
  b.writeUInt32LE(events, 0);
  b.writeUInt32LE(0, 4);
  b.writeDoubleLE(sum, 8);
  b.writeDoubleLE(min, 16);
  b.writeDoubleLE(max, 24);
  return b;
}

export function aggregate(slab: Slab, rand: () => number): Buffer {
  const b = slab.take(64);
  const count = 1 + Math.floor(rand() * 1000);
  const fields = [count, count * rand() * 50, rand(), 100 + rand() * 100, rand() * 50, rand() * 100, T0, 0];
  fields.forEach((f, i) => b.writeDoubleLE(f, 8 * i));
  return b;
}

/** The workload for about `targetBytes` of key + value bytes in the base. */
export function generateRecoveryWorkload(targetBytes: number): RecoveryWorkload {
  const rand = prng(7);
  const slab = new Slab();
  const groups = Math.max(50, Math.round(targetBytes / (WINDOWS * OPERATORS * 305)));
  const total = OPERATORS * WINDOWS * groups + AGGREGATORS * groups;
  let n = 0;
  const baseLsn = () => 1 + Math.floor((n++ * (BASE_LSN - 1)) / total);
  const components = new Map<string, ComponentSnapshot>();
  let keyBytes = 0;
  let valueBytes = 0;
  const add = (records: StateRecord[], key: Buffer, value: Buffer) => {
    const lsn = baseLsn();
    records.push({ key, value, lsn, timestamp: micros(lsn) });
    keyBytes += key.length;
    valueBytes += value.length;
  };
  for (let op = 1; op <= OPERATORS; op++) {
    const records: StateRecord[] = [];
    for (let w = 0; w < WINDOWS; w++) {
      const start = T0 + w * WINDOW_MS;
      for (let g = 0; g < groups; g++)
        add(records, slab.text(windowKey(op, start, g)), pane(slab, rand, start));
    }
    components.set(`window_processor_${op}`, { componentId: `window_processor_${op}`, records });
  }
  for (let a = 1; a <= AGGREGATORS; a++) {
    const records: StateRecord[] = [];
    for (let g = 0; g < groups; g++) add(records, slab.text(aggKey(a, g)), aggregate(slab, rand));
    components.set(`aggregator_${a}`, { componentId: `aggregator_${a}`, records });
  }

  const deltas: Delta[] = [];
  let deltaRecords = 0;
  for (let i = 0; i < INCREMENTALS; i++) {
    const fromLsn = BASE_LSN + i * STEP;
    const changes = new Map<string, ComponentDelta>();
    const evicted = T0 + i * WINDOW_MS;
    const newest = T0 + (WINDOWS - 1 + i) * WINDOW_MS;
    const opened = newest + WINDOW_MS;
    const finish = (id: string, records: DeltaRecord[]) => {
      // LSNs spread over (fromLsn, fromLsn + STEP], rising with the key (any order would do).
      records.forEach((r, k) => {
        r.lsn = fromLsn + 1 + Math.floor((k * (STEP - 1)) / Math.max(1, records.length));
        r.timestamp = micros(r.lsn);
      });
      changes.set(id, { componentId: id, records });
      deltaRecords += records.length;
    };
    for (let op = 1; op <= OPERATORS; op++) {
      const records: DeltaRecord[] = [];
      // Ascending key order: the evicted window, then the newest, then the one opened.
      for (let g = 0; g < groups; g++)
        records.push({ op: 'delete', key: slab.text(windowKey(op, evicted, g)), lsn: 0, timestamp: 0 });
      for (let g = 1; g < groups; g += 2) {
        const value = pane(slab, rand, newest);
        records.push({ op: 'put', key: slab.text(windowKey(op, newest, g)), value, lsn: 0, timestamp: 0 });
      }
      for (let g = 0; g < groups; g += 2) {
        const value = pane(slab, rand, opened);
        records.push({ op: 'put', key: slab.text(windowKey(op, opened, g)), value, lsn: 0, timestamp: 0 });
      }
      finish(`window_processor_${op}`, records);
    }
    for (let a = 1; a <= AGGREGATORS; a++) {
      const records: DeltaRecord[] = [];
      for (let g = 0; g < groups; g++) {
        if (rand() >= 0.3) continue;
        const value = aggregate(slab, rand);
        records.push({ op: 'put', key: slab.text(aggKey(a, g)), value, lsn: 0, timestamp: 0 });
      }
      finish(`aggregator_${a}`, records);
    }
    deltas.push({ fromLsn, toLsn: fromLsn + STEP, components: changes });
  }
  return {
    base: { lsn: BASE_LSN, components },
    deltas,
    baseBytes: keyBytes + valueBytes,
    baseRecords: total,
    deltaRecords,
    groups,
    meanKeyBytes: keyBytes / total,
    meanValueBytes: valueBytes / total,
  };
}

export interface WrittenChain {
  catalog: CheckpointCatalog;
  manifests: Manifest[];
  /** Stored bytes of the chain's blocks (full + incrementals). */
  storedBytes: number;
  blocks: number;
  writeSeconds: number;
}

/** Writes the base as a full checkpoint and the deltas as its incrementals, into `store`. */
export async function writeChain(
  store: ObjectStore,
  workload: RecoveryWorkload,
  codec: BlockCodec,
): Promise<WrittenChain> {
  const started = performance.now();
  const catalog = new CheckpointCatalog();
  const context: CheckpointWriteContext = {
    store,
    prefix: PREFIX,
    catalog,
    nodeId: NODE_ID,
    fencingToken: 0,
    codec,
    blocks: { codec, compressionThreshold: 1024, enableDeduplication: true, concurrency: 4 },
  };
  const manifests = [await writeFullCheckpoint(context, workload.base, micros(workload.base.lsn))];
  const merger = new CheckpointMerger({ mergeStrategy: 'sequential' });
  for (let i = 0; i < workload.deltas.length; i++) {
    const delta = workload.deltas[i]!;
    const state = await merger.mergeIncrementals(workload.base, workload.deltas.slice(0, i + 1));
    const parent = catalog.require(manifests[manifests.length - 1]!.checkpointId);
    manifests.push(await writeIncrementalCheckpoint(context, parent, delta, state, micros(delta.toLsn)));
  }
  let storedBytes = 0;
  let blocks = 0;
  for (const m of manifests) {
    for (const c of Object.values(m.components)) {
      blocks += c.blocks.length;
      for (const b of c.blocks) storedBytes += b.storedBytes;
    }
  }
  return { catalog, manifests, storedBytes, blocks, writeSeconds: (performance.now() - started) / 1000 };
}
