import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { chunkRanges, chunkRecords, keyHash32 } from '../../../../src/checkpoint/block/chunker';
import { encodeRecords, recordSize } from '../../../../src/checkpoint/block/record-codec';
import type { StateRecord } from '../../../../src/checkpoint/state/state-types';
import { windowState } from '../../../support/checkpoint/block/block-fixtures';

const OPTIONS = { targetSize: 8 * 1024, minSize: 2 * 1024, maxSize: 32 * 1024 };
const N = 20_000; // ≈ 150 bytes each: ≈ 3 MB of state, ≈ 370 blocks of ≈ 8 KiB

function blockHashes(records: StateRecord[]): string[] {
  return [...chunkRanges(records, OPTIONS)].map(([start, end]) =>
    createHash('sha256')
      .update(encodeRecords(records, start, end))
      .digest('hex'),
  );
}

/** Share of the new blocks that the old chunking already had (what dedup would not write again). */
function reused(before: StateRecord[], after: StateRecord[]): { share: number; blocks: number } {
  const old = new Set(blockHashes(before));
  const now = blockHashes(after);
  return { share: now.filter((h) => old.has(h)).length / now.length, blocks: now.length };
}

/** The keys blocks end at. */
function cutKeys(records: StateRecord[]): Set<string> {
  return new Set(chunkRecords(records, OPTIONS).map((end) => records[end - 1]!.key.toString('latin1')));
}

function withValue(record: StateRecord, value: Buffer): StateRecord {
  return { ...record, value, lsn: record.lsn + 1_000_000 };
}

describe('content-defined chunker', () => {
  const base = windowState(N, 7);

  it('cuts realistic state into blocks of about the target size, each in [min, max] but the last', () => {
    const ends = chunkRecords(base, OPTIONS);
    expect(ends[ends.length - 1]).toBe(N);
    let start = 0;
    const sizes = ends.map((end) => {
      let size = 0;
      for (let i = start; i < end; i++) size += recordSize(base[i]!);
      start = end;
      return size;
    });
    sizes.slice(0, -1).forEach((size) => {
      expect(size).toBeGreaterThanOrEqual(OPTIONS.minSize);
      expect(size).toBeLessThanOrEqual(OPTIONS.maxSize);
    });
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(mean).toBeGreaterThan(OPTIONS.targetSize / 2);
    expect(mean).toBeLessThan(OPTIONS.targetSize * 2);
    expect(chunkRecords(base, OPTIONS)).toEqual(ends); // deterministic
  });

  // Scenario: 200 consecutive records (1%, indices 10 000–10 199) get new values of other lengths.
  it('a localized change of 1% of the values keeps ≥ 90% of the blocks', () => {
    const after = base.map((r, i) =>
      i >= 10_000 && i < 10_200 ? withValue(r, Buffer.alloc(60 + (i % 70), 'x')) : r,
    );
    const { share, blocks } = reused(base, after);
    expect(share).toBeGreaterThanOrEqual(0.9);
    expect(Math.round((1 - share) * blocks)).toBeLessThanOrEqual(4); // in fact 1–2 of ≈ 356
  });

  // Scenario: 20 new keys inserted and 20 keys deleted around index 5 000.
  it('inserting and deleting a few keys in one region keeps ≥ 90% of the blocks', () => {
    const after = [...base];
    after.splice(5_000, 20);
    const inserted = Array.from({ length: 20 }, (_, j) => ({
      key: Buffer.concat([base[5_100]!.key, Buffer.from(`:extra${j.toString().padStart(2, '0')}`)]),
      value: Buffer.alloc(100, 'y'),
      lsn: 9_999_999,
      timestamp: 1,
    }));
    after.splice(5_081, 0, ...inserted); // right after base[5 100] (now at 5 080), keeping the order
    for (let i = 1; i < after.length; i++)
      expect(Buffer.compare(after[i - 1]!.key, after[i]!.key)).toBeLessThan(0);
    const { share, blocks } = reused(base, after);
    expect(share).toBeGreaterThanOrEqual(0.9);
    expect(Math.round((1 - share) * blocks)).toBeLessThanOrEqual(4); // in fact 1–2 of ≈ 356
  });

  // Scenario: every 100th record (1%, scattered) gets a new value of the SAME length: no cut moves.
  it('changing values without changing their sizes moves no boundary', () => {
    const after = base.map((r, i) => (i % 100 === 0 ? withValue(r, Buffer.alloc(r.value.length, 'z')) : r));
    expect(chunkRecords(after, OPTIONS)).toEqual(chunkRecords(base, OPTIONS));
  });

  // Scenario: every 100th record (1%, scattered) gets a value 0–40 bytes longer or shorter.
  it('scattered changes of value sizes keep ≥ 90% of the cut points on the same keys', () => {
    const after = base.map((r, i) =>
      i % 100 === 0 ? withValue(r, Buffer.alloc(r.value.length - 40 + (i % 81), 'z')) : r,
    );
    const before = cutKeys(base);
    const now = [...cutKeys(after)];
    const share = now.filter((k) => before.has(k)).length / now.length;
    expect(share).toBeGreaterThanOrEqual(0.9);
  });

  it('keeps every block but the last in [min, max] for any record sizes up to max − min', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 24 }), fc.nat({ max: 1500 })), {
          maxLength: 400,
        }),
        (specs) => {
          const options = { targetSize: 2048, minSize: 512, maxSize: 3000 };
          const records = specs.map(([key, size], i) => ({
            key: Buffer.from(key),
            value: Buffer.alloc(size),
            lsn: i,
            timestamp: i,
          }));
          const ends = chunkRecords(records, options);
          let start = 0;
          ends.forEach((end, b) => {
            expect(end).toBeGreaterThan(start);
            let size = 0;
            for (let i = start; i < end; i++) size += recordSize(records[i]!);
            expect(size).toBeLessThanOrEqual(options.maxSize);
            if (b < ends.length - 1) expect(size).toBeGreaterThanOrEqual(options.minSize);
            start = end;
          });
          expect(start).toBe(records.length);
        },
      ),
    );
  });

  it('gives a record larger than maxSize a block of its own; handles no records', () => {
    const small = (i: number): StateRecord => ({
      key: Buffer.from([i]),
      value: Buffer.alloc(10),
      lsn: 1,
      timestamp: 1,
    });
    const huge: StateRecord = { key: Buffer.from([50]), value: Buffer.alloc(5000), lsn: 1, timestamp: 1 };
    const options = { targetSize: 1000, minSize: 500, maxSize: 2000 };
    const ends = chunkRecords([small(1), small(2), huge, small(60)], options);
    expect(ends).toEqual([2, 3, 4]);
    expect(chunkRecords([], options)).toEqual([]);
  });

  it('refuses inconsistent sizes', () => {
    expect(() => chunkRecords([], { targetSize: 100, minSize: 100 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => chunkRecords([], { targetSize: 100, maxSize: 50 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('hashes keys to well-spread 32-bit values', () => {
    const hashes = base.slice(0, 4096).map((r) => keyHash32(r.key));
    expect(new Set(hashes).size).toBeGreaterThan(4090);
    const below = hashes.filter((h) => h < 0x8000_0000).length;
    expect(below).toBeGreaterThan(1800);
    expect(below).toBeLessThan(2300);
  });
});
