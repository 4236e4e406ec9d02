/**
 * Real objects for the tiering unit tests: a WAL in a temp dir, an instrumented store, an in-memory
 * catalog, a checkpoint system and the node's upload record — plus small factories and store wrappers.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CheckpointCatalog } from '../../../src/checkpoint/catalog/catalog';
import type { CheckpointSummary } from '../../../src/checkpoint/catalog/checkpoint-summary';
import { IncrementalCheckpointSystem } from '../../../src/checkpoint/incremental-checkpoint-system';
import { CheckpointMerger } from '../../../src/checkpoint/merge/checkpoint-merger';
import { TidemarkError } from '../../../src/lib/errors';
import {
  InstrumentedStore,
  LocalFileStore,
  getBuffer,
  type ByteRange,
  type ListedObject,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
} from '../../../src/storage';
import { SegmentShipper, type SegmentShipperOptions } from '../../../src/tiering/segment-shipper';
import { UploadedSegments } from '../../../src/wal/archive/uploaded-segments';
import { SegmentedWal, type LogEntry, type SegmentInfo, type WalOptions } from '../../../src/wal';
import { removeDir, tempDir } from '../wal/wal-fixtures';

export { removeDir, tempDir };

export const KiB = 1024;
export const PREFIX = 'tidemark';
export const NODE_ID = 'node-1';

/** Deterministic entries: keys repeat (k0..k96), values depend on the sequence. */
export function entryAt(sequence: number, component = `c${sequence % 3}`): LogEntry {
  return {
    componentId: component,
    sequence,
    timestamp: 1_700_000_000_000_000 + sequence,
    changes: [
      { op: 'put', key: `k${sequence % 97}`, value: Buffer.alloc(60 + (sequence % 50), sequence & 0xff) },
    ],
  };
}

/** Appends entries `from .. from+count-1` in small batches (one frame each, so segments rotate). */
export async function appendEntries(
  wal: SegmentedWal,
  from: number,
  count: number,
  component?: string,
): Promise<number> {
  const batches: Promise<number[]>[] = [];
  for (let start = from; start < from + count; start += 8) {
    const entries: LogEntry[] = [];
    for (let s = start; s < Math.min(start + 8, from + count); s++) entries.push(entryAt(s, component));
    batches.push(wal.appendBatch(entries));
  }
  await Promise.all(batches);
  return from + count;
}

/** Appends until the log has grown by at least `bytes`; returns the next sequence. */
export async function appendBytes(wal: SegmentedWal, bytes: number, from = 1): Promise<number> {
  const target = wal.stats().bytes + bytes;
  let next = from;
  while (wal.stats().bytes < target) next = await appendEntries(wal, next, 64);
  return next;
}

export function sealedSegments(wal: SegmentedWal): SegmentInfo[] {
  return wal.segments().filter((segment) => segment.sealed);
}

export function totalBytes(segments: readonly { sizeBytes: number }[]): number {
  return segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
}

/** A sealed segment as planPacks sees it (no file behind it). */
export function segmentInfo(firstLsn: number, lastLsn: number, sizeBytes: number): SegmentInfo {
  return {
    name: `${String(firstLsn).padStart(20, '0')}.wal`,
    path: `/nowhere/${firstLsn}.wal`,
    firstLsn,
    lastLsn,
    entryCount: lastLsn - firstLsn + 1,
    sizeBytes,
    sealed: true,
    bodyCrc: 0,
    minTimestamp: firstLsn,
    maxTimestamp: lastLsn,
  };
}

/** A committed checkpoint summary; `createdAt` in ms since epoch. */
export function summary(
  fields: Pick<CheckpointSummary, 'id' | 'kind' | 'lsn'> & {
    parentId?: number | null;
    baseId?: number;
    createdAtMs?: number;
  },
): CheckpointSummary {
  const { id, kind, lsn, createdAtMs = id * 1000 } = fields;
  return {
    id,
    kind,
    parentId: fields.parentId ?? null,
    baseId: fields.baseId ?? id,
    depth: 0,
    fromLsn: 0,
    lsn,
    timestamp: lsn,
    createdAt: new Date(createdAtMs).toISOString(),
    components: ['c0'],
    keyCount: 1,
    stateBytes: 1,
    blockCount: 1,
    logicalBytes: 1,
    storedBytes: 1,
    newBytes: 1,
    dedupRatio: 0,
    compressionRatio: 1,
    durationMs: 1,
    fencingToken: 1,
    nodeId: NODE_ID,
    status: 'committed',
  };
}

export async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await fs.open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

export const unavailable = (what = 'connection reset') => new TidemarkError('STORAGE_UNAVAILABLE', what);
export const fenced = () => new TidemarkError('FENCED', 'another node holds the maintenance lease');

export { eventually } from '../eventually';

/**
 * A store wrapper with hooks: `beforePut` runs (and may throw or wait) before each put reaches the inner
 * store; `alterGet` rewrites what a get returns. `puts` lists the keys of every put attempted.
 */
export class HookedStore implements ObjectStore {
  readonly puts: string[] = [];
  beforePut: ((key: string) => void | Promise<void>) | undefined;
  alterGet: ((key: string, bytes: Buffer) => Buffer) | undefined;

  constructor(readonly inner: ObjectStore) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async put(key: string, body: ObjectBody, options?: PutOptions): Promise<PutResult> {
    this.puts.push(key);
    await this.beforePut?.(key);
    return this.inner.put(key, body, options);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const alter = this.alterGet;
    if (alter === undefined) return this.inner.get(key, range);
    return Readable.from([alter(key, await getBuffer(this.inner, key, range))], { objectMode: false });
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }

  list(prefix: string): AsyncIterable<ListedObject> {
    return this.inner.list(prefix);
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.inner.delete(keys);
  }
}

/** The parts a tiering component test drives (not a whole node: see tiering-node-fixture.ts for that). */
export interface Parts {
  dir: string;
  wal: SegmentedWal;
  /** What the store wrapper wraps (read it to check contents without counting). */
  inner: ObjectStore;
  store: InstrumentedStore;
  catalog: CheckpointCatalog;
  system: IncrementalCheckpointSystem;
  uploads: UploadedSegments;
  close(): Promise<void>;
}

export interface PartsOptions {
  /** The store behind the instrumented one (default: a LocalFileStore in the node's dir). */
  store?: (dir: string) => ObjectStore;
  wal?: Partial<WalOptions>;
}

export function localStore(dir: string): LocalFileStore {
  return new LocalFileStore({ basePath: join(dir, 'store'), syncWrites: false });
}

/**
 * The parts a tiering component is tested against — a WAL of 16 KiB segments that keeps every segment
 * (unless `options.wal` says otherwise), a store, an in-memory catalog, a checkpoint system, an uploads
 * record — without tiering itself: the test builds the one component it tests over them.
 */
export async function openParts(options: PartsOptions = {}): Promise<Parts> {
  const dir = tempDir('tidemark-tiering-');
  const wal = await SegmentedWal.open(join(dir, 'wal'), {
    segmentSize: 16 * KiB,
    preallocate: false,
    enableSync: false,
    retentionSegments: 0,
    canDelete: () => false,
    ...options.wal,
  });
  const inner = (options.store ?? localStore)(dir);
  const store = new InstrumentedStore(inner);
  const catalog = new CheckpointCatalog();
  const merger = new CheckpointMerger();
  const system = await IncrementalCheckpointSystem.open(
    { wal, store, catalog, merger },
    { nodeId: NODE_ID, prefix: PREFIX, checkpointInterval: 0, cleanupInterval: 0, targetBlockSize: 2048 },
  );
  const uploads = await UploadedSegments.open(dir);
  return {
    dir,
    wal,
    inner,
    store,
    catalog,
    system,
    uploads,
    close: async () => {
      await system.stop();
      await merger.close();
      await uploads.close();
      await wal.close();
      removeDir(dir);
    },
  };
}

export function shipperFor(
  node: Pick<Parts, 'wal' | 'store' | 'uploads'>,
  options: Partial<SegmentShipperOptions> = {},
): SegmentShipper {
  return new SegmentShipper(node.wal, node.store, node.uploads, {
    prefix: PREFIX,
    nodeId: NODE_ID,
    packTargetBytes: 64 * KiB,
    maxPackDelayMs: 60_000,
    concurrency: 2,
    ...options,
  });
}
