/** Configuration, accepted LSN ranges, and bad deltas: INVALID_ARGUMENT, nothing merged. */
import {
  CheckpointMerger,
  DEFAULT_MERGER_CONFIG,
  resolveMergerConfig,
} from '../../../../src/checkpoint/merge';
import type { Delta, Snapshot } from '../../../../src/checkpoint/state/state-types';
import { TidemarkError } from '../../../../src/lib/errors';
import {
  DIST_WORKER,
  ensureMergeBuilt,
  del,
  delta,
  plain,
  put,
  rec,
  snapshot,
} from '../../../support/checkpoint/merge/merge-fixtures';

function invalid(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(TidemarkError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
}

async function rejectsInvalid(promise: Promise<unknown>, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(TidemarkError.is(error, 'INVALID_ARGUMENT')).toBe(true);
  if (message) expect((error as Error).message).toMatch(message);
}

describe('MergerConfig', () => {
  it('has the reference defaults, but sequential merging (measured faster here: docs/checkpoint-merge.md)', () => {
    expect(resolveMergerConfig()).toEqual({
      maxChainLength: 10,
      enableDeltaCompression: true,
      compressionThreshold: 1024,
      mergeStrategy: 'sequential',
      enableDeduplication: true,
      conflictResolution: 'last-write-wins',
      parallelThreads: 2,
    });
    expect(new CheckpointMerger().config).toEqual(DEFAULT_MERGER_CONFIG);
  });

  it('refuses bad values and unknown fields', () => {
    invalid(() => resolveMergerConfig({ maxChainLength: 0 }));
    invalid(() => resolveMergerConfig({ parallelThreads: 1.5 }));
    invalid(() => resolveMergerConfig({ parallelThreads: 0 }));
    invalid(() => resolveMergerConfig({ compressionThreshold: -1 }));
    invalid(() => resolveMergerConfig({ mergeStrategy: 'fast' as never }));
    invalid(() => resolveMergerConfig({ conflictResolution: 'newest' as never }));
    invalid(() => resolveMergerConfig({ enableDeduplication: 'yes' as never }));
    invalid(() => resolveMergerConfig({ maxChainLenght: 3 } as never));
    invalid(() => new CheckpointMerger({ parallelThreads: -1 }));
  });

  it('needsCompaction past maxChainLength', () => {
    const m = new CheckpointMerger({ maxChainLength: 3 });
    expect(m.needsCompaction(3)).toBe(false);
    expect(m.needsCompaction(4)).toBe(true);
  });
});

describe('mergeIncrementals input', () => {
  const base = snapshot(10, { c: [rec('a', '1', 5, 5)] });
  let workers: CheckpointMerger;
  const mergers = (): CheckpointMerger[] => [
    new CheckpointMerger({ mergeStrategy: 'sequential' }),
    new CheckpointMerger({ mergeStrategy: 'optimal' }),
    workers,
  ];
  beforeAll(() => {
    ensureMergeBuilt();
    workers = new CheckpointMerger({}, { workerFilename: DIST_WORKER, inlineThreshold: 0 });
  });
  afterAll(() => workers.close());

  it('empty inputs: no deltas, empty base, empty deltas', async () => {
    for (const m of mergers()) {
      const same = await m.mergeIncrementals(base, []);
      expect(plain(same)).toEqual(plain(base));
      // untouched components share the base's records array
      expect(same.components.get('c')?.records).toBe(base.components.get('c')?.records);
      expect(plain(await m.mergeIncrementals(snapshot(0, {}), []))).toEqual({ lsn: 0, components: {} });
      const emptyDeltas = await m.mergeIncrementals(base, [
        delta(10, 10, {}),
        delta(10, 12, { c: { records: [] } }),
      ]);
      expect(plain(emptyDeltas)).toEqual({ ...plain(base), lsn: 12 });
      const fresh = await m.mergeIncrementals(snapshot(0, {}), [
        delta(0, 3, { n: { records: [put('x', 'y', 2, 2), del('z', 3, 3)] } }),
      ]);
      expect(plain(fresh).components).toEqual({ n: [['78', '79', 2, 2]] });
      const cleared = await m.mergeIncrementals(base, [
        delta(10, 11, { c: { records: [], clearedAt: { lsn: 11, timestamp: 1 } } }),
      ]);
      expect(plain(cleared).components).toEqual({ c: [] });
    }
  });

  it('accepts a linear chain and branches; result LSN is the highest toLsn', async () => {
    const chain: Delta[] = [delta(10, 20, {}), delta(20, 30, {}), delta(10, 15, {}), delta(30, 31, {})];
    for (const m of mergers()) expect((await m.mergeIncrementals(base, chain)).lsn).toBe(31);
  });

  it('refuses gaps, overlaps with the base and bad ranges', async () => {
    for (const m of mergers()) {
      await rejectsInvalid(
        m.mergeIncrementals(base, [delta(10, 20, {}), delta(21, 30, {})]),
        /missing incremental/,
      );
      await rejectsInvalid(m.mergeIncrementals(base, [delta(5, 20, {})]), /overlapping the base/);
      await rejectsInvalid(m.mergeIncrementals(base, [delta(20, 30, {}), delta(10, 20, {})]));
      await rejectsInvalid(m.mergeIncrementals(base, [delta(10, 9, {})]));
      await rejectsInvalid(m.mergeIncrementals(base, [{ fromLsn: 10, toLsn: 1.5, components: new Map() }]));
      await rejectsInvalid(m.mergeIncrementals({ lsn: -1, components: new Map() }, []));
    }
  });

  it('refuses records and clears outside their delta, bad records, mismatched ids, unsorted keys', async () => {
    const bad: Delta[][] = [
      [delta(10, 20, { c: { records: [put('a', 'x', 10, 1)] } })], // lsn not above fromLsn
      [delta(10, 20, { c: { records: [put('a', 'x', 21, 1)] } })], // above toLsn
      [delta(10, 20, { c: { records: [], clearedAt: { lsn: 25, timestamp: 1 } } })],
      [delta(10, 20, { c: { records: [put('a', 'x', 12, 1)], clearedAt: { lsn: 15, timestamp: 1 } } })], // before its clear
      [
        delta(10, 20, {
          c: { records: [{ op: 'put', key: Buffer.from('a'), lsn: 12, timestamp: 1 } as never] },
        }),
      ],
      [delta(10, 20, { c: { records: [put('a', 'x', 12, NaN)] } })],
      [{ fromLsn: 10, toLsn: 20, components: new Map([['c', { componentId: 'd', records: [] }]]) }],
    ];
    for (const m of mergers())
      for (const deltas of bad) await rejectsInvalid(m.mergeIncrementals(base, deltas));
    const unsorted = [delta(10, 20, { c: { records: [put('b', 'x', 12, 1), put('a', 'x', 13, 1)] } })];
    const duplicate = [delta(10, 20, { c: { records: [put('a', 'x', 12, 1), put('a', 'y', 13, 1)] } })];
    for (const m of mergers()) {
      await rejectsInvalid(m.mergeIncrementals(base, unsorted), /not sorted/);
      await rejectsInvalid(m.mergeIncrementals(base, duplicate), /not sorted/);
    }
  });

  it('does not change its inputs', async () => {
    const b: Snapshot = snapshot(10, { c: [rec('a', '1', 5, 5), rec('b', '2', 6, 6)] });
    const d = delta(10, 20, { c: { records: [del('a', 12, 1), put('c', '3', 13, 1)] } });
    const before = [plain(b), [...(d.components.get('c')?.records ?? [])]];
    for (const m of mergers()) await m.mergeIncrementals(b, [d]);
    expect([plain(b), [...(d.components.get('c')?.records ?? [])]]).toEqual(before);
  });
});
