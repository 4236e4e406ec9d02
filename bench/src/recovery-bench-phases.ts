/**
 * Where recovery's time goes, piece by piece: the pieces the engine runs, called directly on this thread,
 * one after another, over the very blocks of the chain (in the engine's order: per component, the full
 * checkpoint's blocks then each incremental's). Each piece is timed `runs` times; the median counts.
 *   fetch         getBuffer of every block (local store: from the page cache), one at a time and 8 at once
 *   open          openBlock: stored crc32c, decompression, raw crc32c, sha256 — and each of these alone
 *   pool          BlockPool.open on 2 worker threads (transfer there and back included), 1 and 2 in flight
 *   decode        decodeRecords of the raw bytes into records (keys and values are views)
 *   merge         CheckpointMerger.mergeIncrementals of the base and the incrementals (sequential, default)
 *   overlay       WalOverlay.applyTo (no WAL entries) + stateBytes per component: what the engine does to the
 *                 merged state after the WAL replay (recovery-engine.ts execute), key-order check included
 *   digest        StateDigest.of every component (the `full` verification level)
 */
import { crc32c } from '@node-rs/crc32';
import { blockHash, openBlock } from '../../src/checkpoint/block/block-codec';
import { codecOfId, decompressBody } from '../../src/checkpoint/block/codecs';
import { asStateRecords, decodeRecords } from '../../src/checkpoint/block/record-codec';
import type { Manifest, ManifestBlockRef } from '../../src/checkpoint/manifest/manifest';
import { StateDigest } from '../../src/checkpoint/manifest/state-digest';
import { CheckpointMerger } from '../../src/checkpoint/merge';
import type { ComponentDelta, Delta, DeltaRecord, Snapshot } from '../../src/checkpoint/state/state-types';
import { BlockPool } from '../../src/recovery/block-pool';
import { stateBytes } from '../../src/recovery/recovery-engine';
import { WalOverlay } from '../../src/recovery/wal-overlay';
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
          await inFlight(refs, lanes, (ref, i) => pool.open(copies[i]!, ref.ref.hash));
          if (r > 0) times.push(performance.now() - started); // the first run starts the threads
        }
        return median(times);
      };
      put('BlockPool.open, 2 threads, 1 in flight', await viaPool(1), 'block');
      put('BlockPool.open, 2 threads, 2 in flight', await viaPool(2), 'block');
    }
  } finally {
    await pool.close();
  }

  const decoded = await timed(runs, () => raws.map((raw, i) => decodeRecords(raw, refs[i]!.ref.recordCount)));
  const records = decoded.value.reduce((sum, d) => sum + d.length, 0);
  put('decodeRecords', decoded.ms, 'record');

  // The base and deltas as the engine builds them, then the merged state.
  const base: Snapshot = { lsn: manifests[0]!.lsn, components: new Map() };
  const deltas: Delta[] = manifests
    .slice(1)
    .map((m) => ({ fromLsn: m.fromLsn, toLsn: m.lsn, components: new Map<string, ComponentDelta>() }));
  refs.forEach((r, i) => {
    const recs = decoded.value[i]!;
    if (r.link === 0) {
      const c = base.components.get(r.component) ?? { componentId: r.component, records: [] };
      c.records.push(...asStateRecords(recs));
      base.components.set(r.component, c);
    } else {
      const d = deltas[r.link - 1]!.components;
      const c = d.get(r.component) ?? { componentId: r.component, records: [] as DeltaRecord[] };
      c.records.push(...recs);
      d.set(r.component, c);
    }
  });
  const merger = new CheckpointMerger();
  const merged = all ? await timed(runs, () => merger.mergeIncrementals(base, deltas)) : undefined;
  const state = merged?.value ?? (await merger.mergeIncrementals(base, deltas));
  await merger.close();
  let logicalBytes = 0;
  let stateRecords = 0;
  for (const c of state.components.values()) {
    stateRecords += c.records.length;
    for (const r of c.records) logicalBytes += r.key.length + r.value.length;
  }
  if (merged) {
    put('mergeIncrementals', merged.ms, 'record');
    const overlay = () => {
      const empty = new WalOverlay();
      let bytes = 0;
      for (const [id, c] of state.components) bytes += stateBytes(empty.applyTo(id, c));
      return bytes;
    };
    put('WalOverlay.applyTo + stateBytes (no WAL)', (await timed(runs, overlay)).ms, 'record');
    const digest = () => [...state.components.values()].map((c) => StateDigest.of(c.records));
    put('StateDigest of every component (full)', (await timed(runs, digest)).ms, 'record');
  }

  const pieces: Piece[] = Object.entries(found).map(([name, { ms, per }]) => ({
    name,
    ms,
    logicalMbPerSec: logicalBytes / 1e3 / ms,
    ...(per === 'block' ? { perBlockUs: (ms * 1000) / refs.length } : {}),
    ...(per === 'record'
      ? { perRecordNs: (ms * 1e6) / (name === 'decodeRecords' ? records : stateRecords) }
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
