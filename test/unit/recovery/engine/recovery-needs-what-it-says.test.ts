import * as path from 'node:path';
import { TidemarkError } from '../../../../src/lib/errors';
import { LocalFileStore } from '../../../../src/storage';
import { put, type LogEntry } from '../../../../src/wal';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import type { TestNode } from '../../../support/tiering/tiering-node-fixture';
import {
  Engines,
  NODE_ID,
  PREFIX,
  nodeBackend,
  openRecoveryNode,
  replayState,
  shipAll,
  stateOf,
} from '../../../support/recovery/recovery-fixtures';

/**
 * A recovery that says it succeeded must have recovered what was asked: a time target resolves against
 * everything the node knows and fails when the log it needs is missing; an unknown component is an error.
 */
const T0 = 1_700_000_000_000_000;

function entry(sequence: number, componentId = 'window_1'): LogEntry {
  return {
    componentId,
    sequence,
    timestamp: T0 + sequence * 1000,
    changes: [put(`k${sequence}`, `v${sequence}`)],
  };
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof TidemarkError) return error.code;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('RecoveryEngine: targets it cannot reach are errors, never a smaller state', () => {
  const engines = new Engines();
  let root: string;
  let store: LocalFileStore;
  let node: TestNode;
  const log = [1, 2, 3, 4, 5].map((s) => entry(s));

  beforeEach(async () => {
    root = tempDir('tidemark-recovery-needs-');
    store = new LocalFileStore({ basePath: path.join(root, 'store') });
    node = await openRecoveryNode(path.join(root, 'node'), store);
    await node.wal.appendBatch(log);
    await node.system.checkpoint({ kind: 'full' }); // at LSN 5, newest entry at T0 + 5 ms
  });

  afterEach(async () => {
    await node.close();
    await engines.closeAll();
    removeDir(root);
  });

  const between2and3 = T0 + 2500;
  const storeOnly = () => ({ store, prefix: PREFIX, nodeId: NODE_ID });

  it('a time between two appends, with that stretch of the WAL in no store, fails naming the range', async () => {
    const engine = engines.make(storeOnly(), { maxParallelThreads: 1 });
    const error = await engine.recoverTo({ time: between2and3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TidemarkError);
    expect((error as TidemarkError).code).toBe('INVALID_STATE_DATA');
    expect((error as TidemarkError).message).toMatch(/time .* between LSN 0 and 5/);
    expect((error as TidemarkError).message).toMatch(/WAL from LSN 1 to 5/);
    expect(await codeOf(engine.findRecoveryPath({ time: between2and3 }))).toBe('INVALID_STATE_DATA');
  });

  it('the same time with the local WAL, or once the WAL is shipped, recovers exactly the prefix', async () => {
    const local = await engines
      .make(nodeBackend(node, store), { maxParallelThreads: 1 })
      .recoverTo({ time: between2and3 });
    expect(local.lsn).toBe(2);
    expect(stateOf(local.state)).toEqual(replayState(log.slice(0, 2)));

    await shipAll(node);
    const shipped = await engines
      .make(storeOnly(), { maxParallelThreads: 1 })
      .recoverTo({ time: between2and3 });
    expect(shipped.lsn).toBe(2);
    expect(stateOf(shipped.state)).toEqual(replayState(log.slice(0, 2)));
  });

  it('a time after everything the node knows yields the newest state it knows, from the store alone', async () => {
    const result = await engines
      .make(storeOnly(), { maxParallelThreads: 1 })
      .recoverTo({ time: T0 + 60_000 });
    expect(result.lsn).toBe(5);
    expect(stateOf(result.state)).toEqual(replayState(log));
  });

  it('a time between two checkpoints needs the WAL between them', async () => {
    await node.wal.appendBatch([6, 7, 8].map((s) => entry(s)));
    await node.system.checkpoint({ kind: 'incremental' }); // at LSN 8
    const between6and7 = T0 + 6500;
    const engine = engines.make(storeOnly(), { maxParallelThreads: 1 });
    const error = (await engine.recoverTo({ time: between6and7 }).catch((e: unknown) => e)) as TidemarkError;
    expect(error.code).toBe('INVALID_STATE_DATA');
    expect(error.message).toMatch(/between LSN 5 and 8/);
    // At or after a checkpoint's own time with nothing known after it: that checkpoint's state.
    const at8 = await engine.recoverTo({ time: T0 + 8000 });
    expect(at8.lsn).toBe(8);
  });

  it('an unknown component is COMPONENT_NOT_FOUND for plans and recoveries alike', async () => {
    const engine = engines.make(nodeBackend(node, store), { maxParallelThreads: 1 });
    expect(await codeOf(engine.findRecoveryPath({ lsn: 5 }, ['nope']))).toBe('COMPONENT_NOT_FOUND');
    expect(await codeOf(engine.recoverTo({ lsn: 5 }, ['window_1', 'nope']))).toBe('COMPONENT_NOT_FOUND');
    expect(await codeOf(engine.recoverTo({ checkpointId: 1 }, ['nope']))).toBe('COMPONENT_NOT_FOUND');
    const fromStore = engines.make(storeOnly(), { maxParallelThreads: 1 });
    expect(await codeOf(fromStore.recoverTo({ lsn: 5 }, ['nope']))).toBe('COMPONENT_NOT_FOUND');
  });

  it('a component that exists only later in the log is empty at an earlier target, not unknown', async () => {
    await node.wal.appendBatch([entry(1, 'late')]); // LSN 6, in no checkpoint
    const engine = engines.make(nodeBackend(node, store), { maxParallelThreads: 1 });
    const at5 = await engine.recoverTo({ lsn: 5 }, ['late']);
    expect(at5.components).toEqual([expect.objectContaining({ componentId: 'late', keyCount: 0 })]);
    const at6 = await engine.recoverTo({ lsn: 6 }, ['late']);
    expect(stateOf(at6.state)).toEqual(replayState([entry(1, 'late')]));
    // From the store alone: only the uploaded pack names it, and that is enough.
    await shipAll(node);
    const fromStore = engines.make(storeOnly(), { maxParallelThreads: 1 });
    expect((await fromStore.recoverTo({ lsn: 5 }, ['late'])).components).toEqual([
      expect.objectContaining({ componentId: 'late', keyCount: 0 }),
    ]);
    expect(await codeOf(fromStore.recoverTo({ lsn: 5 }, ['late', 'nope']))).toBe('COMPONENT_NOT_FOUND');
  });

  it('an unknown component is refused in optimistic mode too, before any block is read', async () => {
    const engine = engines.make(nodeBackend(node, store), {
      maxParallelThreads: 1,
      optimisticRecovery: true,
    });
    const error = (await engine
      .recoverTo({ lsn: 5 }, ['window_1', 'nope'])
      .catch((e: unknown) => e)) as TidemarkError;
    expect(error.code).toBe('COMPONENT_NOT_FOUND');
    expect(error.message).toContain('"nope"');
    expect(error.message).not.toContain('window_1');
  });

  it('a component that exists but was cleared is recovered as empty, not refused', async () => {
    await node.wal.appendBatch([
      { componentId: 'gone', sequence: 1, timestamp: T0 + 9000, changes: [{ op: 'clear' }] },
    ]);
    const result = await engines
      .make(nodeBackend(node, store), { maxParallelThreads: 1 })
      .recoverTo({ lsn: 6 }, ['gone']);
    expect(result.components).toEqual([expect.objectContaining({ componentId: 'gone', keyCount: 0 })]);
  });
});
