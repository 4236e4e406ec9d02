import * as path from 'node:path';
import { readManifest } from '../../../../src/checkpoint/write/checkpoint-reader';
import { LocalFileStore, blockKey, blocksPrefix, walPrefix } from '../../../../src/storage';
import type { TestNode } from '../../../support/tiering/tiering-node-fixture';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import {
  Engines,
  PREFIX,
  TappedStore,
  buildHistory,
  flipBit,
  nodeBackend,
  openRecoveryNode,
  replayState,
  rewriteManifest,
  stateOf,
  type History,
} from '../../../support/recovery/recovery-fixtures';

/** Lets every pending callback and I/O completion run (a few turns of the event loop). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('RecoveryEngine: recoveryTimeout and optimisticRecovery', () => {
  const engines = new Engines();
  let root: string;
  let storeDir: string;
  let store: TappedStore;
  let node: TestNode;
  let history: History;
  const cp = (i: number) => history.checkpoints[i]!;

  beforeEach(async () => {
    root = tempDir('tidemark-recovery-timeout-');
    storeDir = path.join(root, 'store');
    const local = new LocalFileStore({ basePath: storeDir });
    store = new TappedStore(local);
    node = await openRecoveryNode(path.join(root, 'node'), local);
    history = await buildHistory(node);
  });

  afterEach(async () => {
    await engines.closeAll();
    await node.close();
    removeDir(root);
  });

  it('a recovery stuck on a block GET is aborted with TIMEOUT, and stops fetching', async () => {
    const engine = engines.make(nodeBackend(node, store), { recoveryTimeout: 100, fetchConcurrency: 2 });
    const release = store.holdGets((key) => key.startsWith(blocksPrefix(PREFIX)));
    const error = await engine.recoverTo({ checkpointId: cp(2).id }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect((error as Error).message).toContain('100 ms');
    const held = store.getsUnder(blocksPrefix(PREFIX)).length;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(2);
    release();
    await settle();
    // The fetches in flight completed into nothing: no lane went on to the next block.
    expect(store.getsUnder(blocksPrefix(PREFIX)).length).toBe(held);
    // The engine still works (no limit hit when nothing is held).
    const fine = engines.make(nodeBackend(node, store), { recoveryTimeout: 0 });
    const result = await fine.recoverTo({ checkpointId: cp(2).id });
    expect(stateOf(result.state)).toEqual(replayState(history.entries.slice(0, cp(2).lsn)));
  });

  it('a recovery stuck on a WAL pack GET is aborted with TIMEOUT too', async () => {
    const engine = engines.make(nodeBackend(node, store), { recoveryTimeout: 100 });
    const release = store.holdGets((key) => key.startsWith(walPrefix(PREFIX)));
    try {
      await expect(engine.recoverTo({ lsn: cp(0).lsn + 10 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    } finally {
      release();
    }
  });

  it("the caller's AbortSignal aborts a recovery with its reason", async () => {
    const engine = engines.make(nodeBackend(node, store));
    const release = store.holdGets((key) => key.startsWith(blocksPrefix(PREFIX)));
    const controller = new AbortController();
    const running = engine.recoverTo({ checkpointId: cp(1).id }, undefined, { signal: controller.signal });
    const reason = new Error('operator cancelled');
    setImmediate(() => controller.abort(reason));
    await expect(running).rejects.toBe(reason);
    release();
    // A signal aborted before the call: nothing runs.
    const before = store.gets.length;
    await expect(
      engine.recoverTo({ checkpointId: cp(1).id }, undefined, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    await settle();
    expect(store.getsUnder(blocksPrefix(PREFIX)).length).toBe(
      store.gets.slice(0, before).filter((k) => k.startsWith(blocksPrefix(PREFIX))).length,
    );
  });

  it('optimistic: a corrupt block fails only its component; the others recover at one LSN', async () => {
    const manifest = await readManifest(store.inner, PREFIX, cp(0).id);
    const hash = manifest.components.c1!.blocks[0]!.hash;
    flipBit(storeDir, blockKey(PREFIX, hash));
    const lsn = cp(1).lsn + 20;

    const strict = engines.make(nodeBackend(node, store));
    await expect(strict.recoverTo({ lsn })).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });

    const optimistic = engines.make(nodeBackend(node, store), { optimisticRecovery: true });
    const result = await optimistic.recoverTo({ lsn });
    expect(result.lsn).toBe(lsn);
    expect(stateOf(result.state)).toEqual(replayState(history.entries.slice(0, lsn), ['c0', 'c2']));
    const outcomes = Object.fromEntries(result.components.map((c) => [c.componentId, c]));
    expect(outcomes.c1).toEqual({
      componentId: 'c1',
      error: { code: 'CHECKSUM_MISMATCH', message: expect.stringContaining(hash) as string },
    });
    for (const id of ['c0', 'c2']) {
      expect(outcomes[id]).toMatchObject({
        fromCheckpoint: cp(1).id,
        keyCount: expect.any(Number) as number,
      });
      expect(outcomes[id]!.error).toBeUndefined();
      expect(outcomes[id]!.walEntriesApplied).toBe(
        history.entries.slice(cp(1).lsn, lsn).filter((e) => e.componentId === id).length,
      );
    }
  });

  it("optimistic with 'full' verification: a digest that disagrees fails only its component", async () => {
    rewriteManifest(storeDir, cp(2).id, (manifest) => {
      manifest.components.c0!.digest = '0'.repeat(64);
    });
    const settings = { verificationLevel: 'full' as const };
    const strict = engines.make(nodeBackend(node, store), settings);
    await expect(strict.recoverTo({ checkpointId: cp(2).id })).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
    });
    const optimistic = engines.make(nodeBackend(node, store), { ...settings, optimisticRecovery: true });
    const result = await optimistic.recoverTo({ checkpointId: cp(2).id });
    expect(result.components.find((c) => c.componentId === 'c0')?.error?.code).toBe('CHECKSUM_MISMATCH');
    expect(stateOf(result.state)).toEqual(replayState(history.entries.slice(0, cp(2).lsn), ['c1', 'c2']));
  });

  it('optimistic mode still stops the whole recovery on a timeout', async () => {
    const engine = engines.make(nodeBackend(node, store), { optimisticRecovery: true, recoveryTimeout: 100 });
    const release = store.holdGets((key) => key.startsWith(blocksPrefix(PREFIX)));
    try {
      await expect(engine.recoverTo({ checkpointId: cp(0).id })).rejects.toMatchObject({ code: 'TIMEOUT' });
    } finally {
      release();
    }
  });
});
