/**
 * How the `optimal` strategy finds its worker script (merge-pool.ts): beside the module in a build; from
 * TypeScript sources there is none, and the merger merges inline with the same result.
 */
import * as path from 'node:path';
import { CheckpointMerger } from '../../../../src/checkpoint/merge';
import { ROOT } from '../../../support/ensure-built';
import {
  delta,
  ensureMergeBuilt,
  plain,
  put,
  rec,
  snapshot,
} from '../../../support/checkpoint/merge/merge-fixtures';

const base = snapshot(10, { c: [rec('a', '1', 5, 5), rec('m', '2', 6, 6)] });
const deltas = [delta(10, 20, { c: { records: [put('b', 'x', 12, 1)] } })];
const expected = {
  lsn: 20,
  components: {
    c: [
      ['61', '31', 5, 5],
      ['62', '78', 12, 1],
      ['6d', '32', 6, 6],
    ],
  },
};

describe('merge worker resolution', () => {
  beforeAll(() => ensureMergeBuilt());

  it('the built merger runs workers from dist/checkpoint/merge/merge-worker.js by default', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const built = require(path.join(ROOT, 'dist/checkpoint/merge/checkpoint-merger.js')) as {
      CheckpointMerger: typeof CheckpointMerger;
    };
    const merger = new built.CheckpointMerger({ mergeStrategy: 'optimal' }, { inlineThreshold: 0 });
    try {
      expect(plain(await merger.mergeIncrementals(base, deltas))).toEqual(expected);
      expect(merger.lastMergeStats).toMatchObject({ mergedInWorkers: 1, workerUnavailable: false });
    } finally {
      await merger.close();
    }
  });

  it('from sources, without a worker file, merges inline and says so', async () => {
    const merger = new CheckpointMerger({ mergeStrategy: 'optimal' }, { inlineThreshold: 0 });
    expect(plain(await merger.mergeIncrementals(base, deltas))).toEqual(expected);
    expect(merger.lastMergeStats).toMatchObject({
      mergedInWorkers: 0,
      mergedInline: 1,
      workerUnavailable: true,
    });
    await merger.close();
  });

  it('a closed merger starts its workers again on the next merge', async () => {
    const merger = new CheckpointMerger(
      { mergeStrategy: 'optimal' },
      { inlineThreshold: 0, workerFilename: path.join(ROOT, 'dist/checkpoint/merge/merge-worker.js') },
    );
    await merger.mergeIncrementals(base, deltas);
    await merger.close();
    expect(plain(await merger.mergeIncrementals(base, deltas))).toEqual(expected);
    expect(merger.lastMergeStats?.mergedInWorkers).toBe(1);
    await merger.close();
  });
});
