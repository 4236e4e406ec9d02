import fc from 'fast-check';
import { CheckpointCatalog } from '../../../src/checkpoint/catalog/catalog';
import { CatalogFile } from '../../../src/checkpoint/catalog/catalog-file';
import { BLOCK_CODECS, type BlockCodec } from '../../../src/checkpoint/block/codecs';
import { IncrementalCheckpointSystem } from '../../../src/checkpoint/incremental-checkpoint-system';
import type { Manifest } from '../../../src/checkpoint/manifest/manifest';
import { encodeManifest } from '../../../src/checkpoint/manifest/manifest-codec';
import { StateDigest } from '../../../src/checkpoint/manifest/state-digest';
import { CheckpointMerger } from '../../../src/checkpoint/merge/checkpoint-merger';
import type { ConflictResolution } from '../../../src/checkpoint/merge/merger-config';
import type { Snapshot } from '../../../src/checkpoint/state/state-types';
import { readManifest } from '../../../src/checkpoint/write/checkpoint-reader';
import { MemoryStore, blockKey, manifestKey } from '../../../src/storage';
import { SegmentedWal, clear, del, put, type LogEntry } from '../../../src/wal';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';

/**
 * optimizeChains merges a chain by block (merged-full-writer.ts): untouched blocks named again, touched
 * stretches rewritten. Whatever it reuses, the new full checkpoint must hold exactly the chain's state.
 */

type Op = { component: number; kind: 'put' | 'delete' | 'clear'; key: number; value: number };

/** A random change: mostly puts, some deletes, rare clears; 3 components, 401 keys. */
const op = fc.record({
  component: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom<Op['kind']>('put', 'put', 'put', 'put', 'put', 'delete', 'delete', 'clear'),
  key: fc.integer({ min: 0, max: 400 }),
  value: fc.nat(255),
});

/** 400 distinct keys over the 3 components: many small blocks, so that one changed key touches few of them. */
const FEW_BLOCKS_BASE: Op[] = Array.from({ length: 400 }, (_, i) => ({
  component: i % 3,
  kind: 'put',
  key: i,
  value: i % 256,
}));

function toEntry(op: Op, sequence: number, timestampJitter = 0): LogEntry {
  const key = `k${String(op.key).padStart(5, '0')}`;
  const change =
    op.kind === 'clear'
      ? clear()
      : op.kind === 'delete'
        ? del(key)
        : put(key, Buffer.alloc(1 + (op.value % 40), op.value));
  const timestamp = 1_700_000_000_000_000 + sequence + timestampJitter;
  return { componentId: `c${op.component}`, sequence, timestamp, changes: [change] };
}

/** Every record with its LSN and timestamp, per component (empty ones left out). */
function records(snapshot: Snapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, component] of snapshot.components) {
    if (component.records.length === 0) continue;
    out[id] = component.records.map(
      (r) => `${r.key.toString()}=${r.value.toString('hex')}@${r.lsn}/${r.timestamp}`,
    );
  }
  return out;
}

/** Log messages of the systems under test, to tell which path a full checkpoint took. */
const messages: string[] = [];
const recordingLogger = {
  debug: (_: object, msg?: string) => void messages.push(msg ?? ''),
  info: (_: object, msg?: string) => void messages.push(msg ?? ''),
  warn: (_: object, msg?: string) => void messages.push(msg ?? ''),
  error: (_: object, msg?: string) => void messages.push(msg ?? ''),
};

async function openSystem(dir: string, store: MemoryStore, codec: BlockCodec, rule: ConflictResolution) {
  const wal = await SegmentedWal.open(`${dir}/wal`, { segmentSize: 64 * 1024, preallocate: false });
  const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
  const merger = new CheckpointMerger({ maxChainLength: 1, conflictResolution: rule });
  // Small blocks (~10-20 records): a few hundred keys make many blocks, so stretches and reuse both occur.
  const system = await IncrementalCheckpointSystem.open(
    { wal, store, catalog, merger, logger: recordingLogger },
    { codec, compressionThreshold: 64, targetBlockSize: 512, checkpointInterval: 0, cleanupInterval: 0 },
  );
  return {
    store,
    wal,
    catalog,
    system,
    close: async () => {
      await system.stop();
      await merger.close();
      await wal.close();
    },
  };
}

describe('merging a chain by block', () => {
  it.each(BLOCK_CODECS)(
    'gives the state of the chain, digest and key count included, whatever it reuses (%s)',
    async (codec) => {
      let reused = 0;
      let written = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { minLength: 200, maxLength: 600 }),
          fc.array(fc.array(op, { minLength: 1, maxLength: 30 }), { minLength: 2, maxLength: 5 }),
          async (base, steps) => {
            // No clear in the base (a clear there just empties it); steps keep their rare clears.
            const dir = tempDir('tidemark-mbb-');
            const node = await openSystem(dir, new MemoryStore(), codec, 'last-write-wins');
            try {
              let sequence = 0;
              const entries = base.filter((o) => o.kind !== 'clear').map((o) => toEntry(o, ++sequence));
              await node.wal.appendBatch(entries);
              await node.system.checkpoint({ kind: 'full' });
              for (const step of steps) {
                await node.wal.appendBatch(step.map((o) => toEntry(o, ++sequence)));
                await node.system.checkpoint({ kind: 'incremental' });
              }
              const chainEnd = node.catalog.latest()!;
              const expected = await node.system.loadCheckpoint(chainEnd.id);
              const merged = await node.system.optimizeChains();
              expect(merged).toMatchObject({ kind: 'full', lsn: chainEnd.lsn });
              const loaded = await node.system.loadCheckpoint(merged!.id);
              expect(records(loaded)).toEqual(records(expected));
              expect(records(loaded)).toEqual(records(await node.system.currentState()));
              const manifest = await readManifest(node.store, 'tidemark', merged!.id);
              reused += manifest.stats.reusedBlocks;
              written += manifest.stats.newBlocks;
              for (const [id, component] of Object.entries(manifest.components)) {
                const state = loaded.components.get(id)?.records ?? [];
                expect(component.digest).toBe(StateDigest.of(state));
                expect(component.keyCount).toBe(state.length);
              }
            } finally {
              await node.close();
              removeDir(dir);
            }
          },
        ),
        { numRuns: 12 },
      );
      // The runs exercised both paths: blocks named again, and stretches written anew.
      expect(reused).toBeGreaterThan(0);
      expect(written).toBeGreaterThan(0);
    },
  );

  it.each(BLOCK_CODECS)(
    'full checkpoints taken by block over the newest chain hold the log state (%s)',
    async (codec) => {
      let reused = 0;
      messages.length = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { minLength: 200, maxLength: 500 }),
          fc.array(fc.tuple(fc.array(op, { maxLength: 30 }), fc.boolean()), { minLength: 1, maxLength: 5 }),
          async (base, steps) => {
            const dir = tempDir('tidemark-mbb-');
            const node = await openSystem(dir, new MemoryStore(), codec, 'last-write-wins');
            try {
              let sequence = 0;
              await node.wal.appendBatch(
                base.filter((o) => o.kind !== 'clear').map((o) => toEntry(o, ++sequence)),
              );
              await node.system.checkpoint({ kind: 'full' });
              for (const [step, full] of steps) {
                if (step.length > 0) await node.wal.appendBatch(step.map((o) => toEntry(o, ++sequence)));
                const taken = await node.system.checkpoint({ kind: full ? 'full' : 'incremental' });
                const loaded = await node.system.loadCheckpoint(taken.id);
                expect(records(loaded)).toEqual(records(await node.system.currentState()));
                const manifest = await readManifest(node.store, 'tidemark', taken.id);
                for (const [id, component] of Object.entries(manifest.components)) {
                  const state = loaded.components.get(id)?.records ?? [];
                  expect(component.digest).toBe(StateDigest.of(state));
                  expect(component.keyCount).toBe(state.length);
                }
                if (full) reused += manifest.stats.reusedBlocks;
              }
            } finally {
              await node.close();
              removeDir(dir);
            }
          },
        ),
        // The random runs seldom touch few enough blocks to go by block (CI once drew none): one run that must.
        {
          numRuns: 10,
          examples: [[FEW_BLOCKS_BASE, [[[{ component: 1, kind: 'put', key: 7, value: 9 }], true]]]],
        },
      );
      expect(reused).toBeGreaterThan(0);
      // Both ways of writing a full checkpoint were taken: by block (few blocks touched) and whole.
      expect(messages.filter((m) => m === 'full checkpoint by block').length).toBeGreaterThan(0);
    },
  );

  describe('one chain', () => {
    let dir: string;
    let node: Awaited<ReturnType<typeof openSystem>>;
    let sequence: number;
    const putAll = (keys: number[], value: number) =>
      node.wal.appendBatch(keys.map((key) => toEntry({ component: 0, kind: 'put', key, value }, ++sequence)));
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

    beforeEach(async () => {
      dir = tempDir('tidemark-mbb-');
      node = await openSystem(dir, new MemoryStore(), 'zstd', 'last-write-wins');
      sequence = 0;
    });
    afterEach(async () => {
      await node.close();
      removeDir(dir);
    });

    it('names untouched blocks again and writes only the stretches the deltas touch', async () => {
      await putAll(range(0, 3000), 1);
      const full = await node.system.checkpoint({ kind: 'full' });
      await putAll(range(2990, 3010), 2); // the newest keys, and new ones after them
      await node.system.checkpoint({ kind: 'incremental' });
      await putAll([1500, 1501], 3); // two keys in the middle
      await node.wal.append(toEntry({ component: 0, kind: 'delete', key: 10, value: 0 }, ++sequence));
      await node.system.checkpoint({ kind: 'incremental' });

      const merged = await node.system.optimizeChains();
      const base = await readManifest(node.store, 'tidemark', full.id);
      const result = await readManifest(node.store, 'tidemark', merged!.id);
      const before = base.components.c0!.blocks;
      const after = result.components.c0!.blocks;
      expect(before.length).toBeGreaterThan(100);
      // Three stretches (head, middle, tail), each a block or two plus the one its tail carries into.
      const kept = after.filter((b) => before.some((old) => old.hash === b.hash));
      expect(kept.length).toBeGreaterThanOrEqual(before.length - 12);
      expect(result.stats.newBlocks).toBeLessThanOrEqual(12);
      expect(result.stats.reusedBlocks).toBe(after.length - result.stats.newBlocks);
      // A reused block is named as it was: same range, same sizes.
      for (const block of kept) expect(before).toContainEqual(block);
      const state = (await node.system.loadCheckpoint(merged!.id)).components.get('c0')!.records;
      expect(state).toHaveLength(3009);
      expect(records(await node.system.loadCheckpoint(merged!.id))).toEqual(
        records(await node.system.currentState()),
      );
    });

    it('refuses to publish when the blocks it wrote disagree with the chain (INTERNAL), and writes no manifest', async () => {
      await putAll(range(0, 500), 1);
      await node.system.checkpoint({ kind: 'full' });
      await putAll([7], 2);
      await node.system.checkpoint({ kind: 'incremental' });
      await putAll([8], 2);
      const newest = await node.system.checkpoint({ kind: 'incremental' });
      // A manifest that claims one key more than its chain holds (what a merge bug would look like).
      const manifest = await readManifest(node.store, 'tidemark', newest.id);
      const lying: Manifest = structuredClone({ ...manifest, components: { ...manifest.components } });
      lying.components.c0 = { ...lying.components.c0!, keyCount: lying.components.c0!.keyCount + 1 };
      await node.store.put(manifestKey('tidemark', newest.id), encodeManifest(lying));
      const listed = node.system.list().map((c) => c.id);
      await expect(node.system.optimizeChains()).rejects.toMatchObject({
        code: 'INTERNAL',
        message: expect.stringContaining('merging component c0 gave 500 records where the chain'),
      });
      expect(node.system.list().map((c) => c.id)).toEqual(listed);
    });

    it('a full checkpoint whose merge by block is refused writes the whole state instead', async () => {
      const putC1 = (keys: number[], value: number) =>
        node.wal.appendBatch(
          keys.map((key) => toEntry({ component: 1, kind: 'put', key, value }, ++sequence)),
        );
      await putC1(range(0, 500), 1);
      await node.system.checkpoint({ kind: 'full' });
      await putC1([7], 2);
      const newest = await node.system.checkpoint({ kind: 'incremental' });
      // The chain's word on c1 is wrong; the next changes are all in c0, so only the chain describes c1.
      const manifest = await readManifest(node.store, 'tidemark', newest.id);
      const lying: Manifest = structuredClone({ ...manifest, components: { ...manifest.components } });
      lying.components.c1 = { ...lying.components.c1!, keyCount: lying.components.c1!.keyCount + 1 };
      await node.store.put(manifestKey('tidemark', newest.id), encodeManifest(lying));
      await putAll([8], 3);
      const full = await node.system.checkpoint({ kind: 'full' });
      expect(full.kind).toBe('full');
      const written = await readManifest(node.store, 'tidemark', full.id);
      expect(written.components.c1!.keyCount).toBe(500);
      expect(records(await node.system.loadCheckpoint(full.id))).toEqual(
        records(await node.system.currentState()),
      );
    });

    it('a full checkpoint over a chain whose block is damaged is written from the whole state', async () => {
      await putAll(range(0, 500), 1);
      await node.system.checkpoint({ kind: 'full' });
      await putAll([7, 8, 9], 2);
      const newest = await node.system.checkpoint({ kind: 'incremental' });
      const manifest = await readManifest(node.store, 'tidemark', newest.id);
      const key = blockKey('tidemark', manifest.components.c0!.blocks[0]!.hash);
      await node.store.put(key, Buffer.from('not a block any more'));
      await putAll([10], 3);
      const full = await node.system.checkpoint({ kind: 'full' });
      expect(full.kind).toBe('full');
      expect(records(await node.system.loadCheckpoint(full.id))).toEqual(
        records(await node.system.currentState()),
      );
      expect(messages).toContain('full checkpoint by block failed: writing the whole state');
    });

    it('merges a chain whose base is format 1 (no key ranges) by reading it whole', async () => {
      await putAll(range(0, 300), 1);
      const full = await node.system.checkpoint({ kind: 'full' });
      await putAll([5, 305], 2);
      await node.system.checkpoint({ kind: 'incremental' });
      await putAll([6], 3);
      await node.system.checkpoint({ kind: 'incremental' });
      const base = await readManifest(node.store, 'tidemark', full.id);
      const v1: Manifest = structuredClone({ ...base, components: { ...base.components } });
      v1.formatVersion = 1;
      for (const component of Object.values(v1.components)) {
        component.blocks = component.blocks.map(({ firstKey: _f, lastKey: _l, ...rest }) => rest);
      }
      await node.store.put(manifestKey('tidemark', full.id), encodeManifest(v1));
      const merged = await node.system.optimizeChains();
      const result = await readManifest(node.store, 'tidemark', merged!.id);
      expect(result.formatVersion).toBe(2);
      expect(records(await node.system.loadCheckpoint(merged!.id))).toEqual(
        records(await node.system.currentState()),
      );
    });
  });

  it('under another conflict rule, merges the whole state as before (the chain may not describe the merge)', async () => {
    const dir = tempDir('tidemark-mbb-');
    const node = await openSystem(dir, new MemoryStore(), 'lz4', 'first-write-wins');
    try {
      let sequence = 0;
      await node.wal.appendBatch(
        Array.from({ length: 200 }, (_, key) =>
          toEntry({ component: 0, kind: 'put', key, value: 1 }, ++sequence),
        ),
      );
      await node.system.checkpoint({ kind: 'full' });
      for (let step = 0; step < 2; step++) {
        await node.wal.append(toEntry({ component: 0, kind: 'put', key: 3, value: 9 + step }, ++sequence));
        await node.system.checkpoint({ kind: 'incremental' });
      }
      const chainEnd = node.catalog.latest()!;
      const expected = await node.system.loadCheckpoint(chainEnd.id);
      const merged = await node.system.optimizeChains();
      const loaded = await node.system.loadCheckpoint(merged!.id);
      expect(records(loaded)).toEqual(records(expected));
      const manifest = await readManifest(node.store, 'tidemark', merged!.id);
      expect(manifest.components.c0!.digest).toBe(StateDigest.of(loaded.components.get('c0')!.records));
    } finally {
      await node.close();
      removeDir(dir);
    }
  });
});
