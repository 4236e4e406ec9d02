import * as path from 'node:path';
import type { SlicedComponent } from '../../../../src/checkpoint/run/sliced-component';
import { readManifest } from '../../../../src/checkpoint/write/checkpoint-reader';
import { TidemarkError } from '../../../../src/lib/errors';
import type { RecoveryProgress } from '../../../../src/recovery/recovery-types';
import { LocalFileStore, blockKey } from '../../../../src/storage';
import { put } from '../../../../src/wal';
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

/** recoverTo with onComponent: each component handed over whole, then let go. */
describe('RecoveryEngine streaming components (onComponent)', () => {
  let root: string;
  let storeDir: string;
  let store: LocalFileStore;
  let node: TestNode;
  let history: History;
  const engines = new Engines();

  beforeAll(async () => {
    root = tempDir('tidemark-recovery-stream-');
    storeDir = path.join(root, 'store');
    store = new LocalFileStore({ basePath: storeDir });
    node = await openRecoveryNode(path.join(root, 'node'), store);
    history = await buildHistory(node);
    // A component only the log knows: created after the last checkpoint.
    const late = {
      componentId: 'late',
      sequence: 1,
      timestamp: 1_700_000_000_100_000,
      changes: [put('k', 'v')],
    };
    await node.wal.append(late);
    history.entries.push(late);
  });

  afterEach(() => engines.closeAll());

  afterAll(async () => {
    await node.close();
    removeDir(root);
  });

  /** Streams a recovery; the components handed over, by id, and the calls' overlap. */
  async function streamed(
    target: Parameters<ReturnType<Engines['make']>['recoverTo']>[0],
    level: 'standard' | 'full' = 'standard',
    optimisticRecovery = false,
  ) {
    const engine = engines.make(nodeBackend(node, store), { verificationLevel: level, optimisticRecovery });
    const handed = new Map<string, SlicedComponent>();
    let inFlight = 0;
    let overlapped = false;
    const phases: RecoveryProgress['phase'][] = [];
    const result = await engine.recoverTo(target, undefined, {
      onProgress: (p) => phases.push(p.phase),
      onComponent: async (component) => {
        if (++inFlight > 1) overlapped = true;
        expect(handed.has(component.componentId)).toBe(false);
        handed.set(component.componentId, component);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
      },
    });
    return { result, handed, overlapped, phases: phases.filter((p, i) => p !== phases[i - 1]) };
  }

  it('hands over every component once, one at a time, with the state a replay gives; result.state holds none', async () => {
    for (const level of ['standard', 'full'] as const) {
      const lsn = history.entries.length;
      const { result, handed, overlapped, phases } = await streamed({ lsn }, level);
      expect(result.lsn).toBe(lsn);
      expect(result.state.components.size).toBe(0);
      expect(overlapped).toBe(false);
      expect(phases).toEqual(['wal', 'blocks', 'done']);
      const state = stateOf({ lsn, components: handed });
      expect(state).toEqual(replayState(history.entries));
      expect(Object.keys(state)).toContain('late');
      // The outcomes and stats say what the non-streamed recovery says.
      const whole = await engines.make(nodeBackend(node, store)).recoverTo({ lsn });
      expect(result.components).toEqual(whole.components);
      expect(result.stats.logicalBytes).toBe(whole.stats.logicalBytes);
      expect(result.stats.walEntries).toBe(whole.stats.walEntries);
    }
  });

  it('a component whose block is damaged fails alone (optimistic) and is not handed over', async () => {
    const third = history.checkpoints[2]!;
    const manifest = await readManifest(store, PREFIX, history.checkpoints[0]!.id);
    const hash = manifest.components.c1!.blocks[0]!.hash;
    const key = blockKey(PREFIX, hash);
    flipBit(storeDir, key);
    try {
      const { result, handed } = await streamed({ checkpointId: third.id }, 'standard', true);
      expect(handed.has('c1')).toBe(false);
      expect([...handed.keys()].sort()).toEqual(['c0', 'c2']);
      expect(result.components.find((c) => c.componentId === 'c1')?.error?.code).toBe('CHECKSUM_MISMATCH');
    } finally {
      flipBit(storeDir, key);
    }
  });

  it('fails the recovery when a hand-over rejects', async () => {
    const engine = engines.make(nodeBackend(node, store));
    await expect(
      engine.recoverTo({ checkpointId: history.checkpoints[2]!.id }, undefined, {
        onComponent: () => Promise.reject(new TidemarkError('DISK_FULL', 'no space left for the output')),
      }),
    ).rejects.toMatchObject({ code: 'DISK_FULL' });
  });

  it('a failing block ends the recovery only after the hand-over under way settled; none begins after', async () => {
    const manifest = await readManifest(store, PREFIX, history.checkpoints[0]!.id);
    const key = blockKey(PREFIX, manifest.components.c2!.blocks[0]!.hash);
    flipBit(storeDir, key);
    try {
      const engine = engines.make(nodeBackend(node, store));
      const log: string[] = [];
      const recovering = engine.recoverTo({ checkpointId: history.checkpoints[2]!.id }, undefined, {
        onComponent: async (component) => {
          log.push(`start ${component.componentId}`);
          await new Promise((resolve) => setTimeout(resolve, 30));
          log.push(`end ${component.componentId}`);
        },
      });
      await expect(
        recovering.catch((error: unknown) => {
          log.push('rejected');
          throw error;
        }),
      ).rejects.toMatchObject({
        code: 'CHECKSUM_MISMATCH',
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Whatever was under way ended before the rejection; nothing started after it.
      expect(log[log.length - 1]).toBe('rejected');
      expect(log.filter((l) => l.startsWith('start')).length).toBe(
        log.filter((l) => l.startsWith('end')).length,
      );
    } finally {
      flipBit(storeDir, key);
    }
  });
});
