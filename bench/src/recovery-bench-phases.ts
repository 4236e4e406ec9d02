/**
 * Where recovery's time goes, piece by piece: the pieces the engine runs, called directly on this thread,
 * one after another, over the very blocks of the chain (in the engine's order: per component, the full
 * checkpoint's blocks then each incremental's). Each piece is timed `runs` times; the median counts.
 *   fetch         getBuffer of every block (local store: from the page cache), one at a time and 8 at once
 *   open          openBlock: stored crc32c, decompression, raw crc32c, sha256 — and each of these alone
 *   pool          BlockPool.openRun on 2 worker threads (check, decompress, decode into a run, transfer
 *                 there and back), 1 and 2 in flight
 *   decode        decodeRun of the raw bytes into sorted runs (on a worker in a recovery of 2+ threads)
 *   merge         mergeRunComponent of the base's runs and the incrementals' runs, per component: what the
 *                 calling thread does (nothing per record: slices)
 *   overlay       the block-boundary order check and sizes of the merged slices (no WAL entries)
 *   digest        StateDigest of every component over its slices (the `full` verification level)
 */
import { crc32c } from '@node-rs/crc32';
import { blockHash, decodeRun, openBlock } from '../../src/checkpoint/block/block-codec';
import { codecOfId, decompressBody } from '../../src/checkpoint/block/codecs';
import type { Manifest, ManifestBlockRef } from '../../src/checkpoint/manifest/manifest';
import { StateDigest } from '../../src/checkpoint/manifest/state-digest';
import { mergeRunComponent, type RunDelta } from '../../src/checkpoint/merge/run-merge';
import {
  firstUnsortedSlice,
  sliceLogicalBytes,
  sliceRecordCount,
  wholeRun,
  type RunSlice,
} from '../../src/checkpoint/run/run-slice';
import { runFromSlices } from '../../src/checkpoint/run/run-transfer';
import { runKey, runValue, type SortedRun } from '../../src/checkpoint/run/sorted-run';
import { BlockPool } from '../../src/recovery/block-pool';
import { blockKey, getBuffer, type ObjectStore } from '../../src/storage';
import { collectGarbage, median } from './recovery-bench-engine';
import { PREFIX } from './recovery-bench-state';

export interface Piece {
  name: string;
  /** Median milliseconds for the whole chain. */
  ms: number;
  /** Recovered logical bytes ÷ ms: the throughput if this piece were all recovery did, on one thread. */
  logicalMbPerSec: number;
  /** Per block, where that means something. */
  perBlockUs?: number;
  /** Per record (decode, merge, overlay, digest). */
  perRecordNs?: number;
}

export interface PiecesResult {
  codec: string;
  blocks: number;
  storedBytes: number;
  rawBytes: number;
  records: number;
  /** Key + value bytes of the merged state. */
  logicalBytes: number;
  runs: number;
  pieces: Piece[];
}

interface Ref {
  ref: ManifestBlockRef;
  component: string;
  /** 0: the full checkpoint; i: the i-th incremental. */
  link: number;
}

function chainRefs(manifests: readonly Manifest[]): Ref[] {
  const ids = new Set<string>();
  for (const m of manifests) for (const id of Object.keys(m.components)) ids.add(id);
  const refs: Ref[] = [];
  for (const component of [...ids].sort()) {
    manifests.forEach((m, link) => {
      for (const ref of m.components[component]?.blocks ?? []) refs.push({ ref, component, link });
    });
  }
  return refs;
}

async function timed<T>(runs: number, fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const times: number[] = [];
  let value: T | undefined;
  for (let r = 0; r < runs; r++) {
    collectGarbage();
    const started = performance.now();
    value = await fn();
    times.push(performance.now() - started);
  }
  return { ms: median(times), value: value as T };
}

async function inFlight<T>(items: readonly T[], lanes: number, fn: (item: T, i: number) => Promise<unknown>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/**
 * Times every piece over the chain `manifests` names in `store`. `all` false: only the per-block pieces
 * (fetch, open, pool, decode) — merge, overlay and digest do not depend on the codec.
 */
export async function measurePieces(
  store: ObjectStore,
  codec: string,
  manifests: readonly Manifest[],
  runs: number,
  all: boolean,
  workerFilename?: string,
): Promise<PiecesResult> {
  const refs = chainRefs(manifests);
  const stored: Buffer[] = new Array(refs.length);
  const found: Record<string, { ms: number; per?: 'block' | 'record' }> = {};
  const put = (name: string, ms: number, per?: 'block' | 'record') => (found[name] = { ms, per });

  const get = async (r: Ref, i: number) => {
    stored[i] = await getBuffer(store, blockKey(PREFIX, r.ref.hash));
  };
  put('fetch, 1 in flight', (await timed(runs, () => inFlight(refs, 1, get))).ms, 'block');
  put('fetch, 8 in flight', (await timed(runs, () => inFlight(refs, 8, get))).ms, 'block');

  const opened = await timed(runs, async () => {
    const out = [];
    for (let i = 0; i < refs.length; i++) out.push(await openBlock(stored[i]!, refs[i]!.ref.hash));
    return out;
  });
  put('openBlock (all checks + decompress)', opened.ms, 'block');
  const raws = opened.value.map((o) => o.raw);
  put(
    '  crc32c of the stored bytes',
    (await timed(runs, () => stored.forEach((b) => crc32c(b.subarray(24), crc32c(b.subarray(0, 20)))))).ms,
    'block',
  );
  const decompress = async () => {
    for (const b of stored) await decompressBody(codecOfId(b[5]!)!, b.subarray(24), b.readUInt32LE(8));
  };
  put('  decompress', (await timed(runs, decompress)).ms, 'block');
  put('  crc32c of the raw bytes', (await timed(runs, () => raws.forEach((r) => crc32c(r)))).ms, 'block');
  put('  sha256 of the raw bytes', (await timed(runs, () => raws.forEach((r) => blockHash(r)))).ms, 'block');

  const pool = new BlockPool(2, workerFilename);
  try {
    if (!pool.inline) {
      // The pool moves the buffer it is given to the worker: each run gets fresh copies, made untimed.
      const viaPool = async (lanes: number) => {
        const times: number[] = [];
        for (let r = 0; r <= runs; r++) {
          const copies = stored.map((b) => Buffer.from(b));
          collectGarbage();
          const started = performance.now();
          await inFlight(refs, lanes, (ref, i) => pool.openRun(copies[i]!, ref.ref.hash));
          if (r > 0) times.push(performance.now() - started); // the first run starts the threads
        }
        return median(times);
      };
      put('BlockPool.openRun, 2 threads, 1 in flight', await viaPool(1), 'block');
      put('BlockPool.openRun, 2 threads, 2 in flight', await viaPool(2), 'block');
    }
  } finally {
    await pool.close();
  }

  const decoded = await timed(runs, () => opened.value.map((o) => decodeRun(o)));
  const records = decoded.value.reduce((sum, run) => sum + run.count, 0);
  put('decodeRun', decoded.ms, 'record');

  // The base and deltas as the engine builds them (chain-fetch.ts), then the merged state.
  const base = new Map<string, RunSlice[]>();
  const deltaRuns = manifests.slice(1).map(() => new Map<string, SortedRun[]>());
  refs.forEach((r, i) => {
    const run = decoded.value[i]!;
    if (r.link === 0) base.set(r.component, [...(base.get(r.component) ?? []), wholeRun(run)]);
    else deltaRuns[r.link - 1]!.set(r.component, [...(deltaRuns[r.link - 1]!.get(r.component) ?? []), run]);
  });
  const deltas = deltaRuns.map(
    (d) =>
      new Map<string, RunDelta>([...d].map(([id, runs]) => [id, { run: runFromSlices(runs.map(wholeRun)) }])),
  );
  const ids = [...new Set([...base.keys(), ...deltas.flatMap((d) => [...d.keys()])])];
  const mergeAll = () =>
    new Map(
      ids.map((id) => {
        const changes = deltas.flatMap((d) => d.get(id) ?? []);
        const sources = deltas.flatMap((d, i) => (d.has(id) ? [i] : []));
        return [id, mergeRunComponent(id, base.get(id) ?? [], changes, 0, sources)] as const;
      }),
    );
  const merged = all ? await timed(runs, mergeAll) : undefined;
  const state = merged?.value ?? mergeAll();
  let logicalBytes = 0;
  let stateRecords = 0;
  for (const slices of state.values()) {
    stateRecords += sliceRecordCount(slices);
    logicalBytes += sliceLogicalBytes(slices);
  }
  if (merged) {
    put('mergeRunComponent', merged.ms, 'record');
    const overlay = () => {
      let bytes = 0;
      for (const slices of state.values()) {
        if (firstUnsortedSlice(slices, false) !== -1) throw new Error('unsorted');
        bytes += sliceLogicalBytes(slices);
      }
      return bytes;
    };
    put('slice order check + sizes (no WAL)', (await timed(runs, overlay)).ms, 'record');
    const digest = () =>
      [...state.values()].map((slices) => {
        const d = new StateDigest();
        for (const { run, start, end } of slices)
          for (let i = start; i < end; i++) d.update(runKey(run, i), runValue(run, i));
        return d.digest();
      });
    put('StateDigest of every component (full)', (await timed(runs, digest)).ms, 'record');
  }

  const pieces: Piece[] = Object.entries(found).map(([name, { ms, per }]) => ({
    name,
    ms,
    logicalMbPerSec: logicalBytes / 1e3 / ms,
    ...(per === 'block' ? { perBlockUs: (ms * 1000) / refs.length } : {}),
    ...(per === 'record'
      ? { perRecordNs: (ms * 1e6) / (name === 'decodeRun' ? records : stateRecords) }
      : {}),
  }));
  return {
    codec,
    blocks: refs.length,
    storedBytes: stored.reduce((sum, b) => sum + b.length, 0),
    rawBytes: raws.reduce((sum, b) => sum + b.length, 0),
    records,
    logicalBytes,
    runs,
    pieces,
  };
}
