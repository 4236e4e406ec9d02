import fc from 'fast-check';
import { CheckpointCatalog } from '../../../src/checkpoint/catalog/catalog';
import { CatalogFile } from '../../../src/checkpoint/catalog/catalog-file';
import { BLOCK_CODECS, type BlockCodec } from '../../../src/checkpoint/block/codecs';
import { IncrementalCheckpointSystem } from '../../../src/checkpoint/incremental-checkpoint-system';
import { CheckpointMerger } from '../../../src/checkpoint/merge/checkpoint-merger';
import { StateDigest } from '../../../src/checkpoint/manifest/state-digest';
import { readManifest } from '../../../src/checkpoint/write/checkpoint-reader';
import type { Snapshot } from '../../../src/checkpoint/state/state-types';
import { MemoryStore, blockKey, getBuffer, type ObjectStore } from '../../../src/storage';
import { SegmentedWal, clear, del, put, type Change, type LogEntry } from '../../../src/wal';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';

type Op = { component: number; kind: 'put' | 'delete' | 'clear'; key: number; value: number };

/** The naive reference: replay the log into maps. */
function replay(entries: readonly LogEntry[]): Map<string, Map<string, Buffer>> {
  const state = new Map<string, Map<string, Buffer>>();
  for (const entry of entries) {
    let component = state.get(entry.componentId);
    if (!component) state.set(entry.componentId, (component = new Map()));
    for (const change of entry.changes) {
      if (change.op === 'clear') component.clear();
      else if (change.op === 'delete') component.delete(Buffer.from(change.key).toString('latin1'));
      else component.set(Buffer.from(change.key).toString('latin1'), Buffer.from(change.value));
    }
  }
  return state;
}

/** Component → sorted [key, value] hex pairs, empty components left out: comparable with toEqual. */
function fromReplay(state: Map<string, Map<string, Buffer>>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, records] of state) {
    if (records.size === 0) continue;
    out[id] = [...records.entries()]
      .map(([key, value]) => [Buffer.from(key, 'latin1'), value] as const)
      .sort((a, b) => Buffer.compare(a[0], b[0]))
      .map(([key, value]) => `${key.toString('hex')}=${value.toString('hex')}`);
  }
  return out;
}

function fromSnapshot(snapshot: Snapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, component] of snapshot.components) {
    if (component.records.length === 0) continue;
    out[id] = component.records.map((r) => `${r.key.toString('hex')}=${r.value.toString('hex')}`);
  }
  return out;
}

function toEntry(op: Op, sequence: number): LogEntry {
  const key = Buffer.from([0x6b, op.key >> 8, op.key & 0xff]);
  const change: Change =
    op.kind === 'clear'
      ? clear()
      : op.kind === 'delete'
        ? del(key)
        : put(key, Buffer.alloc(1 + (op.value % 40), op.value));
  // µs from 2023-11-14T22:13:20Z: the WAL refuses a timestamp that cannot be µs since the epoch.
  const timestamp = 1_700_000_000_000_000 + sequence;
  return { componentId: `c${op.component}`, sequence, timestamp, changes: [change] };
}

interface Node {
  dir: string;
  store: ObjectStore;
  wal: SegmentedWal;
  catalog: CheckpointCatalog;
  merger: CheckpointMerger;
  system: IncrementalCheckpointSystem;
}

async function openSystemUnderTest(
  dir: string,
  store: ObjectStore,
  codec: BlockCodec,
  mergeStrategy: 'sequential' | 'optimal',
): Promise<Node> {
  const wal = await SegmentedWal.open(`${dir}/wal`, { segmentSize: 64 * 1024, preallocate: false });
  const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
  const merger = new CheckpointMerger({ mergeStrategy });
  const system = await IncrementalCheckpointSystem.open(
    { wal, store, catalog, merger },
    { codec, compressionThreshold: 64, targetBlockSize: 2048, checkpointInterval: 0, cleanupInterval: 0 },
  );
  return { dir, store, wal, catalog, merger, system };
}

async function closeNode(node: Node): Promise<void> {
  await node.system.stop();
  await node.merger.close();
  await node.wal.close();
}

describe('IncrementalCheckpointSystem', () => {
  const strategies = ['sequential', 'optimal'] as const;
  const combos = BLOCK_CODECS.flatMap((codec) => strategies.map((strategy) => [codec, strategy] as const));

  it.each(combos)(
    'a full checkpoint merged with its incrementals equals replaying the log (%s, %s)',
    async (codec, strategy) => {
      const op = fc.record({
        component: fc.integer({ min: 0, max: 3 }),
        kind: fc.constantFrom<Op['kind']>('put', 'put', 'put', 'put', 'delete', 'clear'),
        key: fc.integer({ min: 0, max: 60 }),
        value: fc.nat(255),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { minLength: 1, maxLength: 120 }),
          fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
          async (ops, cuts) => {
            const dir = tempDir('tidemark-cp-');
            const node = await openSystemUnderTest(dir, new MemoryStore(), codec, strategy);
            try {
              const entries = ops.map(toEntry);
              const points = [...new Set(cuts.map((cut) => 1 + (cut % entries.length)))].sort(
                (a, b) => a - b,
              );
              let written = 0;
              for (const point of points) {
                await node.wal.appendBatch(entries.slice(written, point));
                written = point;
                await node.system.checkpoint({ kind: written === points[0] ? 'full' : 'incremental' });
              }
              const last = node.catalog.latest()!;
              expect(last.lsn).toBe(written);
              const expected = replay(entries.slice(0, written));
              const loaded = await node.system.loadCheckpoint(last.id);
              expect(fromSnapshot(loaded)).toEqual(fromReplay(expected));
              // The manifest's digest of each component's whole state agrees with the replay.
              const manifest = await readManifest(node.store, 'tidemark', last.id);
              for (const [id, component] of Object.entries(manifest.components)) {
                const records = [...(expected.get(id) ?? new Map()).entries()]
                  .map(([key, value]) => ({ key: Buffer.from(key, 'latin1'), value }))
                  .sort((a, b) => Buffer.compare(a.key, b.key));
                expect(component.digest).toBe(StateDigest.of(records));
              }
            } finally {
              await closeNode(node);
              removeDir(dir);
            }
          },
        ),
        { numRuns: 15 },
      );
    },
  );

  describe('one node over time', () => {
    let dir: string;
    let store: MemoryStore;
    let node: Node;
    beforeEach(async () => {
      dir = tempDir('tidemark-cp-');
      store = new MemoryStore();
      node = await openSystemUnderTest(dir, store, 'zstd', 'sequential');
    });
    afterEach(async () => {
      await closeNode(node).catch(() => undefined);
      removeDir(dir);
    });

    /** Realistic window state: keys in time order, so recent windows are one contiguous key range. */
    const windowEntry = (sequence: number, window: number, group: number, round: number): LogEntry => ({
      componentId: 'window_processor_1',
      sequence,
      timestamp: 1_700_000_000_000_000 + sequence,
      changes: [
        put(
          `window:${String(window).padStart(8, '0')}:group-${String(group).padStart(4, '0')}`,
          Buffer.from(
            JSON.stringify({
              count: group + round,
              sum: (group * 31 + round) * 1.5,
              events: [window, group, round],
            }),
          ),
        ),
      ],
    });

    it('writes at most 10% of the state again in a full checkpoint after 5% of keys changed', async () => {
      let sequence = 0;
      const windows = 200;
      const groups = 100;
      const first: LogEntry[] = [];
      for (let w = 0; w < windows; w++)
        for (let g = 0; g < groups; g++) first.push(windowEntry(sequence++, w, g, 0));
      await node.wal.appendBatch(first);
      const full = await node.system.checkpoint({ kind: 'full' });
      // 5% of the keys: the 10 most recent windows get new values, as a stream's open windows do.
      const changes: LogEntry[] = [];
      for (let w = windows - 10; w < windows; w++)
        for (let g = 0; g < groups; g++) changes.push(windowEntry(sequence++, w, g, 1));
      await node.wal.appendBatch(changes);
      const second = await node.system.checkpoint({ kind: 'full' });
      expect(second.kind).toBe('full');
      expect(second.newBytes).toBeLessThanOrEqual(0.1 * full.storedBytes);
      expect(second.dedupRatio).toBeGreaterThan(0.9);
    });

    it('finds everything again after a restart and goes on with incrementals', async () => {
      await node.wal.appendBatch([toEntry({ component: 0, kind: 'put', key: 1, value: 1 }, 1)]);
      const first = await node.system.checkpoint();
      expect(first.kind).toBe('full');
      await node.wal.appendBatch([toEntry({ component: 0, kind: 'put', key: 2, value: 2 }, 2)]);
      await closeNode(node);
      node = await openSystemUnderTest(dir, store, 'zstd', 'sequential');
      const state = await node.system.currentState();
      expect(state.components.get('c0')!.records.map((r) => r.key[2])).toEqual([1, 2]);
      const next = await node.system.checkpoint();
      expect(next).toMatchObject({ kind: 'incremental', parentId: first.id, depth: 1, lsn: 2 });
      expect(next.id).toBeGreaterThan(first.id);
      expect(node.system.list().map((c) => c.id)).toEqual([first.id, next.id]);
    });

    it('auto writes a full checkpoint once the chain reaches maxIncrementalChainLength', async () => {
      await closeNode(node);
      const wal = await SegmentedWal.open(`${dir}/wal`, { preallocate: false });
      const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
      const merger = new CheckpointMerger({ maxChainLength: 2 });
      const system = await IncrementalCheckpointSystem.open(
        { wal, store, catalog, merger },
        { maxIncrementalChainLength: 3, checkpointInterval: 0, cleanupInterval: 0 },
      );
      node = { dir, store, wal, catalog, merger, system };
      const kinds: string[] = [];
      for (let i = 1; i <= 6; i++) {
        await wal.append(toEntry({ component: 1, kind: 'put', key: i, value: i }, i));
        kinds.push((await system.checkpoint()).kind);
      }
      expect(kinds).toEqual(['full', 'incremental', 'incremental', 'incremental', 'full', 'incremental']);
      // Chain optimisation: depth 1 is within maxChainLength 2; grow it to 3 and merge.
      for (let i = 7; i <= 8; i++) {
        await wal.append(toEntry({ component: 1, kind: 'put', key: i, value: i }, i));
        await system.checkpoint({ kind: 'incremental' });
      }
      const merged = await system.optimizeChains();
      expect(merged).toMatchObject({ kind: 'full', lsn: 8 });
      const state = await system.loadCheckpoint(merged!.id);
      expect(state.components.get('c1')!.records).toHaveLength(8);
      expect(await system.optimizeChains()).toBeUndefined();
    });

    it('refuses to delete a checkpoint others depend on unless forced', async () => {
      await node.wal.append(toEntry({ component: 0, kind: 'put', key: 1, value: 1 }, 1));
      const base = await node.system.checkpoint({ kind: 'full' });
      await node.wal.append(toEntry({ component: 0, kind: 'put', key: 2, value: 1 }, 2));
      const child = await node.system.checkpoint({ kind: 'incremental' });
      await expect(node.system.delete(base.id)).rejects.toMatchObject({ code: 'DEPENDENT_CHECKPOINTS' });
      // The newest restorable checkpoint is what a restart loads: not without force either.
      await expect(node.system.delete(child.id)).rejects.toMatchObject({ code: 'DEPENDENT_CHECKPOINTS' });
      expect(node.system.list()).toHaveLength(2);
      await node.system.delete(child.id, { force: true });
      await node.system.delete(base.id, { force: true });
      expect(node.system.list()).toHaveLength(0);
      await expect(node.system.loadCheckpoint(base.id)).rejects.toMatchObject({
        code: 'CHECKPOINT_NOT_FOUND',
      });
    });

    it('reports a corrupted block as CHECKSUM_MISMATCH and a broken chain as CHECKPOINT_NOT_FOUND', async () => {
      for (let i = 1; i <= 50; i++)
        await node.wal.append(toEntry({ component: 2, kind: 'put', key: i, value: i }, i));
      const base = await node.system.checkpoint({ kind: 'full' });
      await node.wal.append(toEntry({ component: 2, kind: 'delete', key: 3, value: 0 }, 51));
      const child = await node.system.checkpoint({ kind: 'incremental' });
      const manifest = await readManifest(store, 'tidemark', base.id);
      const hash = manifest.components.c2!.blocks[0]!.hash;
      const bytes = await getBuffer(store, blockKey('tidemark', hash));
      bytes[bytes.length - 1] ^= 0x01;
      await store.put(blockKey('tidemark', hash), bytes);
      await expect(node.system.loadCheckpoint(child.id)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
      await node.system.delete(base.id, { force: true });
      await expect(node.system.loadCheckpoint(child.id)).rejects.toMatchObject({
        code: 'CHECKPOINT_NOT_FOUND',
      });
    });

    it('refuses an unknown checkpoint kind', async () => {
      await expect(node.system.checkpoint({ kind: 'delta' as 'full' })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    });
  });
});
