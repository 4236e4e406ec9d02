import fc from 'fast-check';
import { runFromSlices } from '../../../../src/checkpoint/run/run-slice';
import { runFromRecords, runToRecords } from '../../../../src/checkpoint/run/sorted-run';
import { plain, sortedDeltaRecordsArb } from '../../../support/checkpoint/block/block-fixtures';

describe('run slices', () => {
  it('runFromSlices copies any slices into one run, in order', () => {
    fc.assert(
      fc.property(sortedDeltaRecordsArb(30), fc.array(fc.nat(), { maxLength: 6 }), (all, cuts) => {
        const run = runFromRecords(all);
        const bounds = [...new Set([0, ...cuts.map((c) => c % (all.length + 1)), all.length])].sort(
          (a, b) => a - b,
        );
        const slices = bounds.slice(1).map((end, i) => ({ run, start: bounds[i]!, end }));
        const copy = runFromSlices(slices);
        expect(plain(runToRecords(copy))).toEqual(plain(all));
        expect(copy.keyBytes.buffer).not.toBe(run.keyBytes.buffer);
      }),
    );
  });
});
