import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CheckpointCatalog } from '../../../src/checkpoint/catalog/catalog';
import { CatalogFile } from '../../../src/checkpoint/catalog/catalog-file';
import { rebuildCatalog } from '../../../src/checkpoint/catalog/catalog-rebuild';
import { IncrementalCheckpointSystem } from '../../../src/checkpoint/incremental-checkpoint-system';
import { CheckpointMerger } from '../../../src/checkpoint/merge/checkpoint-merger';
import type { Snapshot } from '../../../src/checkpoint/state/state-types';
import {
  InstrumentedStore,
  LocalFileStore,
  getBuffer,
  walNodePrefix,
  type ObjectStore,
} from '../../../src/storage';
import { splitPack } from '../../../src/wal/archive/pack-splitter';
import { SegmentedWal, type SegmentInfo } from '../../../src/wal';
import { segmentFileName } from '../../../src/wal/format';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';
import {
  appendEntries,
  eventually,
  openTestNode,
  type TestNode,
} from '../../support/tiering/tiering-node-fixture';

function describeState(snapshot: Snapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, component] of snapshot.components) {
    out[id] = component.records.map((r) => `${r.key.toString('hex')}=${r.value.toString('hex')}`);
  }
  return out;
}

/** Restores a node's data directory from the store alone: the WAL from its packs, the catalog from manifests. */
async function restoreFromStore(store: ObjectStore, dataDir: string, nodeId: string): Promise<void> {
  const walDir = path.join(dataDir, 'wal');
  mkdirSync(walDir, { recursive: true });
  for await (const object of store.list(walNodePrefix('tidemark', nodeId))) {
    for (const segment of splitPack(await getBuffer(store, object.key), object.key)) {
      writeFileSync(path.join(walDir, segmentFileName(segment.firstLsn)), segment.bytes);
    }
  }
  const { catalog, problems } = await rebuildCatalog(store, 'tidemark');
  expect(problems).toEqual([]);
  await new CheckpointCatalog(catalog.toData(), CatalogFile.inDataDir(dataDir)).save();
}

describe('TieringNode (in process, local store)', () => {
  let root: string;
  let node: TestNode | undefined;

  beforeEach(() => {
    root = tempDir('tidemark-tiering-');
  });

  afterEach(async () => {
    await node?.close();
    node = undefined;
    removeDir(root);
  });

  it('ships sealed segments in verified packs, deletes local ones only when uploaded AND covered, and the store alone restores the node', async () => {
    const store = new InstrumentedStore(new LocalFileStore({ basePath: path.join(root, 'store') }));
    // Partial packs wait (an hour): in steady state only full packs are shipped.
    node = await openTestNode(path.join(root, 'node'), store, {
      tiering: { upload: { maxPackDelayMs: 3_600_000 } },
    });
    const { wal, system, tiering } = node;

    for (let batch = 0; batch < 30; batch++) await appendEntries(wal, 1 + batch * 100, 100);
    const sealed = wal.segments().filter((s: SegmentInfo) => s.sealed);
    expect(sealed.length).toBeGreaterThan(5);
    const pendingBytes = () => tiering.shipper.pending().reduce((sum, s) => sum + s.sizeBytes, 0);
    await eventually('all full packs are uploaded', () => pendingBytes() < 32 * 1024);
    await tiering.reconciler.reconcile({ flush: true }); // what POST /v1/uploads does
    await eventually('every sealed segment is uploaded', () => tiering.shipper.pending().length === 0);
    // Uploaded but not covered by a checkpoint: nothing local goes.
    expect(await wal.cleanup()).toBe(0);

    await system.checkpoint({ kind: 'full' });
    await eventually('covered and uploaded segments are deleted', () => wal.stats().deletedSegments > 0);
    expect(wal.stats().deletedSegments).toBe(sealed.length);

    for (let batch = 30; batch < 40; batch++) await appendEntries(wal, 1 + batch * 100, 100);
    await system.checkpoint({ kind: 'incremental' });
    for (let batch = 40; batch < 45; batch++) await appendEntries(wal, 1 + batch * 100, 100);
    await wal.seal();
    await tiering.reconciler.reconcile({ flush: true });
    await node.queue.drain();
    expect(tiering.shipper.pending()).toEqual([]);

    const counts = store.snapshot();
    expect(counts.operations.LIST.calls).toBe(0); // the uploads index knows what exists
    const shipped = node.uploads.list();
    const walBytes = shipped.reduce((sum, pack) => sum + pack.size, 0);
    // At most one PUT per pack target (32 KiB here), plus the final flushed partial pack.
    expect(shipped.length).toBeLessThanOrEqual(Math.ceil(walBytes / (32 * 1024)) + 1);
    expect(shipped.map((p) => p.firstLsn)).toEqual(
      shipped.map((_, i) => (i === 0 ? 1 : shipped[i - 1]!.lastLsn + 1)),
    );

    const expected = describeState(await system.currentState());
    const lastLsn = wal.stats().lastLsn;
    await node.close();
    node = undefined;
    removeDir(path.join(root, 'node')); // the disk is lost

    const restored = path.join(root, 'restored');
    await restoreFromStore(store, restored, 'node-1');
    const wal2 = await SegmentedWal.open(path.join(restored, 'wal'), {
      preallocate: false,
      canDelete: () => false,
    });
    const catalog2 = await CheckpointCatalog.open(CatalogFile.inDataDir(restored));
    const merger2 = new CheckpointMerger();
    try {
      expect(wal2.stats()).toMatchObject({ firstLsn: 1, lastLsn });
      const system2 = await IncrementalCheckpointSystem.open(
        { wal: wal2, store, catalog: catalog2, merger: merger2 },
        { checkpointInterval: 0, cleanupInterval: 0 },
      );
      expect(describeState(await system2.currentState())).toEqual(expected);
      await system2.stop();
    } finally {
      await merger2.close();
      await wal2.close();
    }
  });
});
