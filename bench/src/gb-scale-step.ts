/**
 * One step of the GB-scale benchmark (gb-scale.ts), run in a process of its own so that its peak RSS is
 * its own: `node gb-scale-step.js <step> <dir> <logical MB>`. Prints one JSON line.
 *   build          the merge bench's window state: a full checkpoint (timed), then an incremental with 5% of
 *                  each component's keys changed, the newest (local store with fsync, blocks on workers);
 *   merge-block    the chain merged into a full checkpoint by block;
 *   merge-whole    the same, whole: loadCheckpointState + writeFullCheckpoint;
 *   recover-whole  recoverTo the newest checkpoint, then the state written to a directory;
 *   recover-stream the same, streamed into the directory component by component.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { WorkerBlockEncoder } from '../../src/checkpoint/block/block-encoder';
import { CheckpointCatalog } from '../../src/checkpoint/catalog/catalog';
import { CatalogFile } from '../../src/checkpoint/catalog/catalog-file';
import { CheckpointMerger } from '../../src/checkpoint/merge';
import type { ComponentDelta, DeltaRecord } from '../../src/checkpoint/state/state-types';
import { loadCheckpointState, readManifest } from '../../src/checkpoint/write/checkpoint-reader';
import {
  writeFullCheckpoint,
  writeIncrementalCheckpoint,
  type CheckpointWriteContext,
} from '../../src/checkpoint/write/checkpoint-writer';
import { writeMergedFullCheckpoint } from '../../src/checkpoint/write/merged-full-writer';
import { StateDirectoryWriter, writeStateToDirectory } from '../../src/recovery/output/directory-writer';
import { RecoveryEngine } from '../../src/recovery/recovery-engine';
import { LocalFileStore } from '../../src/storage';
import { generateMergeWorkload } from './merge-bench';

const PREFIX = 'tidemark';

function context(
  dir: string,
  catalog: CheckpointCatalog,
  encoder: ReturnType<typeof WorkerBlockEncoder.create>,
) {
  const codec = 'zstd';
  const ctx: CheckpointWriteContext = {
    store: new LocalFileStore({ basePath: path.join(dir, 'store'), syncWrites: true }),
    prefix: PREFIX,
    catalog,
    nodeId: 'node-1',
    fencingToken: 0,
    codec,
    blocks: { codec, compressionThreshold: 1024, enableDeduplication: true, concurrency: 4, encoder },
  };
  return ctx;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
}

async function build(dir: string, logical: number) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const workload = generateMergeWorkload(logical);
  const base = workload.base;
  const encoder = WorkerBlockEncoder.create(2);
  const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
  const ctx = context(dir, catalog, encoder);
  const [full, seconds] = await timed(() => writeFullCheckpoint(ctx, base, 1));
  const components = new Map<string, ComponentDelta>();
  let lsn = base.lsn;
  let changedBytes = 0;
  for (const [id, component] of base.components) {
    const records = component.records;
    const count = Math.round(records.length * 0.05);
    const changed: DeltaRecord[] = [];
    for (let k = records.length - count; k < records.length; k++) {
      const record = records[k]!;
      const value = Buffer.from(record.value);
      value[value.length - 1] ^= 0xff;
      changed.push({ op: 'put', key: record.key, value, lsn: ++lsn, timestamp: 1 });
      changedBytes += record.key.length + value.length;
    }
    components.set(id, { componentId: id, records: changed });
  }
  const delta = { fromLsn: base.lsn, toLsn: lsn, components };
  const merger = new CheckpointMerger();
  const state = await merger.mergeIncrementals(base, [delta]);
  await writeIncrementalCheckpoint(ctx, catalog.require(full.checkpointId), delta, state, 1);
  await merger.close();
  await encoder.close();
  return {
    logicalBytes: workload.baseBytes,
    records: workload.baseRecords,
    fullWriteSeconds: seconds,
    fullWriteMbPerSec: workload.baseBytes / 1e6 / seconds,
    storedBytes: full.stats.storedBytes,
    blocks: full.stats.newBlocks,
    changedBytes,
  };
}

async function merge(dir: string, logical: number, byBlock: boolean) {
  const encoder = WorkerBlockEncoder.create(2);
  const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
  const ctx = context(dir, catalog, encoder);
  const latest = catalog.latest()!;
  const chain = await Promise.all(
    catalog.chain(latest.id).map((link) => readManifest(ctx.store, PREFIX, link.id)),
  );
  const merger = new CheckpointMerger();
  const [manifest, seconds] = await timed(async () => {
    if (byBlock) return (await writeMergedFullCheckpoint({ ...ctx, rule: 0 }, chain)).manifest;
    const state = await loadCheckpointState({ store: ctx.store, prefix: PREFIX, catalog, merger }, latest.id);
    return writeFullCheckpoint(ctx, state, latest.timestamp);
  });
  await merger.close();
  await encoder.close();
  return {
    seconds,
    mbPerSec: logical / 1e6 / seconds,
    newBlocks: manifest.stats.newBlocks,
    reusedBlocks: manifest.stats.reusedBlocks,
  };
}

async function recover(dir: string, logical: number, stream: boolean) {
  const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
  const store = new LocalFileStore({ basePath: path.join(dir, 'store') });
  const merger = new CheckpointMerger();
  const engine = new RecoveryEngine({ store, prefix: PREFIX, nodeId: 'node-1', catalog }, merger, {
    maxParallelThreads: 2,
  });
  const out = path.join(dir, `recovered-${stream ? 'stream' : 'whole'}`);
  fs.rmSync(out, { recursive: true, force: true });
  const target = { checkpointId: catalog.latest()!.id };
  const [, seconds] = await timed(async () => {
    if (!stream) return writeStateToDirectory(await engine.recoverTo(target), out);
    const writer = await StateDirectoryWriter.open(out);
    const result = await engine.recoverTo(target, undefined, { onComponent: (c) => writer.write(c) });
    return writer.finish(result);
  });
  await engine.close();
  await merger.close();
  fs.rmSync(out, { recursive: true, force: true });
  return { seconds, mbPerSec: logical / 1e6 / seconds, usesWorkers: engine.usesWorkers };
}

async function main(): Promise<void> {
  const [step, dir, mb] = process.argv.slice(2) as [string, string, string];
  const logical = Number(mb) * 1e6;
  const steps: Record<string, () => Promise<object>> = {
    build: () => build(dir, logical),
    'merge-block': () => merge(dir, logical, true),
    'merge-whole': () => merge(dir, logical, false),
    'recover-whole': () => recover(dir, logical, false),
    'recover-stream': () => recover(dir, logical, true),
  };
  const run = steps[step];
  if (run === undefined) throw new Error(`unknown step ${step}`);
  const figures = await run();
  process.stdout.write(
    `${JSON.stringify({ step, ...figures, peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
