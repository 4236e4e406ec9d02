import * as path from 'node:path';
import { readManifest } from '../../../../src/checkpoint/write/checkpoint-reader';
import { LocalFileStore, blockKey } from '../../../../src/storage';
import { ROOT, ensureBuilt } from '../../../support/ensure-built';
import type { TestNode } from '../../../support/tiering/tiering-node-fixture';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import {
  Engines,
  PREFIX,
  buildHistory,
  flipBit,
  nodeBackend,
  openRecoveryNode,
  replayState,
  stateOf,
  type History,
} from '../../../support/recovery/recovery-fixtures';

/** The build's worker: piscina loads a .js file (tests run from the TypeScript sources). */
const workerFilename = path.join(ROOT, 'dist/recovery/block-worker.js');

describe('RecoveryEngine on worker threads', () => {
  const engines = new Engines();
  let root: string;
  let storeDir: string;
  let store: LocalFileStore;
  let node: TestNode;
  let history: History;
  const cp = (i: number) => history.checkpoints[i]!;
  const backend = () => ({ ...nodeBackend(node, store), workerFilename });

  beforeAll(async () => {
    ensureBuilt();
    root = tempDir('tidemark-recovery-workers-');
    storeDir = path.join(root, 'store');
    store = new LocalFileStore({ basePath: storeDir });
    node = await openRecoveryNode(path.join(root, 'node'), store);
    history = await buildHistory(node);
  }, 120_000);

  afterEach(() => engines.closeAll());

  afterAll(async () => {
    await node.close();
    removeDir(root);
  });

  it('1 and 2 threads recover the same state; 2 use worker threads, 1 the calling thread', async () => {
    const one = engines.make(backend(), { maxParallelThreads: 1 });
    const two = engines.make(backend(), { maxParallelThreads: 2 });
    expect(one.usesWorkers).toBe(false);
    expect(two.usesWorkers).toBe(true);
    const targets = [
      { checkpointId: cp(0).id },
      { checkpointId: cp(2).id },
      { lsn: cp(1).lsn + 17 },
      { lsn: history.entries.length },
    ];
    for (const target of targets) {
      const [a, b] = [await one.recoverTo(target), await two.recoverTo(target)];
      expect(b.lsn).toBe(a.lsn);
      expect(stateOf(b.state)).toEqual(stateOf(a.state));
      expect(stateOf(b.state)).toEqual(replayState(history.entries.slice(0, a.lsn)));
      expect(b.stats.blocksRead).toBe(a.stats.blocksRead);
      expect(b.components).toEqual(a.components);
    }
    // Several recoveries at once share the pool.
    const together = await Promise.all(targets.map((target) => two.recoverTo(target, ['c1'])));
    together.forEach((result) =>
      expect(stateOf(result.state)).toEqual(replayState(history.entries.slice(0, result.lsn), ['c1'])),
    );
  });

  it('without the worker file (running from sources) it falls back to the calling thread', () => {
    const engine = engines.make(
      { ...backend(), workerFilename: path.join(root, 'missing.js') },
      { maxParallelThreads: 2 },
    );
    expect(engine.usesWorkers).toBe(false);
  });

  it('a corrupt block found on a worker thread is CHECKSUM_MISMATCH (the code crosses the thread)', async () => {
    const manifest = await readManifest(store, PREFIX, cp(0).id);
    const hash = manifest.components.c2!.blocks[0]!.hash;
    flipBit(storeDir, blockKey(PREFIX, hash));
    const engine = engines.make(backend(), { maxParallelThreads: 2 });
    const error = await engine.recoverFromFull(cp(0).id).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHECKSUM_MISMATCH', details: { hash } });
    expect((error as Error).message).toContain(hash);

    const optimistic = engines.make(backend(), { maxParallelThreads: 2, optimisticRecovery: true });
    const result = await optimistic.recoverFromFull(cp(0).id);
    expect(result.components.find((c) => c.componentId === 'c2')?.error?.code).toBe('CHECKSUM_MISMATCH');
    expect(stateOf(result.state)).toEqual(replayState(history.entries.slice(0, cp(0).lsn), ['c0', 'c1']));
  });
});
