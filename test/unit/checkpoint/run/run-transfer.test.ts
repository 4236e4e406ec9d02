import fc from 'fast-check';
import { packRun, runFromSlices, unpackRun } from '../../../../src/checkpoint/run/run-transfer';
import { runFromRecords, runToRecords } from '../../../../src/checkpoint/run/sorted-run';
import { plain, sortedDeltaRecordsArb } from '../../../support/checkpoint/block/block-fixtures';

describe('runs in one buffer', () => {
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

  it('packRun moves a run built in one buffer as it is, and copies any other into one', () => {
    fc.assert(
      fc.property(sortedDeltaRecordsArb(20), (all) => {
        const built = runFromSlices([{ run: runFromRecords(all), start: 0, end: all.length }]);
        expect(packRun(built)).toBe(built.keyBytes.buffer);
        const moved = unpackRun(packRun(built));
        expect(plain(runToRecords(moved))).toEqual(plain(all));
        // A view of a moved buffer is not registered: packing it again copies.
        const again = packRun(moved);
        expect(again).not.toBe(moved.keyBytes.buffer);
        expect(plain(runToRecords(unpackRun(again)))).toEqual(plain(all));
      }),
    );
  });
});
