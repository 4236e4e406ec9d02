/**
 * Merge benchmark: CheckpointMerger.mergeIncrementals on realistic generated state, in MB/s of logical
 * state (key + value bytes of the base), for `sequential` and for `optimal` with 1 and 2 worker threads.
 * Writes JSON (bench/results/merge.json). A benchmark, not a test: nothing here asserts speed.
 *
 *   npm run bench:merge [-- --quick]     (npm run bench:checkpoint runs it too)
 *
 * The generated state is what a windowed stream job holds (documented in docs/checkpoint-merge.md):
 *   - 4 window operators (`window_processor_{1..4}`), keys `window:{operator}:{windowStartMs}:{groupKey}`
 *     (windowStartMs zero-padded to 13 digits so byte order is time order; groupKey `user-{6 digits}`),
 *     values a window pane: count u32, pad, sum/min/max f64, then 1–6 recent events of (timestamp f64,
 *     amount f64) — 48–128 bytes;
 *   - 2 aggregators (`aggregator_{1,2}`), keys `agg:{groupKey}`, values 32 bytes: count, sum, min, max as
 *     f64;
 *   - base: one-minute tumbling windows, the most recent 20 windows for every group, the number of groups
 *     chosen so the base holds ~200 MB of key + value bytes (~19,500 groups; ~20 MB with `quick`);
 *   - 10 incrementals, each one minute later: a new window opened for half of the groups, the previous
 *     newest window updated for the other half, the oldest window evicted (deletes), and 30% of the
 *     aggregates updated. Values are recomputed panes, not random bytes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CheckpointMerger, type MergeStats } from '../../src/checkpoint/merge';
import type {
  ComponentDelta,
  ComponentSnapshot,
  Delta,
  DeltaRecord,
  Snapshot,
  StateRecord,
} from '../../src/checkpoint/state/state-types';

export interface MergeBenchOptions {
  /** JSON result file (default bench/results/merge.json, relative to the working directory). */
  out?: string;
  /** ~20 MB of state and one timed run per case instead of ~200 MB and three. */
  quick?: boolean;
}

export interface MergeBenchResult {
  name: string;
  strategy: 'sequential' | 'optimal';
  parallelThreads: number;
  runs: number;
  /** Median wall time of one mergeIncrementals. */
  seconds: number;
  mbPerSec: number;
  goalMet: boolean;
  stats: MergeStats | undefined;
}

const WINDOW_OPERATORS = 4;
const AGGREGATORS = 2;
const WINDOW_MS = 60_000;
/** One-minute windows the base holds per operator (the groups scale with the target size). */
const WINDOWS = 20;
const INCREMENTALS = 10;
const GOAL_MB_PER_SEC = 500;
const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);

/** A tiny deterministic PRNG (mulberry32): the same state every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes are written into large slabs and handed out as views, as a decoder of blocks would. */
class Slab {
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
    const b = this.take(Buffer.byteLength(s, 'latin1'));
    b.write(s, 0, 'latin1');
    return b;
  }
}

const groupKey = (g: number): string => `user-${String(g).padStart(6, '0')}`;
const windowKey = (op: number, start: number, g: number): string =>
  `window:${op}:${String(start).padStart(13, '0')}:${groupKey(g)}`;

function pane(slab: Slab, rand: () => number, start: number): Buffer {
  const events = 1 + Math.floor(rand() * 6);
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

function aggregate(slab: Slab, rand: () => number): Buffer {
  const b = slab.take(32);
  const count = 1 + Math.floor(rand() * 1000);
  b.writeDoubleLE(count, 0);
  b.writeDoubleLE(count * rand() * 50, 8);
  b.writeDoubleLE(rand(), 16);
  b.writeDoubleLE(100 + rand() * 100, 24);
  return b;
}

export interface MergeWorkload {
  base: Snapshot;
  deltas: Delta[];
  baseBytes: number;
  baseRecords: number;
  deltaRecords: number;
  windows: number;
  groups: number;
}

/** The generated workload (see the header comment), deterministic for a target size. */
export function generateMergeWorkload(targetBytes: number): MergeWorkload {
  const rand = prng(42);
  const slab = new Slab();
  // a window record is ~40 B key + ~88 B value; aggregates are a rounding error
  const windows = WINDOWS;
  const GROUPS = Math.max(100, Math.round(targetBytes / (128 * WINDOW_OPERATORS * WINDOWS)));
  const components = new Map<string, ComponentSnapshot>();
  let baseBytes = 0;
  let lsn = 0;
  const tick = (): number => ++lsn;
  const micros = (): number => T0 * 1000 + lsn;
  for (let op = 1; op <= WINDOW_OPERATORS; op++) {
    const records: StateRecord[] = [];
    for (let w = 0; w < windows; w++) {
      const start = T0 + w * WINDOW_MS;
      for (let g = 0; g < GROUPS; g++) {
        const key = slab.text(windowKey(op, start, g));
        const value = pane(slab, rand, start);
        records.push({ key, value, lsn: tick(), timestamp: micros() });
        baseBytes += key.length + value.length;
      }
    }
    components.set(`window_processor_${op}`, { componentId: `window_processor_${op}`, records });
  }
  for (let a = 1; a <= AGGREGATORS; a++) {
    const records: StateRecord[] = [];
    for (let g = 0; g < GROUPS; g++) {
      const key = slab.text(`agg:${groupKey(g)}`);
      const value = aggregate(slab, rand);
      records.push({ key, value, lsn: tick(), timestamp: micros() });
      baseBytes += key.length + value.length;
    }
    components.set(`aggregator_${a}`, { componentId: `aggregator_${a}`, records });
  }
  const base: Snapshot = { lsn, components };
  let baseRecords = 0;
  for (const c of components.values()) baseRecords += c.records.length;

  const deltas: Delta[] = [];
  let deltaRecords = 0;
  for (let i = 0; i < INCREMENTALS; i++) {
    const fromLsn = lsn;
    const changes = new Map<string, ComponentDelta>();
    const newest = T0 + (windows - 1 + i) * WINDOW_MS;
    const opened = newest + WINDOW_MS;
    const evicted = T0 + i * WINDOW_MS;
    for (let op = 1; op <= WINDOW_OPERATORS; op++) {
      const records: DeltaRecord[] = [];
      // ascending key order: evicted window, then the newest, then the opened one
      for (let g = 0; g < GROUPS; g++) {
        records.push({
          op: 'delete',
          key: slab.text(windowKey(op, evicted, g)),
          lsn: tick(),
          timestamp: micros(),
        });
      }
      for (let g = 1; g < GROUPS; g += 2) {
        const value = pane(slab, rand, newest);
        records.push({
          op: 'put',
          key: slab.text(windowKey(op, newest, g)),
          value,
          lsn: tick(),
          timestamp: micros(),
        });
      }
      for (let g = 0; g < GROUPS; g += 2) {
        const value = pane(slab, rand, opened);
        records.push({
          op: 'put',
          key: slab.text(windowKey(op, opened, g)),
          value,
          lsn: tick(),
          timestamp: micros(),
        });
      }
      changes.set(`window_processor_${op}`, { componentId: `window_processor_${op}`, records });
      deltaRecords += records.length;
    }
    for (let a = 1; a <= AGGREGATORS; a++) {
      const records: DeltaRecord[] = [];
      for (let g = 0; g < GROUPS; g++) {
        if (rand() >= 0.3) continue;
        const value = aggregate(slab, rand);
        records.push({
          op: 'put',
          key: slab.text(`agg:${groupKey(g)}`),
          value,
          lsn: tick(),
          timestamp: micros(),
        });
      }
      changes.set(`aggregator_${a}`, { componentId: `aggregator_${a}`, records });
      deltaRecords += records.length;
    }
    deltas.push({ fromLsn, toLsn: lsn, components: changes });
  }
  return { base, deltas, baseBytes, baseRecords, deltaRecords, windows, groups: GROUPS };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function runMergeBench(
  options: MergeBenchOptions = {},
): Promise<{ results: MergeBenchResult[] }> {
  const quick = options.quick ?? false;
  const out = options.out ?? path.join('bench', 'results', 'merge.json');
  const targetBytes = quick ? 20e6 : 200e6;
  const runs = quick ? 1 : 3;
  const genStart = performance.now();
  const workload = generateMergeWorkload(targetBytes);
  const generateSeconds = (performance.now() - genStart) / 1000;
  const mb = workload.baseBytes / 1e6;
  console.log(
    `merge bench: base ${mb.toFixed(1)} MB logical, ${workload.baseRecords} records; ${INCREMENTALS} incrementals, ${workload.deltaRecords} records (generated in ${generateSeconds.toFixed(1)} s)`,
  );

  const cases: { name: string; strategy: 'sequential' | 'optimal'; threads: number }[] = [
    { name: 'sequential', strategy: 'sequential', threads: 1 },
    { name: 'optimal, 1 thread', strategy: 'optimal', threads: 1 },
    { name: 'optimal, 2 threads', strategy: 'optimal', threads: 2 },
  ];
  const results: MergeBenchResult[] = [];
  let outputBytes = 0;
  for (const c of cases) {
    const merger = new CheckpointMerger({ mergeStrategy: c.strategy, parallelThreads: c.threads });
    try {
      await merger.mergeIncrementals(workload.base, workload.deltas); // warm-up: JIT, worker start
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const start = performance.now();
        const merged = await merger.mergeIncrementals(workload.base, workload.deltas);
        times.push((performance.now() - start) / 1000);
        if (outputBytes === 0) {
          for (const component of merged.components.values()) {
            for (const rec of component.records) outputBytes += rec.key.length + rec.value.length;
          }
        }
      }
      const seconds = median(times);
      const mbPerSec = mb / seconds;
      results.push({
        name: c.name,
        strategy: c.strategy,
        parallelThreads: c.threads,
        runs,
        seconds,
        mbPerSec,
        goalMet: mbPerSec >= GOAL_MB_PER_SEC,
        stats: merger.lastMergeStats,
      });
      console.log(
        `  ${c.name.padEnd(20)} ${(seconds * 1000).toFixed(1).padStart(8)} ms  ${mbPerSec.toFixed(0).padStart(7)} MB/s`,
      );
    } finally {
      await merger.close();
    }
  }

  const report = {
    benchmark: 'merge',
    date: new Date().toISOString(),
    quick,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      totalMemoryBytes: os.totalmem(),
      platform: os.platform(),
      arch: os.arch(),
      node: process.version,
    },
    workload: {
      windowOperators: WINDOW_OPERATORS,
      aggregators: AGGREGATORS,
      groups: workload.groups,
      windowsInBase: workload.windows,
      incrementals: INCREMENTALS,
      baseLogicalBytes: workload.baseBytes,
      baseRecords: workload.baseRecords,
      deltaRecords: workload.deltaRecords,
      outputLogicalBytes: outputBytes,
    },
    goal: { mbPerSec: GOAL_MB_PER_SEC, of: 'base logical bytes (keys + values) / median merge seconds' },
    results,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  return { results };
}
