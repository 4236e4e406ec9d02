/**
 * Checkpoint benchmark (`npm run bench:checkpoint`, figures to bench/results/checkpoint.json): on the
 * realistic window/aggregate state of merge-bench.ts (see its header and docs/checkpoint-merge.md):
 *   - full checkpoint write throughput to the local-directory store (MB/s of logical state), per codec;
 *   - compression savings per codec: 1 − stored / logical bytes (goal ≥ 80%);
 *   - bytes PUT by a second full checkpoint after 5% of the keys changed — the newest windows, as a
 *     stream's open windows change — as a share of the first checkpoint's stored bytes (goal ≤ 10%);
 *   - merge throughput: runs the merge benchmark and copies its figures (goal ≥ 500 MB/s);
 *   - per generator of state-generators.ts (windows — the state above —, JSON events, small records): the
 *     figures of checkpoint-bench-generators.ts, each beside the same run's machine limit and Redis.
 * A benchmark, not a test: nothing asserts speed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CheckpointCatalog } from '../../src/checkpoint/catalog/catalog';
import type { Snapshot } from '../../src/checkpoint/state/state-types';
import { StateMaterializer } from '../../src/checkpoint/state/state-materializer';
import { writeFullCheckpoint } from '../../src/checkpoint/write/checkpoint-writer';
import { LocalFileStore } from '../../src/storage';
import {
  GENERATOR_GOALS,
  measureGenerator,
  printGeneratorSummary,
  type GeneratorFigures,
} from './checkpoint-bench-generators';
import { runChainMergeBench } from './chain-merge-bench';
import { generateMergeWorkload, runMergeBench } from './merge-bench';
import { changeNewest, GENERATOR_KINDS } from './state-generators';
import { benchWriteContext, closeBenchEncoder, encoderName } from './bench-encoder';

export interface CheckpointBenchOptions {
  out?: string;
  quick?: boolean;
  /** Where the local store goes (default: a temporary directory). */
  dir?: string;
}

function logicalBytes(snapshot: Snapshot): number {
  let bytes = 0;
  for (const component of snapshot.components.values()) {
    for (const record of component.records) bytes += record.key.length + record.value.length;
  }
  return bytes;
}

/** Every codec on the windows state, and the 5% change with zstd: the bench's first figures. */
async function measureCodecs(options: CheckpointBenchOptions, quick: boolean) {
  const workload = generateMergeWorkload(quick ? 20e6 : 100e6);
  const state = workload.base;
  const stateBytes = logicalBytes(state);
  console.log(
    `checkpoint bench: state ${(stateBytes / 1e6).toFixed(1)} MB logical in ${workload.baseRecords} records`,
  );

  const writes: Record<string, unknown>[] = [];
  let dedup: Record<string, unknown> | undefined;
  // Full checkpoints are written as the system writes them: from a snapshot of the materialised state
  // (copied out of the slot tables, timed with the write); the state is materialised before the clock starts.
  const materializer = StateMaterializer.fromSnapshot(state);
  for (const codec of ['zstd', 'lz4', 'snappy', 'none'] as const) {
    const root = fs.mkdtempSync(path.join(options.dir ?? os.tmpdir(), 'tidemark-cp-bench-'));
    try {
      const store = new LocalFileStore({ basePath: root, syncWrites: true });
      const catalog = new CheckpointCatalog();
      const started = performance.now();
      const first = await writeFullCheckpoint(
        benchWriteContext(store, catalog, codec),
        materializer.snapshot(),
        0,
      );
      const seconds = (performance.now() - started) / 1000;
      const savings = 1 - first.stats.storedBytes / stateBytes;
      writes.push({
        codec,
        seconds,
        mbPerSec: stateBytes / 1e6 / seconds,
        logicalBytes: stateBytes,
        storedBytes: first.stats.storedBytes,
        blocks: first.stats.newBlocks,
        compressionSavings: savings,
        savingsGoalMet: savings >= 0.8,
      });
      console.log(
        `full checkpoint, ${codec.padEnd(6)} ${(stateBytes / 1e6 / seconds).toFixed(0).padStart(5)} MB/s, saves ${(savings * 100).toFixed(1)}% (goal ≥ 80%)`,
      );
      if (codec === 'zstd') {
        const second = await writeFullCheckpoint(
          benchWriteContext(store, catalog, codec),
          changeNewest(state, 0.05),
          0,
        );
        const share = second.stats.newBytes / first.stats.storedBytes;
        dedup = {
          changedShare: 0.05,
          newBytes: second.stats.newBytes,
          firstStoredBytes: first.stats.storedBytes,
          share,
          newBlocks: second.stats.newBlocks,
          reusedBlocks: second.stats.reusedBlocks,
          goalMet: share <= 0.1,
        };
        console.log(
          `full checkpoint after 5% of keys changed writes ${(share * 100).toFixed(1)}% again (goal ≤ 10%)`,
        );
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }

  return { stateBytes, records: workload.baseRecords, writes, dedup };
}

export async function runCheckpointBench(options: CheckpointBenchOptions = {}): Promise<void> {
  const quick = options.quick ?? false;
  const out = options.out ?? path.join('bench', 'results', 'checkpoint.json');
  const loadAverageAtStart = os.loadavg();
  const encoder = encoderName();
  console.log(`checkpoint blocks are encoded on ${encoder}`);
  const codecs = await measureCodecs(options, quick);
  const generators: GeneratorFigures[] = [];
  for (const kind of GENERATOR_KINDS) {
    generators.push(await measureGenerator(kind, quick ? 20e6 : 100e6, options.dir ?? os.tmpdir()));
  }
  const merge = await runMergeBench({ quick, out: path.join(path.dirname(out), 'merge.json') });
  const chainMerge = await runChainMergeBench({
    quick,
    dir: options.dir,
    out: path.join(path.dirname(out), 'merge-chain.json'),
  });
  const result = {
    benchmark: 'checkpoint',
    date: new Date().toISOString(),
    quick,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      node: process.version,
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg(),
    },
    state: {
      logicalBytes: codecs.stateBytes,
      records: codecs.records,
      generator: 'bench/src/merge-bench.ts',
    },
    encoder,
    goals: { mergeMbPerSec: 500, compressionSavings: 0.8, bytesAfterFivePercentChange: 0.1 },
    fullCheckpointWrites: codecs.writes,
    dedupAfterFivePercentChange: codecs.dedup,
    merge: merge.results,
    chainMerge: chainMerge.results,
    generatorGoals: GENERATOR_GOALS,
    generators,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  printGeneratorSummary(generators);
  console.log(`figures written to ${out}`);
  await closeBenchEncoder();
}
