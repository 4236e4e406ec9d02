/**
 * Invariant 5 for the merger: a base cut from a random log plus the linear deltas after it, merged under
 * last-write-wins, equals replaying the log — for `sequential`, for `optimal` merging inline, and for
 * `optimal` in worker threads (the built worker: dist/, see merge-pool.ts).
 */
import fc from 'fast-check';
import { CheckpointMerger } from '../../../../src/checkpoint/merge';
import {
  DIST_WORKER,
  ensureMergeBuilt,
  deltaOf,
  logArb,
  plain,
  replay,
} from '../../../support/checkpoint/merge/merge-fixtures';

const caseArb = logArb.chain((entries) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: entries.length }), { minLength: 1, maxLength: 6 })
    .map((cuts) => ({ entries, cuts: cuts.sort((a, b) => a - b) })),
);

describe('mergeIncrementals equals log replay (last-write-wins)', () => {
  const mergers: Record<string, CheckpointMerger> = {};

  beforeAll(() => {
    ensureMergeBuilt();
    mergers.sequential = new CheckpointMerger({ mergeStrategy: 'sequential' });
    mergers.optimalInline = new CheckpointMerger(
      { mergeStrategy: 'optimal' },
      { workerFilename: DIST_WORKER },
    );
    mergers.optimalWorkers = new CheckpointMerger(
      { mergeStrategy: 'optimal', parallelThreads: 2 },
      { workerFilename: DIST_WORKER, inlineThreshold: 0 },
    );
  });

  afterAll(async () => {
    await Promise.all(Object.values(mergers).map((m) => m.close()));
  });

  it.each(['sequential', 'optimalInline', 'optimalWorkers'])('%s', async (name) => {
    let inWorkers = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ entries, cuts }) => {
        const merger = mergers[name];
        const base = replay(entries, cuts[0]);
        const deltas = cuts.slice(1).map((to, i) => deltaOf(entries, cuts[i], to));
        const merged = await merger.mergeIncrementals(base, deltas);
        const expected = replay(entries, cuts[cuts.length - 1]);
        expect(plain(merged)).toEqual(plain(expected));
        const stats = merger.lastMergeStats;
        expect(stats?.workerUnavailable).toBe(false);
        inWorkers += stats?.mergedInWorkers ?? 0;
      }),
      { numRuns: 150 },
    );
    // Components with delta records went through the worker threads (others may merge inline).
    if (name === 'optimalWorkers') expect(inWorkers).toBeGreaterThan(0);
    else expect(inWorkers).toBe(0);
  });

  it('merging the chain in steps equals merging it at once', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ entries, cuts }) => {
        const merger = mergers.sequential;
        const base = replay(entries, cuts[0]);
        const deltas = cuts.slice(1).map((to, i) => deltaOf(entries, cuts[i], to));
        let stepwise = base;
        for (const d of deltas) stepwise = await merger.mergeIncrementals(stepwise, [d]);
        expect(plain(stepwise)).toEqual(plain(await merger.mergeIncrementals(base, deltas)));
      }),
      { numRuns: 100 },
    );
  });
});
