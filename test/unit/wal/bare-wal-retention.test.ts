import { readdirSync } from 'node:fs';
import { DEFAULT_WAL_OPTIONS, SegmentedWal } from '../../../src/index';
import { makeEntry, readAll, removeDir, tempDir } from '../../support/wal/wal-fixtures';

/**
 * A WAL opened with no `canDelete` (the library as the README shows it, no retention guard) must never
 * lose a sealed segment: deleting is for whoever knows the segment is uploaded and covered.
 */
describe('a bare SegmentedWal', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('refuses every deletion by default', () => {
    expect(DEFAULT_WAL_OPTIONS.canDelete(undefined as never)).toBe(false);
  });

  it.each([
    ['the default retentionSegments', {}],
    ['retentionSegments 0', { retentionSegments: 0 }],
  ])('keeps every sealed segment across many rotations with %s', async (_name, options) => {
    const wal = await SegmentedWal.open(dir, { segmentSize: 1024, preallocate: false, ...options });
    const entries = 400;
    for (let i = 1; i <= entries; i++) await wal.append(makeEntry('k', i, 60));
    await wal.seal();
    // Retention also runs in the background after each seal; asking now returns the run in progress, if any.
    expect(await wal.cleanup()).toBe(0);

    const sealed = wal.segments().filter((segment) => segment.sealed);
    expect(sealed.length).toBeGreaterThan(DEFAULT_WAL_OPTIONS.retentionSegments * 3);
    expect(wal.stats()).toMatchObject({ firstLsn: 1, lastLsn: entries, deletedSegments: 0 });
    expect(readdirSync(dir).filter((name) => name.endsWith('.wal'))).toEqual(
      wal.segments().map((segment) => segment.name),
    );
    expect((await readAll(wal)).map((record) => record.lsn)).toEqual(
      Array.from({ length: entries }, (_, i) => i + 1),
    );
    await wal.close();

    const reopened = await SegmentedWal.open(dir, { segmentSize: 1024, preallocate: false });
    expect(reopened.stats().firstLsn).toBe(1);
    await reopened.close();
  });
});
