import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { CheckpointCatalog } from '../../../../src/checkpoint/catalog/catalog';
import { CatalogFile } from '../../../../src/checkpoint/catalog/catalog-file';
import { IncrementalCheckpointSystem } from '../../../../src/checkpoint/incremental-checkpoint-system';
import type { BlockCodec } from '../../../../src/checkpoint/block/codecs';
import { CheckpointMerger } from '../../../../src/checkpoint/merge/checkpoint-merger';
import { readManifest } from '../../../../src/checkpoint/write/checkpoint-reader';
import { writeRecordBlocks, type BlockWriteOptions } from '../../../../src/checkpoint/write/block-writer';
import { verifyStore } from '../../../../src/recovery/verification/verify-store';
import { blockKey, LocalFileStore } from '../../../../src/storage';
import { put, SegmentedWal } from '../../../../src/wal';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import { windowState } from '../../../support/checkpoint/block/block-fixtures';

/**
 * A block is content-addressed by its raw records, so the same block may come back in another encoding
 * (another codec, raw below a threshold). The object stored first stays; every manifest naming the block
 * must say that object's size — or `verify` reports a healthy store as corrupt and every ratio is wrong.
 */
const PREFIX = 'tm';

describe('reused blocks: manifests say the size of the object the store holds', () => {
  let root: string;
  let store: LocalFileStore;
  const sizeOf = (hash: string) => statSync(path.join(root, 'store', blockKey(PREFIX, hash))).size;

  beforeEach(() => {
    root = tempDir('tidemark-reused-');
    store = new LocalFileStore({ basePath: path.join(root, 'store') });
  });

  afterEach(() => removeDir(root));

  const options = (codec: BlockCodec, enableDeduplication = true): BlockWriteOptions => ({
    codec,
    compressionThreshold: 0,
    targetSize: 4096,
    enableDeduplication,
    concurrency: 3,
  });

  it.each([
    ['the catalog knows the block', true, true],
    ['the catalog does not (the create loses to the stored object)', true, false],
    ['deduplication is off (the object is not rewritten)', false, true],
  ])('when the codec changed between writes and %s', async (_, dedup, sameCatalog) => {
    const records = windowState(400);
    const first = new CheckpointCatalog();
    const raw = await writeRecordBlocks(store, PREFIX, first, records, options('none'));
    const objects = raw.blocks.map((b) => readFileSync(path.join(root, 'store', blockKey(PREFIX, b.hash))));

    const again = await writeRecordBlocks(
      store,
      PREFIX,
      sameCatalog ? first : new CheckpointCatalog(),
      records,
      options('zstd', dedup),
    );
    expect(again.blocks.map((b) => b.hash)).toEqual(raw.blocks.map((b) => b.hash));
    for (const ref of again.blocks) expect(ref.storedBytes).toBe(sizeOf(ref.hash));
    expect(again.storedBytes).toBe(raw.storedBytes);
    expect(again.newBlocks).toBe(0);
    expect(again.newBytes).toBe(0);
    expect(again.reusedBlocks).toBe(raw.blocks.length);
    // Never rewritten in the new encoding.
    raw.blocks.forEach((b, i) =>
      expect(readFileSync(path.join(root, 'store', blockKey(PREFIX, b.hash)))).toEqual(objects[i]),
    );
  });

  it('a node reopened with another codec, or with raw deltas, writes manifests verify accepts', async () => {
    const dataDir = path.join(root, 'node');
    const open = async (codec: BlockCodec, enableDeltaCompression: boolean) => {
      const wal = await SegmentedWal.open(path.join(dataDir, 'wal'), { preallocate: false });
      const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dataDir));
      const merger = new CheckpointMerger({ enableDeltaCompression, compressionThreshold: 0 });
      const system = await IncrementalCheckpointSystem.open(
        { wal, store, catalog, merger },
        { prefix: PREFIX, codec, compressionThreshold: 0, targetBlockSize: 4096, checkpointInterval: 0 },
      );
      return {
        wal,
        system,
        close: async () => {
          await system.stop();
          await merger.close();
          await wal.close();
        },
      };
    };
    const append = async (wal: SegmentedWal, from: number, count: number) => {
      const entries = [];
      for (let s = from; s < from + count; s++) {
        entries.push({
          componentId: `w${s % 2}`,
          sequence: s,
          timestamp: 1_700_000_000_000_000 + s,
          changes: [put(`key-${s % 300}`, `value ${s} `.repeat(8))],
        });
      }
      await wal.appendBatch(entries);
    };

    let node = await open('none', false);
    await append(node.wal, 1, 600);
    await node.system.checkpoint({ kind: 'full' }); // raw blocks
    await append(node.wal, 601, 50);
    const delta = await node.system.checkpoint({ kind: 'incremental' }); // raw delta blocks
    await node.close();

    node = await open('zstd', true);
    const full = await node.system.checkpoint({ kind: 'full' }); // same content, now zstd: reused
    await node.close();

    for (const id of [delta.id, full.id]) {
      const manifest = await readManifest(store, PREFIX, id);
      let stored = 0;
      for (const component of Object.values(manifest.components)) {
        for (const ref of component.blocks) {
          expect(ref.storedBytes).toBe(sizeOf(ref.hash));
          stored += ref.storedBytes;
        }
      }
      expect(manifest.stats.storedBytes).toBe(stored);
    }
    for (const level of ['basic', 'standard'] as const) {
      const report = await verifyStore({ store, prefix: PREFIX }, { level });
      expect({ level, faults: report.totals.faults }).toEqual({ level, faults: 0 });
    }
  });
});
