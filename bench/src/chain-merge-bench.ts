/**
 * Chain merge benchmark: a stored chain (full checkpoint + incrementals, zstd, local store) merged into a
 * new full checkpoint, as optimizeChains does, two ways in the same run:
 *   - by block (merged-full-writer.ts): untouched blocks named again, touched stretches read and rewritten;
 *   - whole (the peer, and what a format-1 chain still does): loadCheckpointState + writeFullCheckpoint.
 * Three chains on the merge bench's window state (merge-bench.ts):
 *   - `windows`: its 10 incrementals (a window opened, the newest updated, the oldest evicted, 30% of the
 *     aggregates updated, per incremental);
 *   - `5% clustered`: 5% of the keys get new values, the most recent windows (as a stream's open windows do);
 *   - `5% uniform`: 5% of the keys, spread evenly over the key space (every block touched: the worst case);
 *   - `every key`: every key gets a new value.
 * Figures: seconds (median), MB/s of the state's logical bytes and of the changed records' bytes, blocks
 * reused and rewritten, stored bytes PUT. Each path runs in a store of its own (no deduplication between
 * them). A benchmark, not a test: nothing here asserts speed.
 *
 *   npm run bench:merge-chain [-- --quick]     (npm run bench:checkpoint runs it too)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CheckpointCatalog } from '../../src/checkpoint/catalog/catalog';
import { CatalogFile } from '../../src/checkpoint/catalog/catalog-file';
import type { Manifest } from '../../src/checkpoint/manifest/manifest';
import { CheckpointMerger } from '../../src/checkpoint/merge';
import { RULE_LAST_WRITE_WINS } from '../../src/checkpoint/merge/conflict-resolution';
import type { ComponentDelta, Delta, DeltaRecord, Snapshot } from '../../src/checkpoint/state/state-types';
import { loadCheckpointState, readManifest } from '../../src/checkpoint/write/checkpoint-reader';
import {
  writeFullCheckpoint,
  writeIncrementalCheckpoint,
  type CheckpointWriteContext,
} from '../../src/checkpoint/write/checkpoint-writer';
import { writeMergedFullCheckpoint } from '../../src/checkpoint/write/merged-full-writer';
import { LocalFileStore } from '../../src/storage';
import { generateMergeWorkload } from './merge-bench';
import { benchWriteContext, closeBenchEncoder, encoderName } from './bench-encoder';

const PREFIX = 'bench';

export interface ChainMergeFigures {
  chain: string;
  incrementals: number;
  changedRecords: number;
  changedBytes: number;
  byBlock: PathFigures;
  whole: PathFigures;
  /** whole seconds / by-block seconds. */
  speedup: number;
}

interface PathFigures {
  /** Writing the chain's full checkpoint (untimed setup of the merge): whole, from objects. */
  baseWriteSeconds: number;
  seconds: number;
  /** State logical bytes / seconds. */
  mbPerSec: number;
  /** Changed records' key + value bytes / seconds. */
  changedMbPerSec: number;
  newBlocks: number;
  reusedBlocks: number;
  newBytes: number;
  blocksRead?: number;
}

interface Chain {
  name: string;
  deltas: Delta[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A deterministic pick of `share` of the records of each component (clustered: the newest keys). */
function changeShare(base: Snapshot, share: number, clustered: boolean, lsn: number): Delta {
  const components = new Map<string, ComponentDelta>();
  let next = lsn;
  const timestamp = 1_790_000_000_000_000;
  for (const [id, component] of base.components) {
    const records = component.records;
    const count = Math.round(records.length * share);
    const picked: DeltaRecord[] = [];
    const step = count === 0 ? records.length + 1 : records.length / count;
    for (let k = 0; k < count; k++) {
      const i = clustered ? records.length - count + k : Math.floor(k * step);
      const record = records[i]!;
      const value = Buffer.from(record.value);
      value[value.length - 1] ^= 0xff;
      picked.push({ op: 'put', key: record.key, value, lsn: ++next, timestamp });
    }
    components.set(id, { componentId: id, records: picked });
  }
  return { fromLsn: lsn, toLsn: next, components };
}

function deltaBytes(deltas: readonly Delta[]): { records: number; bytes: number } {
  let records = 0;
  let bytes = 0;
  for (const delta of deltas)
    for (const component of delta.components.values())
      for (const r of component.records) {
        records++;
        bytes += r.key.length + (r.op === 'put' ? r.value.length : 0);
      }
  return { records, bytes };
}

async function openStore(root: string, name: string) {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const store = new LocalFileStore({ basePath: path.join(dir, 'store'), syncWrites: true });
  const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
  const context = benchWriteContext(store, catalog);
  return { dir, store, catalog, context };
}

/** Writes the base and the chain's incrementals; returns the chain's manifests, base first. */
async function writeChain(
  context: CheckpointWriteContext,
  merger: CheckpointMerger,
  base: Snapshot,
  deltas: readonly Delta[],
  baseWritten: () => void,
): Promise<Manifest[]> {
  const manifests = [await writeFullCheckpoint(context, base, 1)];
  baseWritten();
  let state = base;
  for (const delta of deltas) {
    state = await merger.mergeIncrementals(state, [delta]);
    const parent = context.catalog.require(manifests[manifests.length - 1]!.checkpointId);
    manifests.push(await writeIncrementalCheckpoint(context, parent, delta, state, 1));
  }
  return manifests;
}

async function measurePath(
  root: string,
  name: string,
  merger: CheckpointMerger,
  base: Snapshot,
  chain: Chain,
  byBlock: boolean,
  runs: number,
  stateBytes: number,
  changedBytes: number,
): Promise<PathFigures> {
  const times: number[] = [];
  const baseWrites: number[] = [];
  let last: { manifest: Manifest; blocksRead?: number } | undefined;
  for (let r = 0; r < runs; r++) {
    const { dir, store, catalog, context } = await openStore(root, `${name}-${r}`);
    try {
      const baseStarted = performance.now();
      const manifests = await writeChain(context, merger, base, chain.deltas, () =>
        baseWrites.push((performance.now() - baseStarted) / 1000),
      );
      const started = performance.now();
      if (byBlock) {
        const merged = await writeMergedFullCheckpoint({ ...context, rule: RULE_LAST_WRITE_WINS }, manifests);
        last = { manifest: merged.manifest, blocksRead: merged.stats.blocksRewritten };
      } else {
        const newest = manifests[manifests.length - 1]!;
        const state = await loadCheckpointState(
          { store, prefix: PREFIX, catalog, merger },
          newest.checkpointId,
        );
        last = { manifest: await writeFullCheckpoint(context, state, newest.timestamp) };
      }
      times.push((performance.now() - started) / 1000);
      // The merged checkpoint is readable (outside the timing).
      await readManifest(store, PREFIX, last.manifest.checkpointId);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const seconds = median(times);
  const stats = last!.manifest.stats;
  return {
    baseWriteSeconds: median(baseWrites),
    seconds,
    mbPerSec: stateBytes / 1e6 / seconds,
    changedMbPerSec: changedBytes / 1e6 / seconds,
    newBlocks: stats.newBlocks,
    reusedBlocks: stats.reusedBlocks,
    newBytes: stats.newBytes,
    ...(last!.blocksRead === undefined ? {} : { blocksRead: last!.blocksRead }),
  };
}

export async function runChainMergeBench(
  options: { quick?: boolean; dir?: string; out?: string; size?: string } = {},
): Promise<{ results: ChainMergeFigures[] }> {
  const quick = options.quick ?? false;
  const out = options.out ?? path.join('bench', 'results', 'merge-chain.json');
  const root = fs.mkdtempSync(path.join(options.dir ?? os.tmpdir(), 'tidemark-chain-merge-'));
  const sizeMb = options.size === undefined ? (quick ? 20 : 100) : Number(options.size);
  if (!(sizeMb > 0)) throw new Error(`--size must be a positive number of MB, got ${options.size}`);
  // GB scale: one run per path, and only the chains that do not rewrite everything twice over.
  const large = sizeMb > 500;
  const runs = quick || large ? 1 : 3;
  const workload = generateMergeWorkload(sizeMb * 1e6);
  const base = workload.base;
  const stateBytes = workload.baseBytes;
  const chains: { name: string; deltas: () => Delta[] }[] = [
    { name: 'windows', deltas: () => workload.deltas },
    { name: '5% clustered', deltas: () => [changeShare(base, 0.05, true, base.lsn)] },
    { name: '5% uniform', deltas: () => [changeShare(base, 0.05, false, base.lsn)] },
    { name: 'every key', deltas: () => [changeShare(base, 1, false, base.lsn)] },
  ].filter((chain) => !large || chain.name === '5% clustered' || chain.name === '5% uniform');
  const encoder = encoderName();
  console.log(
    `chain merge bench (blocks encoded on ${encoder}): base ${(stateBytes / 1e6).toFixed(1)} MB logical, ${workload.baseRecords} records, zstd, local store; median of ${runs}`,
  );
  const merger = new CheckpointMerger({ mergeStrategy: 'sequential' });
  const results: ChainMergeFigures[] = [];
  try {
    for (const made of chains) {
      const chain: Chain = { name: made.name, deltas: made.deltas() };
      const changed = deltaBytes(chain.deltas);
      const measure = (byBlock: boolean) =>
        measurePath(
          root,
          `${chain.name}-${byBlock ? 'block' : 'whole'}`.replace(/\W+/g, '-'),
          merger,
          base,
          chain,
          byBlock,
          runs,
          stateBytes,
          changed.bytes,
        );
      const byBlock = await measure(true);
      const whole = await measure(false);
      const figures: ChainMergeFigures = {
        chain: chain.name,
        incrementals: chain.deltas.length,
        changedRecords: changed.records,
        changedBytes: changed.bytes,
        byBlock,
        whole,
        speedup: whole.seconds / byBlock.seconds,
      };
      results.push(figures);
      console.log(
        `  ${chain.name.padEnd(13)} changed ${(changed.bytes / 1e6).toFixed(1).padStart(6)} MB | by block ${(byBlock.seconds * 1000).toFixed(0).padStart(6)} ms ` +
          `${byBlock.mbPerSec.toFixed(0).padStart(6)} MB/s state, ${byBlock.changedMbPerSec.toFixed(0).padStart(5)} MB/s changed, ` +
          `${byBlock.reusedBlocks} reused / ${byBlock.newBlocks} new blocks | whole ${(whole.seconds * 1000).toFixed(0).padStart(6)} ms ` +
          `${whole.mbPerSec.toFixed(0).padStart(5)} MB/s | ${figures.speedup.toFixed(1)}x`,
      );
    }
  } finally {
    await merger.close();
    await closeBenchEncoder();
    fs.rmSync(root, { recursive: true, force: true });
  }
  const report = {
    benchmark: 'merge-chain',
    date: new Date().toISOString(),
    quick,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      node: process.version,
      loadAverage: os.loadavg(),
    },
    state: { logicalBytes: stateBytes, records: workload.baseRecords, generator: 'bench/src/merge-bench.ts' },
    encoder,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    goal: { mbPerSec: 500, of: 'state logical bytes / seconds, when every block changes' },
    results,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(
    `peak RSS ${(process.resourceUsage().maxRSS / 1024 / 1024).toFixed(2)} GiB; figures written to ${out}`,
  );
  return { results };
}
