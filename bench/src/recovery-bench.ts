/**
 * `npm run bench:recovery` (figures to bench/results/recovery.json): recovery
 * throughput of logical state (key + value bytes recovered per second of recoverTo) on this machine.
 *   1. a realistic state (recovery-bench-state.ts; 256 MB logical, 32 MB with --quick) written as a full
 *      checkpoint + 3 incrementals to a local store, per codec (zstd; lz4 and none);
 *   2. recoverTo({checkpointId: newest}) with 1 and 2 threads, prefetch none / sequential / adaptive,
 *      verification standard (full and basic once): wall, CPU, MB/s, blocks/s, median of 3 — and where
 *      the time goes: the engine's phases (progress reports, a GET-timing store) and each piece called
 *      directly over the same blocks (recovery-bench-phases.ts);
 *   3. the same from s3rver (64 MB, 8 MB with --quick; skipped when s3rver is not installed);
 *   4. point in time: recoverTo({lsn}) 10,000 entries past the newest checkpoint, the WAL from local
 *      segments and from uploaded packs, and the replay alone in entries/s.
 * A benchmark, not a test: nothing asserts speed.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_BLOCK_WORKER } from '../../src/recovery/block-pool';
import { LocalFileStore, type ObjectStore } from '../../src/storage';
import {
  collectGarbage,
  runEngineCase,
  TimedStore,
  type EngineCase,
  type EngineCaseResult,
} from './recovery-bench-engine';
import { blockFilesOf, readDecompressLimit } from './codec-limits';
import { measurePieces } from './recovery-bench-phases';
import {
  GOAL_MB_PER_SEC,
  printRecoverySummary,
  type ChainFigures,
  type RecoveryBenchDocument,
  type StateFigures,
} from './recovery-bench-report';
import {
  generateRecoveryWorkload,
  PREFIX,
  writeChain,
  type RecoveryWorkload,
  type WrittenChain,
} from './recovery-bench-state';
import { buildWal, measureWalReplay } from './recovery-bench-wal';
import { startS3rver } from './tiering-bench-servers';
import { s3rverTarget } from './tiering-bench-upload';

export interface RecoveryBenchOptions {
  quick?: boolean;
  /** JSON result file (default bench/results/recovery.json, relative to the working directory). */
  out?: string;
  /** Where the temporary stores and WAL go (default: the OS temporary directory). */
  dir?: string;
}

const RUNS = 3;
const ENTRIES_PAST = 10_000;
const PREFETCH = ['none', 'sequential', 'adaptive'] as const;

function stateFigures(w: RecoveryWorkload): StateFigures {
  return {
    logicalBytes: w.baseBytes,
    keys: w.baseRecords,
    meanKeyBytes: w.meanKeyBytes,
    meanValueBytes: w.meanValueBytes,
    incrementals: w.deltas.length,
    deltaRecords: w.deltaRecords,
  };
}

function chainFigures(store: ChainFigures['store'], codec: string, chain: WrittenChain): ChainFigures {
  return {
    store,
    codec,
    checkpointIds: chain.manifests.map((m) => m.checkpointId),
    newestLsn: chain.manifests[chain.manifests.length - 1]!.lsn,
    storedBytes: chain.storedBytes,
    blocks: chain.blocks,
    writeSeconds: chain.writeSeconds,
  };
}

const newest = (chain: WrittenChain) => chain.manifests[chain.manifests.length - 1]!;

function localCases(codec: string): EngineCase[] {
  const c = (
    threads: number,
    prefetch: EngineCase['prefetch'],
    verification: EngineCase['verification'],
  ) => ({
    name: `${codec}, ${threads} thread${threads > 1 ? 's' : ''}, ${prefetch}, ${verification}`,
    store: 'local' as const,
    codec,
    threads,
    prefetch,
    verification,
    target: 'checkpoint' as const,
  });
  if (codec !== 'zstd') return [c(1, 'adaptive', 'standard'), c(2, 'adaptive', 'standard')];
  return [
    ...[1, 2].flatMap((threads) => PREFETCH.map((p) => c(threads, p, 'standard'))),
    c(2, 'adaptive', 'full'),
    c(2, 'adaptive', 'basic'),
  ];
}

/** The same run's read + decompress limit over the chain's block files, beside the best 2-thread recovery. */
async function measureLimit(doc: RecoveryBenchDocument, codec: string, dir: string, chain: WrittenChain) {
  const cases = doc.local.cases.filter(
    (c) => c.codec === codec && c.threads === 2 && c.verification === 'standard',
  );
  const best = cases.reduce<EngineCaseResult | undefined>(
    (a, c) => (a && a.mbPerSec >= c.mbPerSec ? a : c),
    undefined,
  );
  if (best === undefined) return;
  const limit = await readDecompressLimit(blockFilesOf(dir, PREFIX, chain.manifests), best.logicalBytes);
  const ratio = best.mbPerSec / limit.logicalMbPerSec;
  (doc.local.limits ??= []).push({ codec, limit, bestCase: best.name, bestMbPerSec: best.mbPerSec, ratio });
  console.log(
    `  limit (read + decompress, 2 threads): ${limit.logicalMbPerSec.toFixed(0)} MB/s; best ${ratio.toFixed(2)}×`,
  );
}

/** Sections 1, 2 and 4, on the local store; fills `doc`. */
async function runLocal(doc: RecoveryBenchDocument, root: string, quick: boolean): Promise<void> {
  let workload: RecoveryWorkload | undefined = generateRecoveryWorkload(quick ? 32e6 : 256e6);
  doc.state = stateFigures(workload);
  const { groups } = workload;
  console.log(
    `state generated: ${(workload.baseBytes / 1e6).toFixed(1)} MB logical, ${workload.baseRecords} keys, ` +
      `${workload.deltas.length} incrementals`,
  );
  const written: {
    codec: 'zstd' | 'lz4' | 'none';
    dir: string;
    store: LocalFileStore;
    chain: WrittenChain;
  }[] = [];
  for (const codec of ['zstd', 'lz4', 'none'] as const) {
    const dir = path.join(root, `store-${codec}`);
    const store = new LocalFileStore({ basePath: dir, syncWrites: false });
    const chain = await writeChain(store, workload, codec);
    doc.chains.push(chainFigures('local', codec, chain));
    written.push({ codec, dir, store, chain });
  }
  // The generated records are millions of objects a recovering node does not hold: kept alive, every
  // major collection during a recovery would mark them all (measured: half the bench's recovery speed).
  workload = undefined;
  collectGarbage();
  for (const { codec, dir, store, chain } of written) {
    try {
      const timed = new TimedStore(store);
      const target = { checkpointId: newest(chain).checkpointId };
      for (const spec of localCases(codec)) {
        const result = await runEngineCase(spec, {
          store: timed,
          catalog: chain.catalog,
          target,
          runs: RUNS,
        });
        doc.local.cases.push(result);
        console.log(`  ${spec.name}: ${result.mbPerSec.toFixed(0)} MB/s (${result.wallMs.toFixed(0)} ms)`);
      }
      await measureLimit(doc, codec, dir, chain);
      const pieces = await measurePieces(store, codec, chain.manifests, RUNS, codec === 'zstd');
      doc.local.pieces.push(pieces);
      console.log(`  pieces measured (${codec})`);
      if (codec === 'zstd') await runPointInTime(doc, root, store, { groups }, chain);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}

async function runPointInTime(
  doc: RecoveryBenchDocument,
  root: string,
  store: ObjectStore,
  workload: Pick<RecoveryWorkload, 'groups'>,
  chain: WrittenChain,
): Promise<void> {
  const checkpointLsn = newest(chain).lsn;
  const walDir = path.join(root, 'node');
  const bench = await buildWal(walDir, store, workload, checkpointLsn, ENTRIES_PAST);
  try {
    const timed = new TimedStore(store);
    const reference = doc.local.cases.find(
      (c) =>
        c.codec === 'zstd' && c.threads === 2 && c.prefetch === 'adaptive' && c.verification === 'standard',
    );
    const cases = [];
    for (const wal of ['local segments', 'uploaded packs'] as const) {
      const spec: EngineCase = {
        name: `zstd, 2 threads, adaptive, standard, to LSN ${bench.targetLsn}, WAL from ${wal}`,
        store: 'local',
        codec: 'zstd',
        threads: 2,
        prefetch: 'adaptive',
        verification: 'standard',
        target: 'lsn',
        wal,
      };
      const backend = wal === 'local segments' ? { wal: bench.wal } : { uploads: bench.uploads };
      const result = await runEngineCase(spec, {
        store: timed,
        catalog: chain.catalog,
        target: { lsn: bench.targetLsn },
        backend,
        runs: RUNS,
      });
      const walReplayInEngineMs = result.phases.walPhaseMs - (reference?.phases.walPhaseMs ?? 0);
      cases.push({
        ...result,
        walReplayInEngineMs,
        walEntriesPerSecInEngine: (result.walEntries * 1000) / Math.max(walReplayInEngineMs, 1e-3),
      });
      console.log(`  ${spec.name}: ${result.wallMs.toFixed(0)} ms`);
    }
    const replay = [];
    for (const source of ['local segments', 'uploaded packs'] as const) {
      replay.push(await measureWalReplay(store, bench, checkpointLsn, source, RUNS));
    }
    doc.pointInTime = {
      checkpointLsn,
      targetLsn: bench.targetLsn,
      entries: ENTRIES_PAST,
      entryBytes: bench.entryBytes,
      cases,
      replay,
    };
  } finally {
    await bench.wal.close();
    await bench.uploads.close();
    await fs.rm(walDir, { recursive: true, force: true });
  }
}

/** Section 3: a smaller state written to s3rver and recovered from it. */
async function runS3rver(doc: RecoveryBenchDocument, quick: boolean): Promise<void> {
  const started = await startS3rver();
  if ('skipped' in started) {
    doc.s3rver.skipped = started.skipped;
    return;
  }
  try {
    const target = await s3rverTarget(started.server.url, 8 * 1024 * 1024);
    try {
      const workload = generateRecoveryWorkload(quick ? 8e6 : 64e6);
      doc.s3rver.state = stateFigures(workload);
      const chain = await writeChain(target.store, workload, 'zstd');
      doc.chains.push(chainFigures('s3rver', 'zstd', chain));
      const timed = new TimedStore(target.store);
      const specs: EngineCase[] = [
        [1, 'adaptive'],
        [2, 'adaptive'],
        [2, 'sequential'],
      ].map(([threads, prefetch]) => ({
        name: `s3rver zstd, ${threads} thread${threads === 1 ? '' : 's'}, ${prefetch}, standard`,
        store: 's3rver',
        codec: 'zstd',
        threads: threads as number,
        prefetch: prefetch as EngineCase['prefetch'],
        verification: 'standard',
        target: 'checkpoint',
      }));
      for (const spec of specs) {
        const result = await runEngineCase(spec, {
          store: timed,
          catalog: chain.catalog,
          target: { checkpointId: newest(chain).checkpointId },
          runs: RUNS,
        });
        doc.s3rver.cases.push(result);
        console.log(`  ${spec.name}: ${result.mbPerSec.toFixed(0)} MB/s (${result.wallMs.toFixed(0)} ms)`);
      }
    } finally {
      await target.close();
    }
  } finally {
    await started.server.stop();
  }
}

function scaling(cases: readonly EngineCaseResult[]): RecoveryBenchDocument['local']['scaling'] {
  const find = (threads: number) =>
    cases.find(
      (c) =>
        c.codec === 'zstd' &&
        c.prefetch === 'adaptive' &&
        c.verification === 'standard' &&
        c.threads === threads,
    );
  const one = find(1);
  const two = find(2);
  if (!one || !two) return undefined;
  return {
    codec: 'zstd',
    prefetch: 'adaptive',
    oneThreadMbPerSec: one.mbPerSec,
    twoThreadsMbPerSec: two.mbPerSec,
    factor: two.mbPerSec / one.mbPerSec,
  };
}

function bounds(doc: RecoveryBenchDocument): RecoveryBenchDocument['local']['bounds'] {
  const zstd = doc.local.pieces.find((p) => p.codec === 'zstd');
  if (!zstd) return undefined;
  const ms = (name: string) => zstd.pieces.find((p) => p.name.startsWith(name))?.ms ?? 0;
  // Since block format 2 the calling thread only merges slices; decoding is the block workers' work.
  const mainThreadMs = ms('mergeRunComponent') + ms('slice order check');
  const oneThreadMs = mainThreadMs + ms('openBlock') + ms('decodeRun');
  return {
    mainThreadMs,
    mainThreadCeilingMbPerSec: zstd.logicalBytes / 1e3 / mainThreadMs,
    oneThreadMs,
    oneThreadCeilingMbPerSec: zstd.logicalBytes / 1e3 / oneThreadMs,
  };
}

/** ms to sha256 64 MiB on this thread (best of 3): slower when other processes share the CPUs. */
function yardstick(): number {
  const data = Buffer.alloc(64 * 1024 * 1024, 7);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    createHash('sha256').update(data).digest();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

export async function runRecoveryBench(options: RecoveryBenchOptions = {}): Promise<void> {
  const quick = options.quick ?? false;
  const out = path.resolve(options.out ?? path.join('bench', 'results', 'recovery.json'));
  const base = options.dir ?? os.tmpdir();
  await fs.mkdir(base, { recursive: true });
  const root = await fs.mkdtemp(path.join(base, 'tidemark-recovery-bench-'));
  const cpus = os.cpus();
  const doc: RecoveryBenchDocument = {
    benchmark: 'recovery',
    date: new Date().toISOString(),
    quick,
    command: `npm run bench:recovery${quick ? ' -- --quick' : ''}  (node bench/dist/bench/src/main.js recovery${quick ? ' --quick' : ''})`,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      totalMemoryBytes: os.totalmem(),
      platform: os.platform(),
      arch: os.arch(),
      node: process.version,
      loadAverageAtStart: os.loadavg(),
      yardstickMsAtStart: yardstick(),
      workerFile: DEFAULT_BLOCK_WORKER,
      workerFileExists: existsSync(DEFAULT_BLOCK_WORKER),
    },
    goal: {
      mbPerSec: GOAL_MB_PER_SEC,
      of: 'logical bytes (keys + values) recovered ÷ median wall time of recoverTo',
    },
    state: { logicalBytes: 0, keys: 0, meanKeyBytes: 0, meanValueBytes: 0, incrementals: 0, deltaRecords: 0 },
    chains: [],
    local: { cases: [], pieces: [] },
    s3rver: { cases: [] },
    notes: [],
  };
  const m = doc.machine;
  console.log(
    `bench recovery${quick ? ' (quick)' : ''}: ${m.cpus} CPUs (${m.cpuModel}), Node ${m.node}, ` +
      `load ${m.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}, yardstick ${m.yardstickMsAtStart.toFixed(0)} ms; block worker ${m.workerFileExists ? 'found' : 'MISSING'} at ${m.workerFile}`,
  );
  if (!m.workerFileExists)
    doc.notes.push(`block worker file missing (${m.workerFile}): every case decoded inline`);
  try {
    await runLocal(doc, root, quick);
    await runS3rver(doc, quick);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
  doc.machine.loadAverageAtEnd = os.loadavg();
  doc.machine.yardstickMsAtEnd = yardstick();
  doc.local.scaling = scaling(doc.local.cases);
  doc.local.bounds = bounds(doc);
  doc.notes.push(
    'local store: blocks are read from the page cache (written just before); a cold disk would add its read time',
    'the engine checks every block (crc32c, decompression, sha256) at every verification level: basic reads as much as standard',
    'CPU time is process.cpuUsage(): every thread of the process (main, block workers, libuv pool)',
  );
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(out, `${JSON.stringify(doc, null, 2)}\n`);
  console.log('');
  printRecoverySummary(doc);
  console.log(`figures written to ${out}`);
}
