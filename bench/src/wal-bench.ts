/**
 * `npm run bench:wal`: WAL throughput and latency on this machine, beside the raw
 * limit of its disk measured in the same run. Prints a table and writes JSON (bench/results/wal.json).
 * A benchmark, not a test: nothing here asserts speed. See bench/README.md for what each figure means.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LogEntry } from '../../src/wal/entry';
import { SegmentedWal } from '../../src/wal';
import type { LatencySummary, WalOptions } from '../../src/wal/wal-options';
import { fmt, printTable, type LatencyFigures, type WalBenchResult } from './wal-bench-report';

export interface WalBenchOptions {
  /** Where the temporary directories go (default: the OS temp dir). Each measurement gets a fresh one. */
  dir?: string;
  /** JSON result file (default bench/results/wal.json, relative to the working directory). */
  out?: string;
  /** A much shorter run, to check the benchmark works; its figures are rough. */
  quick?: boolean;
}

/** Size of one raw record: about what one encoded ~100-byte-value entry takes in a frame. */
const RAW_RECORD_BYTES = 130;
const RAW_RECORDS_PER_SYNC = 1000;
const VALUE_BYTES = 100;
const BATCH_SIZE = 1000;
/** Components the entries are spread over; batch appenders own disjoint components. */
const COMPONENTS = 16;

const GOALS = { batch: 2_000_000, single: 500_000, singleP99Micros: 2000, noSync: 1_000_000 };

interface Budget {
  /** At most this many entries are pre-built for a measurement; it stops when they are used up… */
  entries: number;
  /** …or after this long. */
  millis: number;
}

function micros(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1000;
}

function percentiles(samples: Float64Array): LatencyFigures {
  if (samples.length === 0) return { p50Micros: 0, p99Micros: 0, maxMicros: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50Micros: at(0.5), p99Micros: at(0.99), maxMicros: sorted[sorted.length - 1]! };
}

async function inTempDir<T>(root: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.promises.mkdtemp(path.join(root, 'tidemark-bench-wal-'));
  try {
    return await fn(dir);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Raw disk: records written with plain writeSync, then one fdatasync, repeated. `perRecord` issues one
 * writeSync per record (the literal limit the WAL is compared with); otherwise one writeSync of all of them.
 */
interface RawRun {
  entries: number;
  seconds: number;
  entriesPerSec: number;
  /** Time of one write(s) + fdatasync cycle. */
  cycle: LatencyFigures;
}

async function rawDisk(
  root: string,
  budget: Budget,
  perRecord: boolean,
  recordsPerSync: number,
): Promise<RawRun> {
  return inTempDir(root, async (dir) => {
    const record = Buffer.alloc(RAW_RECORD_BYTES, 0x5a);
    const block = Buffer.alloc(RAW_RECORD_BYTES * recordsPerSync, 0x5a);
    const fd = fs.openSync(path.join(dir, 'raw.bin'), 'w');
    const cycles: number[] = [];
    let entries = 0;
    const started = performance.now();
    try {
      while (entries < budget.entries && performance.now() - started < budget.millis) {
        const t0 = process.hrtime.bigint();
        if (perRecord) for (let i = 0; i < recordsPerSync; i++) fs.writeSync(fd, record);
        else fs.writeSync(fd, block);
        fs.fdatasyncSync(fd);
        cycles.push(micros(t0));
        entries += recordsPerSync;
      }
    } finally {
      fs.closeSync(fd);
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      entries,
      seconds,
      entriesPerSec: entries / seconds,
      cycle: percentiles(Float64Array.from(cycles)),
    };
  });
}

/**
 * Pre-built entries (outside every timed region): batch j holds BATCH_SIZE entries of component
 * `bench.{j mod 16}` with rising sequences, so flattened in order the sequences rise per component, and
 * batch j can go to appender `j mod c` for any c dividing 16. Values share one 100-byte buffer.
 */
function buildPool(total: number): LogEntry[][] {
  const value = Buffer.alloc(VALUE_BYTES);
  for (let i = 0; i < VALUE_BYTES; i++) value[i] = (i * 131 + 7) & 0xff;
  const keys = Array.from({ length: 1024 }, (_, i) => `key-${i.toString(16).padStart(4, '0')}`);
  const sequences = new Array<number>(COMPONENTS).fill(0);
  const timestamp = Date.now() * 1000;
  const batches: LogEntry[][] = [];
  for (let j = 0; j * BATCH_SIZE < total; j++) {
    const c = j % COMPONENTS;
    const componentId = `bench.${c}`;
    const batch: LogEntry[] = new Array(BATCH_SIZE);
    for (let i = 0; i < BATCH_SIZE; i++) {
      const sequence = ++sequences[c]!;
      batch[i] = {
        componentId,
        sequence,
        timestamp,
        changes: [{ op: 'put', key: keys[sequence & 1023]!, value }],
      };
    }
    batches.push(batch);
  }
  return batches;
}

interface WalRun {
  entries: number;
  seconds: number;
  flushes: number;
  walFsync: LatencySummary;
  latencies?: Float64Array;
}

interface Timed {
  entries: number;
  seconds: number;
  latencies?: Float64Array;
}

/** A way of appending the pre-built `pool` until it is used up or `millis` have passed. */
type Workload = (wal: SegmentedWal, pool: LogEntry[][], millis: number) => Promise<Timed>;

async function withWal(
  root: string,
  options: Partial<WalOptions>,
  fn: (wal: SegmentedWal) => Promise<Timed>,
) {
  return inTempDir(root, async (dir): Promise<WalRun> => {
    // Old segments go as they did when the library deleted by default: a long run stays within the disk.
    const wal = await SegmentedWal.open(dir, { canDelete: () => true, ...options });
    try {
      const run = await fn(wal);
      const stats = wal.stats();
      return { ...run, flushes: stats.flushes, walFsync: stats.fsync };
    } finally {
      await wal.close();
    }
  });
}

/**
 * One measurement in a fresh WAL. A short calibration run first (its own fresh WAL; it also warms up the
 * JIT) estimates the rate, so that about `budget.millis` worth of entries is pre-built and no more: a pool
 * much larger than the run needs only slows every garbage collection inside the timed region.
 */
async function measure(
  root: string,
  options: Partial<WalOptions>,
  workload: Workload,
  budget: Budget,
  calibration: Budget,
): Promise<WalRun> {
  const probe = await withWal(root, options, (wal) =>
    workload(wal, buildPool(calibration.entries), calibration.millis),
  );
  const wanted = Math.ceil(((probe.entries / probe.seconds) * budget.millis * 1.3) / 1000);
  const pool = buildPool(Math.min(budget.entries, Math.max(calibration.entries, wanted)));
  return withWal(root, options, (wal) => workload(wal, pool, budget.millis));
}

/** `appenders` loops, each awaiting its own appendBatch before sending the next. */
function batchAppends(appenders: number): Workload {
  return async (wal, pool, millis) => {
    let entries = 0;
    const started = performance.now();
    const deadline = started + millis;
    await Promise.all(
      Array.from({ length: appenders }, async (_, a) => {
        for (let j = a; j < pool.length && performance.now() < deadline; j += appenders) {
          await wal.appendBatch(pool[j]!);
          entries += pool[j]!.length;
        }
      }),
    );
    return { entries, seconds: (performance.now() - started) / 1000 };
  };
}

/** Single appends with `inFlight` outstanding at all times; latency per append from call to resolve. */
function singleAppends(inFlight: number): Workload {
  return async (wal, pool, millis) => {
    const flat = pool.flat();
    const latencies = new Float64Array(flat.length);
    let next = 0;
    let done = 0;
    const started = performance.now();
    const deadline = started + millis;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        // Entries are taken in pool order in the same step as the call, so per component sequences rise.
        while (next < flat.length && performance.now() < deadline) {
          const entry = flat[next++]!;
          const t0 = process.hrtime.bigint();
          await wal.append(entry);
          latencies[done++] = micros(t0);
        }
      }),
    );
    return {
      entries: done,
      seconds: (performance.now() - started) / 1000,
      latencies: latencies.subarray(0, done),
    };
  };
}

export async function runWalBench(opts: WalBenchOptions = {}): Promise<void> {
  const quick = opts.quick ?? false;
  const root = opts.dir ?? os.tmpdir();
  const out = path.resolve(opts.out ?? path.join('bench', 'results', 'wal.json'));
  const millis = quick ? 300 : 3000;
  const rawBudget: Budget = { entries: quick ? 100_000 : 3_000_000, millis };
  const walBudget: Budget = { entries: quick ? 1_000_000 : 8_000_000, millis };
  const calibration: Budget = { entries: quick ? 20_000 : 100_000, millis: quick ? 100 : 300 };
  await fs.promises.mkdir(root, { recursive: true });

  console.log(`bench wal${quick ? ' (quick)' : ''}: ${os.cpus().length} CPUs, Node ${process.version}`);
  const results: WalBenchResult[] = [];
  const report = (r: WalBenchResult): void => {
    results.push(r);
    console.log(`  ${r.name}: ${fmt(r.entriesPerSec)} entries/s`);
  };

  // (a) The raw disk limit.
  const raw = await rawDisk(root, rawBudget, true, RAW_RECORDS_PER_SYNC);
  const rawLimit = raw.entriesPerSec;
  const rawRow = (name: string, r: RawRun, latency?: LatencyFigures): WalBenchResult => ({
    name,
    kind: 'raw',
    entries: r.entries,
    seconds: r.seconds,
    entriesPerSec: r.entriesPerSec,
    ratioToRaw: r.entriesPerSec / rawLimit,
    latency,
  });
  report(rawRow(`raw: ${RAW_RECORDS_PER_SYNC} × writeSync(${RAW_RECORD_BYTES} B) + fdatasync`, raw));
  const rawBlock = await rawDisk(root, rawBudget, false, RAW_RECORDS_PER_SYNC);
  report(rawRow(`raw: writeSync(${RAW_RECORDS_PER_SYNC} × ${RAW_RECORD_BYTES} B) + fdatasync`, rawBlock));
  // One record per fdatasync: the floor of a durable append's latency, and the most syncs/s the disk does.
  const rawOne = await rawDisk(root, { entries: rawBudget.entries, millis: quick ? 200 : 1000 }, true, 1);
  report(
    rawRow(`raw: writeSync(${RAW_RECORD_BYTES} B) + fdatasync, one record per sync`, rawOne, rawOne.cycle),
  );

  const walResult = (
    name: string,
    kind: WalBenchResult['kind'],
    run: WalRun,
    goal?: { text: string; met: (r: WalRun, perSec: number) => boolean },
    inFlight?: number,
  ): WalBenchResult => {
    const entriesPerSec = run.entries / run.seconds;
    return {
      name,
      kind,
      entries: run.entries,
      seconds: run.seconds,
      entriesPerSec,
      ratioToRaw: entriesPerSec / rawLimit,
      goal: goal?.text,
      goalMet: goal?.met(run, entriesPerSec),
      latency: run.latencies ? percentiles(run.latencies) : undefined,
      walFsync: kind === 'no-sync' ? undefined : run.walFsync,
      flushes: run.flushes,
      entriesPerFlush: run.flushes > 0 ? run.entries / run.flushes : undefined,
      inFlight,
    };
  };

  // (b) Durable batches of 1,000 entries, 1, 4 and 16 appenders.
  for (const appenders of [1, 4, 16]) {
    const run = await measure(root, { enableSync: true }, batchAppends(appenders), walBudget, calibration);
    report(
      walResult(
        `durable appendBatch(${BATCH_SIZE}), ${appenders} in flight`,
        'batch',
        run,
        { text: `≥ ${fmt(GOALS.batch)}`, met: (_r, s) => s >= GOALS.batch },
        appenders,
      ),
    );
  }

  // (c) Durable single appends, 256 in flight.
  const single = await measure(root, { enableSync: true }, singleAppends(256), walBudget, calibration);
  report(
    walResult(
      'durable append, 256 in flight',
      'single',
      single,
      {
        text: `≥ ${fmt(GOALS.single)}, p99 ≤ ${GOALS.singleP99Micros} µs`,
        met: (r, s) => s >= GOALS.single && percentiles(r.latencies!).p99Micros <= GOALS.singleP99Micros,
      },
      256,
    ),
  );

  // (d) Without fdatasync: single appends with many in flight, and batches.
  const noSyncSingle = await measure(
    root,
    { enableSync: false },
    singleAppends(1024),
    walBudget,
    calibration,
  );
  const noSyncGoal = { text: `≥ ${fmt(GOALS.noSync)}`, met: (_r: WalRun, s: number) => s >= GOALS.noSync };
  report(walResult('enableSync: false, append, 1024 in flight', 'no-sync', noSyncSingle, noSyncGoal, 1024));
  const noSyncBatch = await measure(root, { enableSync: false }, batchAppends(4), walBudget, calibration);
  report(
    walResult(
      `enableSync: false, appendBatch(${BATCH_SIZE}), 4 in flight`,
      'no-sync',
      noSyncBatch,
      noSyncGoal,
      4,
    ),
  );

  // (e) is the WAL fsync column: stats().fsync of each durable run, beside the raw fdatasync above.
  console.log('');
  printTable(results, rawLimit);
  console.log(
    `\nx raw = entries/s ÷ the raw limit (${fmt(rawLimit)} entries/s: ${RAW_RECORDS_PER_SYNC} writeSync calls of ` +
      `${RAW_RECORD_BYTES} B + one fdatasync). Raw fdatasync of one record: p50 ${fmt(rawOne.cycle.p50Micros)} µs, ` +
      `p99 ${fmt(rawOne.cycle.p99Micros)} µs.`,
  );

  const cpus = os.cpus();
  const document = {
    benchmark: 'wal',
    date: new Date().toISOString(),
    quick,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      totalMemoryBytes: os.totalmem(),
      platform: os.platform(),
      release: os.release(),
      arch: os.arch(),
      node: process.version,
      tempDir: root,
    },
    entry: { valueBytes: VALUE_BYTES, changesPerEntry: 1, components: COMPONENTS, batchSize: BATCH_SIZE },
    rawLimit: {
      entriesPerSec: rawLimit,
      recordBytes: RAW_RECORD_BYTES,
      recordsPerSync: RAW_RECORDS_PER_SYNC,
      fdatasyncOneRecord: rawOne.cycle,
    },
    goals: GOALS,
    results,
  };
  await fs.promises.mkdir(path.dirname(out), { recursive: true });
  await fs.promises.writeFile(out, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`written ${out}`);
}
