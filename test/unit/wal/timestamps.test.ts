import { SegmentedWal, type LogEntry } from '../../../src/wal';
import { makeEntry, readAll, removeDir, tempDir } from '../../support/wal/wal-fixtures';

/**
 * Issue 10, item 12: entry timestamps are microseconds since the epoch. A value that cannot be one (before
 * 2000 or after 2200 read as µs: milliseconds, seconds, a sentinel) is refused, naming the unit it looks
 * like, unless the WAL is told not to check (validateTimestamps: false).
 */

const MS = 1_796_422_532_118; // 2026-12-04 in milliseconds: as µs, January 1970
const at = (timestamp: number): LogEntry => ({ ...makeEntry('agg_1', 1), timestamp });

describe('entry timestamps', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it.each([
    [
      'milliseconds',
      MS,
      /timestamp 1796422532118 looks like milliseconds; expected microseconds since the epoch/,
    ],
    ['seconds', 1_796_422_532, /timestamp 1796422532 looks like seconds; expected microseconds/],
    [
      'zero',
      0,
      /timestamp 0 is before 2000-01-01 read as microseconds; expected microseconds since the epoch/,
    ],
    ['a small number', 42, /timestamp 42 is before 2000-01-01/],
    ['the largest safe integer', Number.MAX_SAFE_INTEGER, /timestamp 9007199254740991 is after 2200-01-01/],
  ])('refuses %s, naming the unit expected, and writes nothing', async (_what, timestamp, message) => {
    const wal = await SegmentedWal.open(dir);
    await expect(wal.appendBatch([makeEntry('agg_1', 1), at(timestamp)])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(message),
      details: { index: 1, timestamp },
    });
    expect(wal.stats().lastLsn).toBe(0);
    await wal.close();
  });

  it('takes the first and last accepted microsecond', async () => {
    const wal = await SegmentedWal.open(dir);
    const first = Date.UTC(2000, 0, 1) * 1000;
    const last = Date.UTC(2200, 0, 1) * 1000 - 1;
    expect(await wal.appendBatch([at(first), { ...at(last), sequence: 2 }])).toEqual([1, 2]);
    await expect(wal.append({ ...at(first - 1), sequence: 3 })).rejects.toThrow(/before 2000-01-01/);
    await expect(wal.append({ ...at(last + 1), sequence: 3 })).rejects.toThrow(/after 2200-01-01/);
    await wal.close();
  });

  it('takes any non-negative safe integer with validateTimestamps: false', async () => {
    const wal = await SegmentedWal.open(dir, { validateTimestamps: false });
    expect(await wal.appendBatch([at(MS), { ...at(0), sequence: 2 }])).toEqual([1, 2]);
    expect((await readAll(wal)).map((r) => r.entry.timestamp)).toEqual([MS, 0]);
    await expect(wal.append({ ...at(-1), sequence: 3 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await wal.close();
  });
});
