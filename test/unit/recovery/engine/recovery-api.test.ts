import * as path from 'node:path';
import { readManifest } from '../../../../src/checkpoint/write/checkpoint-reader';
import { TidemarkError } from '../../../../src/lib/errors';
import type { RecoveryProgress } from '../../../../src/recovery/recovery-types';
import { LocalFileStore, blockKey, blocksPrefix, manifestKey } from '../../../../src/storage';
import type { TestNode } from '../../../support/tiering/tiering-node-fixture';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import {
  Engines,
  PREFIX,
  TappedStore,
  buildHistory,
  nodeBackend,
  openRecoveryNode,
  replayState,
  stateOf,
  type History,
} from '../../../support/recovery/recovery-fixtures';

describe('RecoveryEngine: recoverFromFull, recoverFromIncrementals, findRecoveryPath', () => {
  let root: string;
  let node: TestNode;
  let store: TappedStore;
  let history: History;
  const engines = new Engines();

  beforeAll(async () => {
    root = tempDir('tidemark-recovery-api-');
    const local = new LocalFileStore({ basePath: path.join(root, 'store') });
    store = new TappedStore(local);
    node = await openRecoveryNode(path.join(root, 'node'), local);
    history = await buildHistory(node);
  });

  afterEach(() => engines.closeAll());

  afterAll(async () => {
    await node.close();
    removeDir(root);
  });

  const [full, second, third] = [0, 1, 2].map((i) => () => history.checkpoints[i]!);

  it('recoverFromFull gives the full checkpoint state and refuses an incremental id', async () => {
    const engine = engines.make(nodeBackend(node, store));
    const result = await engine.recoverFromFull(full().id);
    expect(result.lsn).toBe(full().lsn);
    expect(stateOf(result.state)).toEqual(replayState(history.entries.slice(0, full().lsn)));
    expect(result.components.every((c) => c.fromCheckpoint === full().id && c.walEntriesApplied === 0)).toBe(
      true,
    );
    expect(result.stats.walEntries).toBe(0);

    const subset = await engine.recoverFromFull(full().id, ['c1']);
    expect(stateOf(subset.state)).toEqual(replayState(history.entries.slice(0, full().lsn), ['c1']));

    await expect(engine.recoverFromFull(second().id)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.recoverFromFull(999)).rejects.toMatchObject({ code: 'CHECKPOINT_NOT_FOUND' });
  });

  it('recoverFromIncrementals merges the chain and refuses a base that is not the chain’s', async () => {
    const engine = engines.make(nodeBackend(node, store));
    for (const target of [second(), third()]) {
      const result = await engine.recoverFromIncrementals(full().id, target.id);
      expect(result.lsn).toBe(target.lsn);
      expect(stateOf(result.state)).toEqual(replayState(history.entries.slice(0, target.lsn)));
    }
    await expect(engine.recoverFromIncrementals(second().id, third().id)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(engine.recoverFromIncrementals(full().id, 999)).rejects.toMatchObject({
      code: 'CHECKPOINT_NOT_FOUND',
    });
  });

  it('plans a checkpoint target: the chain, its distinct blocks and GETs, no WAL, and reads no block', async () => {
    const engine = engines.make(nodeBackend(node, store));
    const before = store.gets.length;
    const plan = await engine.findRecoveryPath({ checkpointId: third().id });
    const manifests = await Promise.all(
      [full(), second(), third()].map((c) => readManifest(store.inner, PREFIX, c.id)),
    );
    const blocks = new Map<string, number>();
    for (const manifest of manifests)
      for (const component of Object.values(manifest.components))
        for (const ref of component.blocks) blocks.set(ref.hash, ref.storedBytes);
    const blockBytes = [...blocks.values()].reduce((sum, b) => sum + b, 0);

    expect(plan.checkpoints.map((c) => [c.id, c.kind, c.lsn])).toEqual([
      [full().id, 'full', full().lsn],
      [second().id, 'incremental', second().lsn],
      [third().id, 'incremental', third().lsn],
    ]);
    expect(plan.wal).toBeUndefined();
    expect(plan.objects).toBe(3 + blocks.size);
    expect(plan.getRequests).toBe(3 + blocks.size);
    expect(plan.bytes).toBe(blockBytes);
    expect(plan.estimatedDurationMs).toBeGreaterThanOrEqual(0);
    const planned = store.gets.slice(before);
    expect(planned.filter((key) => key.startsWith(blocksPrefix(PREFIX)))).toEqual([]);
    expect(planned.sort()).toEqual([full(), second(), third()].map((c) => manifestKey(PREFIX, c.id)).sort());
    // What it lists is what a recovery reads.
    const result = await engine.recoverTo({ checkpointId: third().id });
    const read = store.gets.slice(before + planned.length);
    expect(new Set(read.filter((key) => key.startsWith(blocksPrefix(PREFIX))))).toEqual(
      new Set([...blocks.keys()].map((hash) => blockKey(PREFIX, hash))),
    );
    expect(result.stats.blocksRead).toBe(plan.checkpoints.reduce((sum, c) => sum + c.blocks, 0));
  });

  it('plans the WAL: uploaded packs between checkpoints, local segments for the tail, none read', async () => {
    const engine = engines.make(nodeBackend(node, store));
    const before = store.gets.length;
    const last = history.entries.length;

    const tail = await engine.findRecoveryPath({ lsn: last });
    expect(tail.checkpoints.map((c) => c.id)).toEqual([full().id, second().id, third().id]);
    expect(tail.wal).toMatchObject({ fromLsn: third().lsn + 1, toLsn: last, remote: [] });
    expect(tail.wal!.local.length).toBeGreaterThan(0);
    expect(tail.wal!.local.every((o) => o.kind === 'wal-local' && o.bytes > 0)).toBe(true);

    const between = await engine.findRecoveryPath({ lsn: full().lsn + 50 }, ['c0']);
    expect(between.components).toEqual(['c0']);
    expect(between.checkpoints.map((c) => c.id)).toEqual([full().id]);
    expect(between.wal).toMatchObject({ fromLsn: full().lsn + 1, toLsn: full().lsn + 50, local: [] });
    const remote = between.wal!.remote;
    expect(remote.length).toBeGreaterThan(0);
    const uploaded = node.uploads.list();
    for (const object of remote) {
      expect(object.kind).toBe('wal-pack');
      expect(uploaded.find((p) => p.key === object.key)?.size).toBe(object.bytes);
    }
    const manifest = await readManifest(store.inner, PREFIX, full().id);
    const c0Blocks = new Set(manifest.components.c0!.blocks.map((b) => b.hash));
    expect(between.checkpoints[0]!.blocks).toBe(manifest.components.c0!.blocks.length);
    expect(between.getRequests).toBe(1 + c0Blocks.size + remote.length);
    expect(between.bytes).toBe(
      manifest.components.c0!.blocks.reduce((sum, b) => sum + b.storedBytes, 0) +
        remote.reduce((sum, o) => sum + o.bytes, 0),
    );

    const early = await engine.findRecoveryPath({ lsn: 10 });
    expect(early.checkpoints).toEqual([]);
    expect(early.wal).toMatchObject({ fromLsn: 1, toLsn: 10, local: [] });

    expect(store.gets.slice(before).filter((key) => key.startsWith(blocksPrefix(PREFIX)))).toEqual([]);
    expect(store.gets.slice(before).filter((key) => key.includes('/wal/'))).toEqual([]);
  });

  it('recovers an LSN and a time between checkpoints and in the tail, for some or all components', async () => {
    const engine = engines.make(nodeBackend(node, store));
    const { entries } = history;
    for (const lsn of [
      0,
      10,
      full().lsn,
      full().lsn + 50,
      second().lsn + 1,
      third().lsn + 7,
      entries.length,
    ]) {
      const result = await engine.recoverTo({ lsn });
      expect(result.lsn).toBe(lsn);
      expect(stateOf(result.state)).toEqual(replayState(entries.slice(0, lsn)));
      const some = await engine.recoverTo({ lsn }, ['c2']);
      expect(some.lsn).toBe(lsn);
      expect(stateOf(some.state)).toEqual(replayState(entries.slice(0, lsn), ['c2']));
      expect(some.components.map((c) => c.componentId)).toEqual(['c2']);
      await expect(engine.recoverTo({ lsn }, ['c2', 'nope'])).rejects.toMatchObject({
        code: 'COMPONENT_NOT_FOUND',
      });
    }
    const time = entries[full().lsn + 30]!.timestamp;
    const atTime = await engine.recoverTo({ time });
    expect(atTime.lsn).toBe(full().lsn + 31);
    expect(stateOf(atTime.state)).toEqual(replayState(entries.slice(0, full().lsn + 31)));
  });

  it('reports progress: blocks up to their totals, then the WAL, then done', async () => {
    const engine = engines.make(nodeBackend(node, store), { verificationLevel: 'full' });
    const reports: RecoveryProgress[] = [];
    const target = { lsn: third().lsn + 5 };
    const plan = await engine.findRecoveryPath(target);
    await engine.recoverTo(target, undefined, { onProgress: (p) => reports.push(p) });
    const phases = reports.map((p) => p.phase).filter((p, i, all) => p !== all[i - 1]);
    expect(phases).toEqual(['blocks', 'verify', 'wal', 'done']);
    const last = reports[reports.length - 1]!;
    expect(last).toMatchObject({
      blocksDone: last.blocksTotal,
      bytesDone: last.bytesTotal,
      componentsDone: 3,
      componentsTotal: 3,
    });
    expect(last.blocksTotal).toBe(plan.checkpoints.reduce((sum, c) => sum + c.blocks, 0));
    expect(last.bytesTotal).toBe(plan.checkpoints.reduce((sum, c) => sum + c.blockBytes, 0));
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i]!.blocksDone).toBeGreaterThanOrEqual(reports[i - 1]!.blocksDone);
      expect(reports[i]!.bytesDone).toBeLessThanOrEqual(last.bytesTotal);
    }
  });

  it('refuses bad targets and components with INVALID_ARGUMENT, changing nothing', async () => {
    const engine = engines.make(nodeBackend(node, store));
    const last = history.entries.length;
    for (const target of [{ lsn: -1 }, { lsn: 1.5 }, { checkpointId: 0 }, { lsn: 1, time: 2 }, {}, null]) {
      await expect(engine.recoverTo(target as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(engine.recoverTo({ lsn: last + 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.recoverTo({ lsn: 1 }, [''])).rejects.toBeInstanceOf(TidemarkError);
    expect(() => engines.make(nodeBackend(node, store), { maxParallelThreads: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
