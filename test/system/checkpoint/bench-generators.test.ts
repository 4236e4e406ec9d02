import { CheckpointCatalog } from '../../../src/checkpoint/catalog/catalog';
import { CatalogFile } from '../../../src/checkpoint/catalog/catalog-file';
import { BLOCK_CODECS } from '../../../src/checkpoint/block/codecs';
import { IncrementalCheckpointSystem } from '../../../src/checkpoint/incremental-checkpoint-system';
import { StateDigest } from '../../../src/checkpoint/manifest/state-digest';
import { CheckpointMerger } from '../../../src/checkpoint/merge/checkpoint-merger';
import type { Snapshot, StateRecord } from '../../../src/checkpoint/state/state-types';
import { readManifest } from '../../../src/checkpoint/write/checkpoint-reader';
import { MemoryStore } from '../../../src/storage';
import { SegmentedWal, del, put, type LogEntry } from '../../../src/wal';
import { GENERATOR_KINDS, generateState } from '../../../bench/src/state-generators';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';

/**
 * The checkpoint path over the benchmark's own generated states (not only the tests' small random ones):
 * the log of each state, a 5% change, deletes and more — full checkpoints, incrementals, full checkpoints
 * and chain merges by block — and every checkpoint read back equals the materialised log, digests included.
 */

function values(snapshot: Snapshot): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [id, c] of snapshot.components) {
    if (c.records.length > 0)
      out.set(
        id,
        c.records.map((r) => `${r.key.toString('hex')}=${r.value.toString('hex')}`),
      );
  }
  return out;
}

describe.each(GENERATOR_KINDS)('the checkpoint path over the %s generator', (kind) => {
  it.each(BLOCK_CODECS.filter((c) => c === 'zstd' || c === 'none'))(
    'holds the log state at every step (%s)',
    async (codec) => {
      const generated = generateState(kind, 600_000, 3);
      const dir = tempDir('tidemark-gen-');
      const wal = await SegmentedWal.open(`${dir}/wal`, { preallocate: false, enableSync: false });
      const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
      const merger = new CheckpointMerger({ maxChainLength: 1 });
      const store = new MemoryStore();
      // Blocks of ~16 KiB: the state makes dozens, so stretches and reuse both occur.
      const system = await IncrementalCheckpointSystem.open(
        { wal, store, catalog, merger },
        { codec, targetBlockSize: 16 * 1024, checkpointInterval: 0, cleanupInterval: 0 },
      );
      let sequence = 0;
      const entries = (
        snapshot: Snapshot,
        pick: (i: number, n: number, record: StateRecord) => 'put' | 'delete' | undefined,
      ) => {
        const out: LogEntry[] = [];
        for (const [componentId, component] of snapshot.components) {
          component.records.forEach((record, i) => {
            const op = pick(i, component.records.length, record);
            if (op === undefined) return;
            out.push({
              componentId,
              sequence: ++sequence,
              timestamp: 1_700_000_000_000_000 + sequence,
              changes: [op === 'put' ? put(record.key, record.value) : del(record.key)],
            });
          });
        }
        return out;
      };
      const check = async (id: number) => {
        const loaded = await system.loadCheckpoint(id);
        expect(values(loaded)).toEqual(values(await system.currentState()));
        const manifest = await readManifest(store, 'tidemark', id);
        for (const [componentId, component] of Object.entries(manifest.components)) {
          expect(component.digest).toBe(StateDigest.of(loaded.components.get(componentId)?.records ?? []));
        }
      };
      try {
        await wal.appendBatch(entries(generated.snapshot, () => 'put'));
        await check((await system.checkpoint({ kind: 'full' })).id);
        const before = generated.snapshot;
        const changed = generated.changed(0.05);
        // The records the generator changed: new objects (the others are the base's own).
        const old = new Set([...before.components.values()].flatMap((c) => c.records));
        const changedEntries = entries(changed, (_i, _n, record) => (old.has(record) ? undefined : 'put'));
        expect(changedEntries.length).toBeGreaterThan(0);
        await wal.appendBatch(changedEntries);
        await check((await system.checkpoint({ kind: 'incremental' })).id);
        // Deletes of every 97th key, then the changed state's 5% again on top.
        await wal.appendBatch(entries(before, (i) => (i % 97 === 5 ? 'delete' : undefined)));
        await check((await system.checkpoint({ kind: 'incremental' })).id);
        const full = await system.checkpoint({ kind: 'full' });
        await check(full.id);
        await wal.appendBatch(entries(changed, (i, n) => (i >= n - Math.ceil(n / 50) ? 'put' : undefined)));
        await system.checkpoint({ kind: 'incremental' });
        await wal.appendBatch(entries(before, (i) => (i % 89 === 3 ? 'put' : undefined)));
        await system.checkpoint({ kind: 'incremental' });
        const merged = await system.optimizeChains();
        await check(merged!.id);
      } finally {
        await system.stop();
        await merger.close();
        await wal.close();
        removeDir(dir);
      }
    },
    120_000,
  );
});
