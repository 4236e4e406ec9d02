import fc from 'fast-check';
import type { CheckpointSummary } from '../../../../src/checkpoint/catalog/checkpoint-summary';
import type { RecoveryBackend } from '../../../../src/recovery/recovery-engine';
import type { RecoveryConfig, RecoveryTarget } from '../../../../src/recovery/recovery-types';
import { MemoryStore } from '../../../../src/storage';
import type { LogEntry } from '../../../../src/wal';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import {
  Engines,
  NODE_ID,
  PREFIX,
  nodeBackend,
  openRecoveryNode,
  opEntry,
  replayState,
  shipAll,
  stateOf,
  timePrefix,
  type Op,
} from '../../../support/recovery/recovery-fixtures';

/**
 * Invariant 5, for recovery: for random logs (puts, deletes, clears over a few components, timestamps that
 * mostly rise), checkpoints and uploads taken at random points, and random targets — a checkpoint, an LSN
 * (between checkpoints or in the tail), a time — the recovered state equals a naive replay of the log up
 * to the target, and a random subset of the components equals the replay restricted to it, at one LSN —
 * whichever codec the checkpoint blocks have.
 */

type Action =
  | { kind: 'append'; ops: Op[]; skews: number[] }
  | { kind: 'checkpoint'; full: boolean }
  | { kind: 'ship' }
  | { kind: 'restart' };

type TargetSpec = { kind: 'checkpoint' | 'lsn' | 'time'; pick: number; nudge: number };

const COMPONENTS = ['c0', 'c1', 'c2', 'c3'];

const op: fc.Arbitrary<Op> = fc.record({
  component: fc.integer({ min: 0, max: 3 }),
  kind: fc.constantFrom<Op['kind']>('put', 'put', 'put', 'put', 'put', 'delete', 'delete', 'clear'),
  key: fc.integer({ min: 0, max: 40 }),
  value: fc.nat(255),
});

/** Mostly 0 (time rises with the LSN), sometimes back in time, sometimes a jump ahead. */
const skew = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.integer({ min: -300, max: -1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 60 }) },
);

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.array(fc.tuple(op, skew), { minLength: 1, maxLength: 40 }).map((pairs) => ({
      kind: 'append' as const,
      ops: pairs.map(([o]) => o),
      skews: pairs.map(([, s]) => s),
    })),
  },
  { weight: 2, arbitrary: fc.boolean().map((full) => ({ kind: 'checkpoint' as const, full })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'ship' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

const targetSpec: fc.Arbitrary<TargetSpec> = fc.record({
  kind: fc.constantFrom<TargetSpec['kind']>('checkpoint', 'lsn', 'lsn', 'time', 'time'),
  pick: fc.nat(),
  nudge: fc.integer({ min: -1, max: 1 }),
});

const config: fc.Arbitrary<Partial<RecoveryConfig>> = fc.record({
  prefetchStrategy: fc.constantFrom<RecoveryConfig['prefetchStrategy']>('none', 'sequential', 'adaptive'),
  fetchConcurrency: fc.integer({ min: 1, max: 4 }),
  verificationLevel: fc.constantFrom<RecoveryConfig['verificationLevel']>('basic', 'standard', 'full'),
});

/** The target and the number of log entries whose replay it must equal. */
function resolveTarget(
  spec: TargetSpec,
  entries: readonly LogEntry[],
  checkpoints: readonly CheckpointSummary[],
): { target: RecoveryTarget; prefix: number } {
  if (spec.kind === 'checkpoint' && checkpoints.length > 0) {
    const checkpoint = checkpoints[spec.pick % checkpoints.length]!;
    return { target: { checkpointId: checkpoint.id }, prefix: checkpoint.lsn };
  }
  if (spec.kind === 'time' && entries.length > 0) {
    // A time some entry has (or just around it), so that cuts land everywhere.
    const time = Math.max(0, entries[spec.pick % entries.length]!.timestamp + spec.nudge);
    return { target: { time }, prefix: timePrefix(entries, time) };
  }
  const lsn = spec.pick % (entries.length + 1);
  return { target: { lsn }, prefix: lsn };
}

describe('RecoveryEngine (property): recovered state equals replaying the log to the target', () => {
  const engines = new Engines();
  afterEach(() => engines.closeAll());

  it('for random logs, checkpoints, uploads and targets — all components and a random subset', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { minLength: 1, maxLength: 10 }),
        fc.array(fc.tuple(targetSpec, fc.subarray(COMPONENTS)), { minLength: 1, maxLength: 6 }),
        config,
        fc.boolean(),
        fc.constantFrom('zstd' as const, 'lz4' as const, 'snappy' as const, 'none' as const),
        async (actions, targets, settings, storeOnly, codec) => {
          const dir = tempDir('tidemark-recovery-prop-');
          const store = new MemoryStore();
          const open = () => openRecoveryNode(dir, store, { segmentSize: 1024, codec });
          let node = await open();
          try {
            const entries: LogEntry[] = [];
            const checkpoints: CheckpointSummary[] = [];
            for (const step of actions) {
              if (step.kind === 'checkpoint') {
                checkpoints.push(await node.system.checkpoint({ kind: step.full ? 'full' : 'incremental' }));
              } else if (step.kind === 'restart') {
                await node.close();
                node = await open();
              } else if (step.kind === 'ship') {
                await shipAll(node);
              } else {
                const batch = step.ops.map((o, i) => {
                  const sequence = entries.length + i + 1;
                  // µs from 2023-11-14T22:13:20Z: the WAL refuses a timestamp that cannot be µs since the epoch.
                  return opEntry(o, sequence, 1_700_000_000_000_000 + sequence * 100 + step.skews[i]!);
                });
                // A few entries a frame, so frames and segments end at many points.
                for (let i = 0; i < batch.length; i += 7) await node.wal.appendBatch(batch.slice(i, i + 7));
                entries.push(...batch);
              }
            }
            let backend: RecoveryBackend = nodeBackend(node, store);
            if (storeOnly) {
              // Everything shipped; the engine gets the store alone (catalog rebuilt, packs listed).
              await shipAll(node);
              backend = { store, prefix: PREFIX, nodeId: NODE_ID };
            }
            const engine = engines.make(backend, settings);
            for (const [spec, subset] of targets) {
              const { target, prefix } = resolveTarget(spec, entries, checkpoints);
              const all = await engine.recoverTo(target);
              expect({ target, lsn: all.lsn }).toEqual({ target, lsn: prefix });
              expect(stateOf(all.state)).toEqual(replayState(entries.slice(0, prefix)));
              expect(all.components.filter((c) => c.error)).toEqual([]);

              // A component no entry of the whole log writes does not exist: asking for it is an error.
              const existing = subset.filter((id) => entries.some((e) => e.componentId === id));
              if (existing.length < subset.length) {
                await expect(engine.recoverTo(target, subset)).rejects.toMatchObject({
                  code: 'COMPONENT_NOT_FOUND',
                });
              }
              if (existing.length === 0) continue;
              const some = await engine.recoverTo(target, existing);
              expect(some.lsn).toBe(prefix);
              expect(stateOf(some.state)).toEqual(replayState(entries.slice(0, prefix), existing));
              expect(some.components.map((c) => c.componentId)).toEqual([...existing].sort());
            }
          } finally {
            await engines.closeAll();
            await node.close();
            removeDir(dir);
          }
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 40) },
    );
  });
});
