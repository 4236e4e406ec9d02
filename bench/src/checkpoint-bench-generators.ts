/**
 * The checkpoint benchmark's figures for one generated state (state-generators.ts), each beside what it is
 * measured against in the same run:
 *   - full checkpoint write with zstd (local store, fsynced) in MB/s of logical state, from a materialiser's
 *     snapshot as the system writes it (the snapshot's copy timed with the write), against the parallel
 *     zstd-1 compression limit (codec-limits.ts; goal ≥ 0.6×), and against Redis SAVE (goal ≥ 3×);
 *   - compression savings with zstd, 1 − stored / logical (goal ≥ 80%);
 *   - a second full checkpoint after 5% of the keys changed: its new stored bytes as a share of the first's;
 *   - loading the checkpoint back into a materialiser (loadCheckpointState + StateMaterializer.fromSnapshot,
 *     what a node's open does before its log), against the read +
 *     decompress limit on its blocks (recovery's goal is ≥ 0.5× of it; bench:recovery measures recoverTo),
 *     and against Redis loading its RDB (goal ≥ 3×);
 *   - materialiser ingest from the WAL (materializer-ingest.ts; goal ≥ 300 MB/s of changes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CheckpointCatalog } from '../../src/checkpoint/catalog/catalog';
import { StateMaterializer } from '../../src/checkpoint/state/state-materializer';
import type { Snapshot } from '../../src/checkpoint/state/state-types';
import { describeState, writeFullCheckpoint } from '../../src/checkpoint/write/checkpoint-writer';
import {
  planMergedFull,
  writeMergedFull,
  type UnstoredComponentChanges,
} from '../../src/checkpoint/write/merged-full-writer';
import { MAX_TOUCHED_SHARE } from '../../src/checkpoint/write/full-checkpoint-writes';
import { RULE_LAST_WRITE_WINS } from '../../src/checkpoint/merge/conflict-resolution';
import { runFromRecords } from '../../src/checkpoint/run/sorted-run';
import { LocalFileStore } from '../../src/storage';
import {
  blockFilesOf,
  crc32cLimit,
  frameState,
  readDecompressLimit,
  zstdCompressLimit,
  type Limit,
} from './codec-limits';
import { loadInWorker } from './load-worker';
import { measureIngest, type IngestResult } from './materializer-ingest';
import { collectGarbage } from './recovery-bench-engine';
import { measureRedisPeer, type RedisPeerResult } from './redis-peer';
import { generateState, type GeneratorKind } from './state-generators';
import { benchWriteContext } from './bench-encoder';

export const GENERATOR_GOALS = {
  writeToZstd1Limit: 0.6,
  compressionSavings: 0.8,
  bytesAfterFivePercentChange: 0.1,
  recoveryToReadDecompressLimit: 0.5,
  timesRedis: 3,
  ingestMbPerSec: 300,
};

export interface GeneratorFigures {
  generator: GeneratorKind;
  state: { logicalBytes: number; records: number; components: Record<string, number> };
  limits: { zstd1Compression: Limit; readDecompress: Limit; crc32c: Limit };
  fullCheckpoint: {
    codec: 'zstd';
    seconds: number;
    mbPerSec: number;
    storedBytes: number;
    blocks: number;
    ratioToZstd1Limit: number;
  };
  compressionSavings: number;
  afterFivePercentChange: {
    changedRecords: number;
    newBytes: number;
    firstStoredBytes: number;
    share: number;
    newBlocks: number;
    reusedBlocks: number;
  };
  /** The same second full checkpoint written by block over the first (what the checkpoint system does). */
  afterFivePercentChangeByBlock: {
    seconds: number;
    newBytes: number;
    share: number;
    newBlocks: number;
    reusedBlocks: number;
    /** Base blocks the change touches, as a share of all. */
    touchedShare: number;
    /** Whether the checkpoint system takes this path for such a change (touchedShare ≤ MAX_TOUCHED_SHARE). */
    systemWritesByBlock: boolean;
  };
  /** seconds: loadCheckpointState + fromSnapshot; readSeconds: loadCheckpointState alone, in the same run. */
  load: {
    seconds: number;
    mbPerSec: number;
    readSeconds: number;
    /** The first of the runs, into memory new to the thread (as a node's one open is). */
    firstRunMbPerSec: number;
    ratioToReadDecompressLimit: number;
  };
  redis: RedisPeerResult | { skipped: string };
  ratioToRedis?: { writeToSave: number; loadToLoad: number };
  ingest: IngestResult;
}

const PREFIX = 'bench';

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
}

function changedRecords(before: Snapshot, after: Snapshot): number {
  let n = 0;
  for (const [id, c] of after.components) {
    const old = before.components.get(id)!.records;
    c.records.forEach((r, i) => (n += r === old[i] ? 0 : 1));
  }
  return n;
}

/**
 * In a store of its own (no deduplication against the whole write): the first full checkpoint, then a
 * full checkpoint of `changed` by block over it — the changed records as the materialiser's delta.
 */
async function fullByBlockAfterChange(root: string, before: Snapshot, after: Snapshot) {
  const store = new LocalFileStore({ basePath: root, syncWrites: true });
  const catalog = new CheckpointCatalog();
  const first = await writeFullCheckpoint(benchWriteContext(store, catalog), before, 0);
  const components = new Map<string, UnstoredComponentChanges>();
  for (const [id, component] of after.components) {
    const old = before.components.get(id)!.records;
    const puts = component.records.filter((r, i) => r !== old[i]).map((r) => ({ op: 'put' as const, ...r }));
    if (puts.length === 0) continue;
    components.set(id, { run: runFromRecords(puts), described: describeState(component) });
  }
  const unstored = { lsn: after.lsn, timestamp: 0, components };
  const merging = { ...benchWriteContext(store, catalog), rule: RULE_LAST_WRITE_WINS };
  let touchedShare = 0;
  const [merged, seconds] = await timed(async () => {
    const plan = await planMergedFull(merging, [first], unstored);
    touchedShare = plan.touchedBlocks / plan.baseBlocks;
    return writeMergedFull(merging, plan);
  });
  const s = merged.manifest.stats;
  return {
    seconds,
    newBytes: s.newBytes,
    newBlocks: s.newBlocks,
    reusedBlocks: s.reusedBlocks,
    touchedShare,
    // What the checkpoint system does with such a change.
    systemWritesByBlock: touchedShare <= MAX_TOUCHED_SHARE,
  };
}

export async function measureGenerator(
  kind: GeneratorKind,
  targetBytes: number,
  baseDir: string,
): Promise<GeneratorFigures> {
  const generated = generateState(kind, targetBytes);
  const { snapshot, logicalBytes } = generated;
  const components = Object.fromEntries([...snapshot.components].map(([id, c]) => [id, c.records.length]));
  console.log(
    `\n${kind}: ${(logicalBytes / 1e6).toFixed(1)} MB logical in ${generated.records} records ` +
      `(${Object.entries(components)
        .map(([id, n]) => `${id} ${n}`)
        .join(', ')})`,
  );

  const chunks = frameState(snapshot);
  const zstd1Compression = await zstdCompressLimit(chunks, logicalBytes);
  const crc32c = crc32cLimit(chunks, logicalBytes);
  chunks.length = 0;

  const root = fs.mkdtempSync(path.join(baseDir, 'tidemark-cp-gen-'));
  let figures: Omit<GeneratorFigures, 'redis' | 'ratioToRedis' | 'ingest'>;
  try {
    const store = new LocalFileStore({ basePath: root, syncWrites: true });
    const catalog = new CheckpointCatalog();
    // As the system takes a full checkpoint: a snapshot of the materialised state (one run per component,
    // copied out of the slot tables) written by block. The state is materialised before the clock starts:
    // a running node holds it already.
    let materializer: StateMaterializer | undefined = StateMaterializer.fromSnapshot(snapshot);
    collectGarbage();
    const [first, seconds] = await timed(() =>
      writeFullCheckpoint(benchWriteContext(store, catalog), materializer!.snapshot(), 0),
    );
    materializer = undefined;
    const stats = first.stats;
    const files = blockFilesOf(root, PREFIX, [first]);
    const readDecompress = await readDecompressLimit(files, logicalBytes);

    // What a node's open does before it replays its log: the checkpoint into a materialiser, ready for
    // writes — on a thread whose heap holds only that (load-worker.ts), the fastest of 3.
    const loadTimings = await loadInWorker({
      root,
      prefix: PREFIX,
      catalog: catalog.toData(),
      checkpointId: first.checkpointId,
      lsn: first.lsn,
      runs: 3,
    });
    const loadSeconds = loadTimings.seconds;

    const changed = generated.changed(0.05);
    const byBlock = await fullByBlockAfterChange(path.join(root, 'by-block'), snapshot, changed);
    const second = await writeFullCheckpoint(benchWriteContext(store, catalog), changed, 0);
    const mbPerSec = logicalBytes / 1e6 / seconds;
    const loadMbPerSec = logicalBytes / 1e6 / loadSeconds;
    figures = {
      generator: kind,
      state: { logicalBytes, records: generated.records, components },
      limits: { zstd1Compression, readDecompress, crc32c },
      fullCheckpoint: {
        codec: 'zstd',
        seconds,
        mbPerSec,
        storedBytes: stats.storedBytes,
        blocks: stats.newBlocks,
        ratioToZstd1Limit: mbPerSec / zstd1Compression.logicalMbPerSec,
      },
      compressionSavings: 1 - stats.storedBytes / logicalBytes,
      afterFivePercentChange: {
        changedRecords: changedRecords(snapshot, changed),
        newBytes: second.stats.newBytes,
        firstStoredBytes: stats.storedBytes,
        share: second.stats.newBytes / stats.storedBytes,
        newBlocks: second.stats.newBlocks,
        reusedBlocks: second.stats.reusedBlocks,
      },
      afterFivePercentChangeByBlock: { ...byBlock, share: byBlock.newBytes / stats.storedBytes },
      load: {
        seconds: loadSeconds,
        mbPerSec: loadMbPerSec,
        readSeconds: loadTimings.readSeconds,
        firstRunMbPerSec: logicalBytes / 1e6 / loadTimings.firstSeconds,
        ratioToReadDecompressLimit: loadMbPerSec / readDecompress.logicalMbPerSec,
      },
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  collectGarbage();
  const redis = await measureRedisPeer(snapshot, baseDir);
  const ratioToRedis =
    'skipped' in redis
      ? undefined
      : {
          writeToSave: figures.fullCheckpoint.mbPerSec / redis.saveMBps,
          loadToLoad: figures.load.mbPerSec / redis.loadMBps,
        };
  collectGarbage();
  const ingest = await measureIngest(snapshot, baseDir);
  const result: GeneratorFigures = { ...figures, redis, ...(ratioToRedis ? { ratioToRedis } : {}), ingest };
  printGenerator(result);
  return result;
}

function printGenerator(f: GeneratorFigures): void {
  const mb = (n: number) => `${n.toFixed(0).padStart(5)} MB/s`;
  const x = (n: number) => `${n.toFixed(2)}×`;
  const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
  const g = GENERATOR_GOALS;
  const { zstd1Compression: z, readDecompress: d, crc32c: c } = f.limits;
  console.log(
    `  limits: zstd-1 on 2 threads ${mb(z.logicalMbPerSec)}; read + decompress on 2 threads ` +
      `${mb(d.logicalMbPerSec)} (${mb(d.mbPerSec)} decompressed); crc32c ${mb(c.mbPerSec)} (logical MB/s ` +
      `but the last two)`,
  );
  console.log(
    `  full checkpoint, zstd ${mb(f.fullCheckpoint.mbPerSec)} = ${x(f.fullCheckpoint.ratioToZstd1Limit)} the zstd-1 limit (goal ≥ ${g.writeToZstd1Limit}×)`,
  );
  console.log(`  compression savings ${pct(f.compressionSavings)} (goal ≥ ${pct(g.compressionSavings)})`);
  console.log(
    `  after 5% of keys changed a full checkpoint writes ${pct(f.afterFivePercentChangeByBlock.share)} again by block ` +
      `(${f.afterFivePercentChangeByBlock.reusedBlocks} blocks reused, ${f.afterFivePercentChangeByBlock.newBlocks} new, ` +
      `${(f.afterFivePercentChangeByBlock.seconds * 1000).toFixed(0)} ms; touches ${pct(f.afterFivePercentChangeByBlock.touchedShare)} of the blocks: ` +
      `the system writes ${f.afterFivePercentChangeByBlock.systemWritesByBlock ? 'by block' : 'whole'}), ${pct(f.afterFivePercentChange.share)} whole ` +
      `(content-defined dedup alone) (goal ≤ ${pct(g.bytesAfterFivePercentChange)})`,
  );
  console.log(
    `  load (loadCheckpointState + fromSnapshot, best of 3; first ${mb(f.load.firstRunMbPerSec)}) ${mb(f.load.mbPerSec)} = ${x(f.load.ratioToReadDecompressLimit)} the read + decompress limit`,
  );
  if ('skipped' in f.redis) console.log(`  Redis: ${f.redis.skipped}`);
  else {
    const r = f.redis;
    console.log(
      `  Redis ${r.version}: SAVE ${mb(r.saveMBps)}, load ${mb(r.loadMBps)} (RDB ${(r.rdbBytes / 1e6).toFixed(1)} MB); ` +
        `Tidemark ${x(f.ratioToRedis!.writeToSave)} SAVE, ${x(f.ratioToRedis!.loadToLoad)} load (goal ≥ ${g.timesRedis}×)`,
    );
  }
  console.log(
    `  materialiser ingest from the WAL ${mb(f.ingest.mbPerSec)} (${(f.ingest.entriesPerSec / 1e3).toFixed(0)}k entries/s; read alone ${mb(f.ingest.readMbPerSec)}) = ${x(f.ingest.ratioToFreshCopy)} copying the changes into new buffers (${mb(f.ingest.freshCopyMbPerSec)}) (goal ≥ ${g.ingestMbPerSec} MB/s)`,
  );
}

/** One line per generator: every figure and its ratio, for the eye (the JSON has the rest). */
export function printGeneratorSummary(all: readonly GeneratorFigures[]): void {
  const head = [
    'generator',
    'MB',
    'write',
    '×zstd1',
    'saves',
    '5%→',
    'load',
    '×r+d',
    'R.save',
    '×',
    'R.load',
    '×',
    'ingest',
  ];
  const rows = all.map((f) => {
    const redis = 'skipped' in f.redis ? undefined : f.redis;
    return [
      f.generator,
      (f.state.logicalBytes / 1e6).toFixed(0),
      f.fullCheckpoint.mbPerSec.toFixed(0),
      f.fullCheckpoint.ratioToZstd1Limit.toFixed(2),
      `${(f.compressionSavings * 100).toFixed(1)}%`,
      `${(f.afterFivePercentChangeByBlock.share * 100).toFixed(1)}%`,
      f.load.mbPerSec.toFixed(0),
      f.load.ratioToReadDecompressLimit.toFixed(2),
      redis ? redis.saveMBps.toFixed(0) : '-',
      f.ratioToRedis ? f.ratioToRedis.writeToSave.toFixed(2) : '-',
      redis ? redis.loadMBps.toFixed(0) : '-',
      f.ratioToRedis ? f.ratioToRedis.loadToLoad.toFixed(2) : '-',
      f.ingest.mbPerSec.toFixed(0),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)));
  console.log('\nper generator (MB/s of logical state; × = ratio to the limit or to Redis beside it):');
  for (const cells of [head, ...rows]) console.log(`  ${line(cells).join('  ')}`);
  const g = GENERATOR_GOALS;
  console.log(
    `  goals: write ≥ ${g.writeToZstd1Limit}× zstd-1, saves ≥ ${g.compressionSavings * 100}%, 5%→ ≤ ` +
      `${g.bytesAfterFivePercentChange * 100}%, recovery ≥ ${g.recoveryToReadDecompressLimit}× r+d (bench:recovery), ` +
      `≥ ${g.timesRedis}× Redis, ingest ≥ ${g.ingestMbPerSec}`,
  );
}
