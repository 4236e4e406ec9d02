/**
 * What the recovery engine's tests share: a naive replay of the log (the reference every recovered state
 * is compared with), a whole node whose WAL is shipped only when a test says so, a store wrapper that
 * counts and gates GETs, and helpers that damage a local store (a flipped bit, a rewritten manifest).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { CheckpointSummary } from '../../../src/checkpoint/catalog/checkpoint-summary';
import type { Manifest } from '../../../src/checkpoint/manifest/manifest';
import { CheckpointMerger } from '../../../src/checkpoint/merge/checkpoint-merger';
import type { Snapshot } from '../../../src/checkpoint/state/state-types';
import { RecoveryEngine, type RecoveryBackend } from '../../../src/recovery/recovery-engine';
import type { RecoveryConfig, RecoveryTarget } from '../../../src/recovery/recovery-types';
import {
  manifestKey,
  type ByteRange,
  type ListedObject,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
} from '../../../src/storage';
import { clear, del, put, type Change, type LogEntry } from '../../../src/wal';
import { openTestNode, type TestNode, type TestNodeOptions } from '../tiering/tiering-node-fixture';

export const PREFIX = 'tidemark';
export const NODE_ID = 'node-1';

/**
 * Component id → sorted `keyhex=valuehex` pairs, empty components left out: comparable with toEqual.
 * Prototype-less, so that ids such as `__proto__` are ordinary keys.
 */
export type State = Record<string, string[]>;

/** The reference: the log replayed into maps, restricted to `components` when given. */
export function replayState(entries: readonly LogEntry[], components?: readonly string[]): State {
  const wanted = components ? new Set(components) : undefined;
  const state = new Map<string, Map<string, Buffer>>();
  for (const entry of entries) {
    if (wanted && !wanted.has(entry.componentId)) continue;
    let component = state.get(entry.componentId);
    if (!component) state.set(entry.componentId, (component = new Map()));
    for (const change of entry.changes) {
      if (change.op === 'clear') component.clear();
      else if (change.op === 'delete') component.delete(Buffer.from(change.key).toString('latin1'));
      else component.set(Buffer.from(change.key).toString('latin1'), Buffer.from(change.value));
    }
  }
  const out: State = Object.create(null) as State;
  for (const [id, records] of [...state].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (records.size === 0) continue;
    out[id] = [...records.entries()]
      .map(([key, value]) => [Buffer.from(key, 'latin1'), value] as const)
      .sort((a, b) => Buffer.compare(a[0], b[0]))
      .map(([key, value]) => `${key.toString('hex')}=${value.toString('hex')}`);
  }
  return out;
}

export function stateOf(snapshot: Snapshot): State {
  const out: State = Object.create(null) as State;
  for (const [id, component] of [...snapshot.components].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (component.records.length === 0) continue;
    out[id] = component.records.map((r) => `${r.key.toString('hex')}=${r.value.toString('hex')}`);
  }
  return out;
}

/** The engine's time semantics: the longest prefix of the log whose entries are all at or before `time`. */
export function timePrefix(entries: readonly LogEntry[], time: number): number {
  const at = entries.findIndex((entry) => entry.timestamp > time);
  return at === -1 ? entries.length : at;
}

export type Op = { component: number; kind: 'put' | 'delete' | 'clear'; key: number; value: number };

export function opEntry(op: Op, sequence: number, timestamp: number): LogEntry {
  const key = Buffer.from([0x6b, op.key]);
  const change: Change =
    op.kind === 'clear'
      ? clear()
      : op.kind === 'delete'
        ? del(key)
        : put(key, Buffer.alloc(1 + (op.value % 60), op.value));
  return { componentId: `c${op.component}`, sequence, timestamp, changes: [change] };
}

/** Deterministic entries over components c0..c2 (puts mostly, a delete every 7th, a clear every 41st). */
export function simpleEntries(from: number, count: number): LogEntry[] {
  const entries: LogEntry[] = [];
  for (let s = from; s < from + count; s++) {
    const kind = s % 41 === 0 ? 'clear' : s % 7 === 0 ? 'delete' : 'put';
    // µs from 2023-11-14T22:13:20Z: the WAL refuses a timestamp that cannot be µs since the epoch.
    const timestamp = 1_700_000_000_000_000 + s * 10;
    entries.push(opEntry({ component: s % 3, kind, key: s % 23, value: s & 0xff }, s, timestamp));
  }
  return entries;
}

/** A node whose WAL goes to the store only when the test ships it (`shipAll`); small segments. */
export function openRecoveryNode(
  dataDir: string,
  store: ObjectStore,
  options: TestNodeOptions = {},
): Promise<TestNode> {
  return openTestNode(dataDir, store, {
    segmentSize: 4096,
    ...options,
    tiering: {
      ...options.tiering,
      upload: { packTargetBytes: 1 << 30, maxPackDelayMs: 3_600_000, ...options.tiering?.upload },
    },
  });
}

/** Seals the active segment, uploads every sealed segment as one pack, and deletes what may go locally. */
export async function shipAll(node: TestNode): Promise<void> {
  await node.wal.seal();
  await node.tiering.shipper.ship({ flush: true });
  await node.wal.cleanup();
}

/** What a recovery on the node's own machine reads: the store, the node's catalog, log and uploads record. */
export function nodeBackend(node: TestNode, store: ObjectStore): RecoveryBackend {
  return {
    store,
    prefix: PREFIX,
    nodeId: NODE_ID,
    wal: node.wal,
    uploads: node.uploads,
    catalog: node.catalog,
  };
}

/** Engines made by a test, closed (worker threads ended) after it. */
export class Engines {
  private readonly made: { engine: RecoveryEngine; merger: CheckpointMerger }[] = [];

  make(backend: RecoveryBackend, config: Partial<RecoveryConfig> = {}): RecoveryEngine {
    const merger = new CheckpointMerger();
    const engine = new RecoveryEngine(backend, merger, config);
    this.made.push({ engine, merger });
    return engine;
  }

  async closeAll(): Promise<void> {
    for (const { engine, merger } of this.made.splice(0)) {
      await engine.close();
      await merger.close();
    }
  }
}

/**
 * An ObjectStore in front of another that records every GET key and can hold GETs of chosen keys until
 * `release()` (a gate, not a timer) or fail them.
 */
export class TappedStore implements ObjectStore {
  readonly gets: string[] = [];
  private gate: { matches: (key: string) => boolean; open: Promise<void>; release: () => void } | undefined;

  constructor(readonly inner: ObjectStore) {}

  /** From now on GETs of keys `matches` accepts wait until the returned function is called. */
  holdGets(matches: (key: string) => boolean): () => void {
    let release: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (release = resolve));
    this.gate = { matches, open, release };
    return () => {
      this.gate = undefined;
      release();
    };
  }

  getsUnder(keyPrefix: string): string[] {
    return this.gets.filter((key) => key.startsWith(keyPrefix));
  }

  init(): Promise<void> {
    return this.inner.init();
  }
  put(key: string, body: ObjectBody, options?: PutOptions): Promise<PutResult> {
    return this.inner.put(key, body, options);
  }
  async get(key: string, range?: ByteRange): Promise<Readable> {
    this.gets.push(key);
    const gate = this.gate;
    if (gate?.matches(key)) await gate.open;
    return this.inner.get(key, range);
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

/** Flips one bit in the middle of a LocalFileStore object. */
export function flipBit(storeDir: string, key: string): void {
  const file = path.join(storeDir, key);
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1]! ^= 0x10;
  writeFileSync(file, bytes);
}

/** Rewrites a manifest of a LocalFileStore in place (it is JSON), as damage would. */
export function rewriteManifest(storeDir: string, id: number, change: (manifest: Manifest) => void): void {
  const file = path.join(storeDir, manifestKey(PREFIX, id));
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  change(manifest);
  writeFileSync(file, `${JSON.stringify(manifest)}\n`);
}

export interface History {
  entries: LogEntry[];
  /** The checkpoints taken, in order. */
  checkpoints: CheckpointSummary[];
}

/**
 * A small history: 200 entries, full #1; 100, incremental #2; 100, incremental #3; then a tail of 60 in the
 * active segment. The log up to #3 was shipped, so its local segments are gone: LSNs between the
 * checkpoints are only in the store's packs; the tail is only on local disk.
 */
export async function buildHistory(node: TestNode): Promise<History> {
  const entries = simpleEntries(1, 460);
  const checkpoints: CheckpointSummary[] = [];
  await node.wal.appendBatch(entries.slice(0, 200));
  await shipAll(node);
  checkpoints.push(await node.system.checkpoint({ kind: 'full' }));
  await node.wal.appendBatch(entries.slice(200, 300));
  checkpoints.push(await node.system.checkpoint({ kind: 'incremental' }));
  await node.wal.appendBatch(entries.slice(300, 400));
  await shipAll(node);
  checkpoints.push(await node.system.checkpoint({ kind: 'incremental' }));
  await node.wal.cleanup();
  await node.wal.appendBatch(entries.slice(400));
  return { entries, checkpoints };
}

/**
 * The disk-loss drill: a node writes checkpoints and ships its whole log to `store`, then its data
 * directory is wiped; an engine given only {store, prefix, nodeId} (no catalog, no log, no uploads record:
 * it rebuilds the catalog from the manifests and lists the WAL packs) must give back the state a replay of
 * the log gives, at checkpoints, LSNs between and after them, and a time.
 */
export async function checkWipedNodeRecovery(
  store: ObjectStore,
  root: string,
  engines: Engines,
): Promise<void> {
  const dataDir = path.join(root, 'node');
  const entries = simpleEntries(1, 240);
  const checkpoints: CheckpointSummary[] = [];
  const node = await openRecoveryNode(dataDir, store);
  try {
    const append = async (from: number, to: number) => {
      for (let i = from; i < to; i += 10) await node.wal.appendBatch(entries.slice(i, Math.min(i + 10, to)));
    };
    await append(0, 100);
    await shipAll(node);
    checkpoints.push(await node.system.checkpoint({ kind: 'full' }));
    await append(100, 180);
    checkpoints.push(await node.system.checkpoint({ kind: 'incremental' }));
    await append(180, 240);
    await shipAll(node);
    expect(node.uploads.list().length).toBeGreaterThanOrEqual(2);
  } finally {
    await node.close();
  }
  rmSync(dataDir, { recursive: true, force: true });

  const engine = engines.make({ store, prefix: PREFIX, nodeId: NODE_ID });
  const [full, incremental] = checkpoints as [CheckpointSummary, CheckpointSummary];
  const time = entries[incremental.lsn + 10]!.timestamp;
  const targets: [RecoveryTarget, number][] = [
    [{ checkpointId: full.id }, full.lsn],
    [{ checkpointId: incremental.id }, incremental.lsn],
    [{ lsn: 0 }, 0],
    [{ lsn: 50 }, 50],
    [{ lsn: full.lsn + 30 }, full.lsn + 30],
    [{ lsn: entries.length }, entries.length],
    [{ time }, incremental.lsn + 11],
  ];
  for (const [target, prefix] of targets) {
    const result = await engine.recoverTo(target);
    expect({ target, lsn: result.lsn }).toEqual({ target, lsn: prefix });
    expect(stateOf(result.state)).toEqual(replayState(entries.slice(0, prefix)));
    const some = await engine.recoverTo(target, ['c1']);
    expect(stateOf(some.state)).toEqual(replayState(entries.slice(0, prefix), ['c1']));
  }
  const plan = await engine.findRecoveryPath({ lsn: entries.length });
  expect(plan.checkpoints.map((c) => c.id)).toEqual([full.id, incremental.id]);
  expect(plan.wal?.local).toEqual([]);
  expect(plan.wal?.remote.length).toBeGreaterThan(0);
}
