import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readManifest } from '../../../../src/checkpoint/write/checkpoint-reader';
import type { RecoveryTarget } from '../../../../src/recovery/recovery-types';
import { LocalFileStore, MemoryStore, blockKey, manifestKey } from '../../../../src/storage';
import { SegmentedWal } from '../../../../src/wal';
import { FRAME_HEADER_SIZE, HEADER_SIZE } from '../../../../src/wal/format';
import type { TestNode } from '../../../support/tiering/tiering-node-fixture';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import {
  Engines,
  NODE_ID,
  PREFIX,
  buildHistory,
  flipBit,
  nodeBackend,
  openRecoveryNode,
  replayState,
  rewriteManifest,
  simpleEntries,
  stateOf,
  type History,
} from '../../../support/recovery/recovery-fixtures';

describe('RecoveryEngine: what it detects, with stable codes', () => {
  const engines = new Engines();
  let root: string;
  let storeDir: string;
  let store: LocalFileStore;
  let node: TestNode;
  let history: History;
  const cp = (i: number) => history.checkpoints[i]!;
  const storeOnly = () => ({ store, prefix: PREFIX, nodeId: NODE_ID });

  beforeEach(async () => {
    root = tempDir('tidemark-recovery-errors-');
    storeDir = path.join(root, 'store');
    store = new LocalFileStore({ basePath: storeDir });
    node = await openRecoveryNode(path.join(root, 'node'), store);
    history = await buildHistory(node);
  });

  afterEach(async () => {
    await engines.closeAll();
    await node.close();
    removeDir(root);
  });

  it('a broken chain is CHECKPOINT_NOT_FOUND; LSN and time targets fall back to a restorable checkpoint', async () => {
    // The catalog lost the middle link (a forced delete): the newest incremental cannot be restored.
    await node.system.delete(cp(1).id, { force: true });
    for (const backend of [nodeBackend(node, store), storeOnly()]) {
      const engine = engines.make(backend);
      await expect(engine.recoverTo({ checkpointId: cp(2).id })).rejects.toMatchObject({
        code: 'CHECKPOINT_NOT_FOUND',
      });
      await expect(engine.recoverFromIncrementals(cp(0).id, cp(2).id)).rejects.toMatchObject({
        code: 'CHECKPOINT_NOT_FOUND',
      });
      const lsn = cp(2).lsn - 3;
      const result = await engine.findRecoveryPath({ lsn });
      expect(result.checkpoints.map((c) => c.id)).toEqual([cp(0).id]);
      const recovered = await engine.recoverTo({ lsn });
      expect(stateOf(recovered.state)).toEqual(replayState(history.entries.slice(0, lsn)));
    }
  });

  it('a manifest the catalog names but the store lost is CHECKPOINT_NOT_FOUND', async () => {
    await store.delete([manifestKey(PREFIX, cp(1).id)]);
    const engine = engines.make(nodeBackend(node, store));
    const error = await engine.recoverTo({ checkpointId: cp(2).id }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHECKPOINT_NOT_FOUND', details: { checkpointId: cp(1).id } });
  });

  it('a WAL hole (local segments deleted, never uploaded) is INVALID_STATE_DATA naming the range', async () => {
    const dir = path.join(root, 'bare');
    const wal = await SegmentedWal.open(dir, {
      segmentSize: 1024,
      preallocate: false,
      retentionSegments: 0,
      canDelete: () => true,
    });
    try {
      const entries = simpleEntries(1, 300);
      for (let i = 0; i < entries.length; i += 10) await wal.appendBatch(entries.slice(i, i + 10));
      await wal.cleanup();
      const firstLocal = wal.stats().firstLsn;
      expect(firstLocal).toBeGreaterThan(50);
      const engine = engines.make({ store: new MemoryStore(), prefix: PREFIX, nodeId: NODE_ID, wal });
      const cases: [RecoveryTarget, number][] = [
        [{ lsn: 300 }, firstLocal - 1],
        [{ lsn: 20 }, 20],
        [{ time: entries[299]!.timestamp }, firstLocal - 1],
      ];
      for (const [target, end] of cases) {
        const error = await engine.recoverTo(target).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'INVALID_STATE_DATA', details: { fromLsn: 1, toLsn: end } });
        expect((error as Error).message).toContain(`from LSN 1 to ${end}`);
        await expect(engine.findRecoveryPath(target)).rejects.toMatchObject({ code: 'INVALID_STATE_DATA' });
      }
      // A target that needs none of the missing log still recovers.
      expect((await engine.recoverTo({ lsn: 0 })).lsn).toBe(0);
    } finally {
      await wal.close();
    }
  });

  it('a pack the store lost (listed from the store) leaves a hole named by its range', async () => {
    const lost = node.uploads.list().find((p) => p.firstLsn <= cp(0).lsn + 1 && p.lastLsn > cp(0).lsn)!;
    await store.delete([lost.key]);
    const engine = engines.make({ ...nodeBackend(node, store), uploads: undefined });
    const error = await engine.recoverTo({ lsn: cp(1).lsn - 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_STATE_DATA', details: { fromLsn: cp(0).lsn + 1 } });
  });

  it('a flipped bit in a block is CHECKSUM_MISMATCH naming the block, at every verification level', async () => {
    const manifest = await readManifest(store, PREFIX, cp(0).id);
    const hash = manifest.components.c1!.blocks[0]!.hash;
    flipBit(storeDir, blockKey(PREFIX, hash));
    for (const verificationLevel of ['basic', 'standard', 'full'] as const) {
      const engine = engines.make(nodeBackend(node, store), { verificationLevel });
      const error = await engine.recoverFromFull(cp(0).id).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
      expect((error as Error).message).toContain(hash);
      // Components whose blocks are intact recover.
      const c0 = await engine.recoverFromFull(cp(0).id, ['c0']);
      expect(stateOf(c0.state)).toEqual(replayState(history.entries.slice(0, cp(0).lsn), ['c0']));
    }
  });

  it("a block stored under another block's name: its record count (every level) or its sha256 (full)", async () => {
    const manifest = await readManifest(store, PREFIX, cp(0).id);
    const blocks = Object.values(manifest.components).flatMap((c) => c.blocks);
    const [a, b] = [blocks[0]!, blocks.find((x) => x.recordCount !== blocks[0]!.recordCount)!];
    const file = (hash: string) => path.join(storeDir, blockKey(PREFIX, hash));
    writeFileSync(file(a.hash), readFileSync(file(b.hash)));
    for (const verificationLevel of ['standard', 'full'] as const) {
      const engine = engines.make(nodeBackend(node, store), { verificationLevel });
      const error = await engine.recoverFromFull(cp(0).id).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
      expect((error as Error).message).toContain(a.hash);
    }
  });

  it('a missing block is NOT_FOUND naming its key', async () => {
    const manifest = await readManifest(store, PREFIX, cp(1).id);
    const hash = Object.values(manifest.components).find((c) => c.blocks.length > 0)!.blocks[0]!.hash;
    await store.delete([blockKey(PREFIX, hash)]);
    const engine = engines.make(nodeBackend(node, store), { verificationLevel: 'basic' });
    const error = await engine.recoverTo({ checkpointId: cp(2).id }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_FOUND' });
    expect((error as Error).message).toContain(hash);
  });

  it('a flipped bit in an uploaded WAL pack is CHECKSUM_MISMATCH when that range is replayed', async () => {
    const pack = node.uploads.list().find((p) => p.firstLsn <= cp(0).lsn + 1 && p.lastLsn > cp(0).lsn)!;
    const segment = pack.segments.find((s) => s.lastLsn > cp(0).lsn)!;
    const file = path.join(storeDir, pack.key);
    const bytes = readFileSync(file);
    bytes[segment.offset + HEADER_SIZE + FRAME_HEADER_SIZE + 24]! ^= 0x01; // inside the first frame's body
    writeFileSync(file, bytes);
    const engine = engines.make(nodeBackend(node, store));
    const error = await engine.recoverTo({ lsn: cp(1).lsn - 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect((error as Error).message).toContain(pack.key);
    // A checkpoint target reads no WAL.
    await expect(engine.recoverTo({ checkpointId: cp(1).id })).resolves.toBeDefined();
  });

  it("verificationLevel 'full' detects a manifest whose component digest disagrees", async () => {
    // The catalog (kept as it was) still accepts the manifest; only its digest of c2 is wrong.
    rewriteManifest(storeDir, cp(1).id, (manifest) => {
      manifest.components.c2!.digest = 'ab'.repeat(32);
    });
    for (const backend of [nodeBackend(node, store), storeOnly()]) {
      const full = engines.make(backend, { verificationLevel: 'full' });
      for (const target of [{ checkpointId: cp(1).id }, { lsn: cp(1).lsn + 5 }]) {
        const error = await full.recoverTo(target).catch((e: unknown) => e);
        expect(error).toMatchObject({
          code: 'CHECKSUM_MISMATCH',
          details: { componentId: 'c2', checkpointId: cp(1).id },
        });
      }
      // c2 is described again by the next incremental: its digest there is right.
      const later = await full.recoverTo({ checkpointId: cp(2).id });
      expect(stateOf(later.state)).toEqual(replayState(history.entries.slice(0, cp(2).lsn)));
      const standard = engines.make(backend, { verificationLevel: 'standard' });
      const result = await standard.recoverTo({ checkpointId: cp(1).id });
      expect(stateOf(result.state)).toEqual(replayState(history.entries.slice(0, cp(1).lsn)));
    }
  });
});
