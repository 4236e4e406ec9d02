import fc from 'fast-check';
import { packLayout, planPacks } from '../../../../src/wal/archive/segment-pack';
import type { SegmentInfo } from '../../../../src/wal';
import { segmentInfo } from '../../../support/tiering/tiering-fixtures';

/** Contiguous segments of the given sizes, each holding `perSegment` entries, from LSN `first`. */
function contiguous(sizes: readonly number[], first = 1, perSegment = 10): SegmentInfo[] {
  return sizes.map((size, i) => {
    const firstLsn = first + i * perSegment;
    return segmentInfo(firstLsn, firstLsn + perSegment - 1, size);
  });
}

const lsns = (packs: SegmentInfo[][]) => packs.map((pack) => pack.map((segment) => segment.firstLsn));

describe('planPacks', () => {
  it('closes a pack as soon as it holds targetBytes', () => {
    const segments = contiguous([40, 40, 40, 100, 10, 90, 5]);
    const packs = planPacks(segments, { targetBytes: 100, flushPartial: false });
    expect(lsns(packs)).toEqual([[1, 11, 21], [31], [41, 51]]);
  });

  it('returns the last, partial pack only with flushPartial', () => {
    const segments = contiguous([60, 60, 30]);
    expect(lsns(planPacks(segments, { targetBytes: 100, flushPartial: false }))).toEqual([[1, 11]]);
    expect(lsns(planPacks(segments, { targetBytes: 100, flushPartial: true }))).toEqual([[1, 11], [21]]);
    expect(planPacks(contiguous([30]), { targetBytes: 100, flushPartial: false })).toEqual([]);
    expect(planPacks([], { targetBytes: 100, flushPartial: true })).toEqual([]);
  });

  it('never lets a pack span an LSN gap', () => {
    // 21..30 is missing (uploaded already, or an empty segment between).
    const segments = [segmentInfo(1, 10, 30), segmentInfo(11, 20, 30), segmentInfo(31, 40, 30)];
    segments.push(segmentInfo(41, 50, 80));
    expect(lsns(planPacks(segments, { targetBytes: 100, flushPartial: false }))).toEqual([
      [1, 11],
      [31, 41],
    ]);
  });

  it('plans the same packs for the same segments, and the rest again once a pack is gone', () => {
    const segments = contiguous([70, 20, 30, 90, 5, 5, 5, 120, 40]);
    const options = { targetBytes: 100, flushPartial: false };
    const packs = planPacks(segments, options);
    expect(
      planPacks(
        segments.map((s) => ({ ...s })),
        options,
      ),
    ).toEqual(packs);
    // After a crash that recorded only the first pack, planning again gives the same later packs (keys).
    expect(planPacks(segments.slice(packs[0]!.length), options)).toEqual(packs.slice(1));
  });

  it('property: packs concatenate to the input (a prefix without flush); every pack but the last reaches the target', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 1000 }),
        (sizes, targetBytes) => {
          const segments = contiguous(sizes);
          const flushed = planPacks(segments, { targetBytes, flushPartial: true });
          expect(flushed.flat()).toEqual(segments);
          const sizeOf = (pack: SegmentInfo[]) => pack.reduce((sum, s) => sum + s.sizeBytes, 0);
          for (const pack of flushed.slice(0, -1)) {
            expect(sizeOf(pack)).toBeGreaterThanOrEqual(targetBytes);
            // …and closed as soon as it did: without its last segment it was below the target.
            expect(sizeOf(pack.slice(0, -1))).toBeLessThan(targetBytes);
          }
          const full = planPacks(segments, { targetBytes, flushPartial: false });
          expect(full.flat()).toEqual(segments.slice(0, full.flat().length));
          for (const pack of full) expect(sizeOf(pack)).toBeGreaterThanOrEqual(targetBytes);
          expect(full).toEqual(
            flushed.slice(0, sizeOf(flushed.at(-1) ?? []) >= targetBytes ? undefined : -1),
          );
        },
      ),
    );
  });
});

describe('packLayout', () => {
  it('places each segment at the sum of the sizes before it', () => {
    const segments = contiguous([100, 7, 250], 41, 5);
    expect(packLayout(segments)).toEqual([
      { firstLsn: 41, lastLsn: 45, offset: 0, size: 100, entryCount: 5, minTimestamp: 41, maxTimestamp: 45 },
      { firstLsn: 46, lastLsn: 50, offset: 100, size: 7, entryCount: 5, minTimestamp: 46, maxTimestamp: 50 },
      {
        firstLsn: 51,
        lastLsn: 55,
        offset: 107,
        size: 250,
        entryCount: 5,
        minTimestamp: 51,
        maxTimestamp: 55,
      },
    ]);
    expect(packLayout([])).toEqual([]);
  });
});
