import * as path from 'node:path';
import { BLOCK_CODECS } from '../../../src/checkpoint/block/codecs';
import { WorkerBlockEncoder, type BlockEncoder } from '../../../src/checkpoint/block/block-encoder';
import { verifyBlock } from '../../../src/checkpoint/block/block-codec';
import { CheckpointCatalog } from '../../../src/checkpoint/catalog/catalog';
import { CatalogFile } from '../../../src/checkpoint/catalog/catalog-file';
import { IncrementalCheckpointSystem } from '../../../src/checkpoint/incremental-checkpoint-system';
import { CheckpointMerger } from '../../../src/checkpoint/merge/checkpoint-merger';
import { packRecords } from '../../../src/checkpoint/run/run-transfer';
import type { Snapshot, StateRecord } from '../../../src/checkpoint/state/state-types';
import { loadCheckpointState } from '../../../src/checkpoint/write/checkpoint-reader';
import {
  writeFullCheckpoint,
  type CheckpointWriteContext,
} from '../../../src/checkpoint/write/checkpoint-writer';
import { BlockPool } from '../../../src/recovery/block-pool';
import { MemoryStore, blockKey, getBuffer } from '../../../src/storage';
import { SegmentedWal, put } from '../../../src/wal';
import { ROOT, ensureBuilt } from '../../support/ensure-built';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';

/** The build's worker: piscina loads a .js file (tests run from the TypeScript sources). */
const workerFilename = path.join(ROOT, 'dist/checkpoint/block/encode-worker.js');

function state(count: number, seed: number): Snapshot {
  const records: StateRecord[] = [];
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(`window:${String(i).padStart(8, '0')}`);
    const value = Buffer.from(`{"count":${(i * seed) % 977},"sum":${i * 1.5},"pad":"${'x'.repeat(i % 50)}"}`);
    records.push({ key, value, lsn: i + 1, timestamp: 1_700_000_000_000_000 + i });
  }
  return { lsn: count, components: new Map([['c', { componentId: 'c', records }]]) };
}

function context(
  store: MemoryStore,
  codec: (typeof BLOCK_CODECS)[number],
  encoder?: BlockEncoder,
): CheckpointWriteContext {
  return {
    store,
    prefix: 'tm',
    catalog: new CheckpointCatalog(),
    nodeId: 'n1',
    fencingToken: 0,
    codec,
    blocks: {
      codec,
      compressionThreshold: 64,
      targetSize: 4096,
      enableDeduplication: true,
      concurrency: 4,
      encoder,
    },
  };
}

describe('checkpoint blocks encoded on worker threads', () => {
  let encoder: BlockEncoder;
  beforeAll(() => {
    ensureBuilt();
    encoder = WorkerBlockEncoder.create(2, workerFilename);
  }, 120_000);
  afterAll(() => encoder.close());

  it('runs on workers in a build, and on the calling thread without the worker file', () => {
    expect(encoder).toBeInstanceOf(WorkerBlockEncoder);
    expect(WorkerBlockEncoder.create(2, path.join(ROOT, 'no-such-worker.js'))).not.toBeInstanceOf(
      WorkerBlockEncoder,
    );
  });

  it.each(BLOCK_CODECS)(
    'writes the blocks the calling thread writes, readable and intact (%s)',
    async (codec) => {
      const snapshot = state(3000, 7);
      const onWorkers = new MemoryStore();
      const inline = new MemoryStore();
      const a = await writeFullCheckpoint(context(onWorkers, codec, encoder), snapshot, 1);
      const b = await writeFullCheckpoint(context(inline, codec), snapshot, 1);
      const blocks = a.components.c!.blocks;
      expect(blocks.length).toBeGreaterThan(10);
      // Same raw bodies, so the same names, ranges and counts; stored sizes may differ (another zstd binding).
      const names = (m: typeof a) =>
        m.components.c!.blocks.map(({ hash, recordCount, rawBytes, firstKey, lastKey }) => ({
          hash,
          recordCount,
          rawBytes,
          firstKey,
          lastKey,
        }));
      expect(names(a)).toEqual(names(b));
      expect(a.components.c!.digest).toBe(b.components.c!.digest);
      for (const block of blocks) {
        const info = await verifyBlock(await getBuffer(onWorkers, blockKey('tm', block.hash)), block.hash);
        expect(info.recordCount).toBe(block.recordCount);
      }
      const catalog = new CheckpointCatalog();
      await catalog.commit(a);
      const loaded = await loadCheckpointState(
        { store: onWorkers, prefix: 'tm', catalog, merger: new CheckpointMerger() },
        a.checkpointId,
      );
      expect(loaded.components.get('c')!.records.map((r) => r.value.toString())).toEqual(
        snapshot.components.get('c')!.records.map((r) => r.value.toString()),
      );
    },
  );

  it('closed worker pools refuse work (CLOSED) instead of starting a pool nobody would close', async () => {
    const closedEncoder = WorkerBlockEncoder.create(1, workerFilename);
    await closedEncoder.close();
    const run = packRecords(state(10, 3).components.get('c')!.records);
    await expect(closedEncoder.encode(run, { codec: 'none' })).rejects.toMatchObject({ code: 'CLOSED' });
    const pool = new BlockPool(2, path.join(ROOT, 'dist/recovery/block-worker.js'));
    expect(pool.inline).toBe(false);
    await pool.close();
    await expect(pool.decodeRun(Buffer.alloc(64), 'ab'.repeat(32))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('brings a worker error back with its code (keys that do not rise: SERIALIZATION_ERROR)', async () => {
    const records = [
      { key: Buffer.from('b'), value: Buffer.from('1'), lsn: 1, timestamp: 1 },
      { key: Buffer.from('a'), value: Buffer.from('2'), lsn: 2, timestamp: 2 },
    ];
    await expect(encoder.encode(packRecords(records), { codec: 'zstd' })).rejects.toMatchObject({
      code: 'SERIALIZATION_ERROR',
      message: expect.stringContaining('keys must rise strictly'),
    });
  });

  it('a checkpoint system with the encoder: incrementals, full checkpoints and chain merges by block', async () => {
    const dir = tempDir('tidemark-encode-workers-');
    const wal = await SegmentedWal.open(`${dir}/wal`, { preallocate: false });
    const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
    const merger = new CheckpointMerger({ maxChainLength: 1 });
    const store = new MemoryStore();
    const system = await IncrementalCheckpointSystem.open(
      { wal, store, catalog, merger, encoder },
      { targetBlockSize: 2048, checkpointInterval: 0, cleanupInterval: 0 },
    );
    try {
      let sequence = 0;
      const append = (from: number, to: number, round: number) =>
        wal.appendBatch(
          Array.from({ length: to - from }, (_, i) => ({
            componentId: 'c',
            sequence: ++sequence,
            timestamp: 1_700_000_000_000_000 + sequence,
            changes: [put(`k${String(from + i).padStart(6, '0')}`, Buffer.from(`v${round}-${from + i}`))],
          })),
        );
      await append(0, 2000, 0);
      await system.checkpoint({ kind: 'full' });
      await append(1990, 2010, 1);
      await system.checkpoint({ kind: 'incremental' });
      await append(5, 6, 2);
      await system.checkpoint({ kind: 'incremental' });
      const merged = await system.optimizeChains();
      await append(100, 101, 3);
      const full = await system.checkpoint({ kind: 'full' });
      for (const id of [merged!.id, full.id]) {
        const loaded = await system.loadCheckpoint(id);
        const current = await system.currentState();
        if (id === full.id)
          expect(loaded.components.get('c')!.records.map((r) => r.value.toString())).toEqual(
            current.components.get('c')!.records.map((r) => r.value.toString()),
          );
        else expect(loaded.components.get('c')!.records).toHaveLength(2010);
      }
      expect(full.dedupRatio).toBeGreaterThan(0.5);
    } finally {
      await system.stop();
      await merger.close();
      await wal.close();
      removeDir(dir);
    }
  });
});
