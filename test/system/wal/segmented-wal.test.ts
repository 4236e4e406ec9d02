import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TidemarkError } from '../../../src/lib/errors';
import { SegmentedWal, put, type LogEntry } from '../../../src/wal';
import { inspectWal } from '../../../src/wal/inspect';
import { decoded, makeEntry, readAll, removeDir, tempDir } from '../../support/wal/wal-fixtures';

describe('SegmentedWal', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  describe('bad input gets INVALID_ARGUMENT and writes nothing', () => {
    const bad: [string, unknown][] = [
      ['an empty component id', { ...makeEntry('a', 1), componentId: '' }],
      ['a component id over 255 characters', { ...makeEntry('a', 1), componentId: 'x'.repeat(256) }],
      ['a component id with a slash', { ...makeEntry('a', 1), componentId: 'a/b' }],
      ['a component id with a space', { ...makeEntry('a', 1), componentId: 'a b' }],
      ['a negative sequence', { ...makeEntry('a', 1), sequence: -1 }],
      ['a fractional timestamp', { ...makeEntry('a', 1), timestamp: 1.5 }],
      ['changes that are not an array', { ...makeEntry('a', 1), changes: 'put' }],
      ['an unknown op', { ...makeEntry('a', 1), changes: [{ op: 'upsert', key: 'k', value: 'v' }] }],
      ['a put without a value', { ...makeEntry('a', 1), changes: [{ op: 'put', key: 'k' }] }],
      ['a numeric key', { ...makeEntry('a', 1), changes: [{ op: 'delete', key: 42 }] }],
      ['a null change', { ...makeEntry('a', 1), changes: [null] }],
      ['a non-string metadata value', { ...makeEntry('a', 1), metadata: { n: 1 } }],
      ['an entry over maxEntryBytes', { ...makeEntry('a', 1), changes: [put('k', Buffer.alloc(5000))] }],
      ['not an object', 'hello'],
    ];

    it.each(bad)('refuses %s', async (_what, entry) => {
      const wal = await SegmentedWal.open(dir, { maxEntryBytes: 4096 });
      await wal.append(makeEntry('a', 0));
      const before = wal.segments();
      await expect(wal.append(entry as LogEntry)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(wal.appendBatch([makeEntry('a', 2), entry as LogEntry])).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/^entry 1/),
      });
      expect(wal.segments()).toEqual(before);
      // The good entry of the refused batch left no trace: its sequence is still free.
      expect(await wal.append(makeEntry('a', 2))).toBe(2);
      expect((await readAll(wal)).map((record) => record.entry.sequence)).toEqual([0, 2]);
      await wal.close();
    });

    it('refuses a sequence that does not rise, in a batch or across appends, unless told not to check', async () => {
      const wal = await SegmentedWal.open(dir);
      await wal.append(makeEntry('a', 5));
      await expect(wal.append(makeEntry('a', 5))).rejects.toThrow(/sequence 5 of component a does not rise/);
      await expect(wal.appendBatch([makeEntry('b', 1), makeEntry('b', 1)])).rejects.toThrow(/does not rise/);
      expect(await wal.appendBatch([makeEntry('b', 1), makeEntry('a', 6)])).toEqual([2, 3]);
      await wal.close();
      const lax = await SegmentedWal.open(dir, { enforceSequence: false });
      expect(await lax.append(makeEntry('a', 1))).toBe(4);
      await lax.close();
    });

    it('refuses an empty batch and a non-array', async () => {
      const wal = await SegmentedWal.open(dir);
      await expect(wal.appendBatch([])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(wal.appendBatch('x' as unknown as LogEntry[])).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      expect(wal.stats().lastLsn).toBe(0);
      await wal.close();
    });
  });

  it('gives dense LSNs from 1, keeps them across restarts, and reads ranges inclusively', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => makeEntry('w', i));
    let wal = await SegmentedWal.open(dir, { segmentSize: 2048 });
    expect(await wal.append(entries[0] as LogEntry)).toBe(1);
    expect(await wal.appendBatch(entries.slice(1, 30))).toEqual(Array.from({ length: 29 }, (_, i) => i + 2));
    await wal.close();
    wal = await SegmentedWal.open(dir, { segmentSize: 2048 });
    for (const entry of entries.slice(30)) await wal.append(entry);
    expect(wal.stats()).toMatchObject({ firstLsn: 1, lastLsn: 50, nextLsn: 51 });
    expect((await readAll(wal)).map((record) => record.entry)).toEqual(entries.map(decoded));
    expect((await readAll(wal, { fromLsn: 29, toLsn: 33 })).map((record) => record.lsn)).toEqual([
      29, 30, 31, 32, 33,
    ]);
    expect(await readAll(wal, { fromLsn: 51 })).toEqual([]);
    await wal.close();
  });

  it('rotates at segmentSize: file names sort in LSN order, every sealed segment has a checked footer', async () => {
    const wal = await SegmentedWal.open(dir, { segmentSize: 4096 });
    for (let i = 0; i < 200; i++) await wal.append(makeEntry('r', i, 60));
    const segments = wal.segments();
    expect(segments.length).toBeGreaterThan(3);
    for (let i = 1; i < segments.length; i++) {
      expect(segments[i]!.firstLsn).toBe(segments[i - 1]!.lastLsn + 1);
      expect(segments[i - 1]!.sealed).toBe(true);
      expect(segments[i - 1]!.sizeBytes).toBeLessThanOrEqual(4096 + 200); // a footer may pass the bound
    }
    const names = readdirSync(dir).filter((name) => name.endsWith('.wal'));
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(segments.map((segment) => segment.name));
    await wal.close();
    const inspection = await inspectWal(dir);
    expect(inspection.ok).toBe(true);
    expect(inspection.segments.reduce((sum, segment) => sum + segment.entryCount, 0)).toBe(200);
  });

  it('lets one writer open a directory: a second opener gets LOCKED, a dead owner’s lock is taken over', async () => {
    const wal = await SegmentedWal.open(dir);
    await expect(SegmentedWal.open(dir)).rejects.toMatchObject({ code: 'LOCKED' });
    const child = spawnSync(process.execPath, [
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(join(dir, 'probe'))}, String(process.pid))`,
    ]);
    expect(child.status).toBe(0);
    await wal.close();
    // A lock left by a process that is gone (its pid no longer runs) does not block.
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'LOCK'), readFileSync(join(dir, 'probe')));
    const again = await SegmentedWal.open(dir);
    await again.close();
  });

  it('fails appends after close with CLOSED', async () => {
    const wal = await SegmentedWal.open(dir);
    const pending = wal.append(makeEntry('a', 1));
    await wal.close();
    expect(await pending).toBe(1); // queued before close: flushed by it
    await expect(wal.append(makeEntry('a', 2))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('keeps retentionSegments sealed segments and deletes older ones only when the guard allows, oldest first', async () => {
    const allowed = new Set<number>();
    const wal = await SegmentedWal.open(dir, {
      segmentSize: 2048,
      retentionSegments: 2,
      canDelete: (segment) => allowed.has(segment.firstLsn),
    });
    for (let i = 0; i < 120; i++) await wal.append(makeEntry('k', i, 60));
    const sealed = wal.segments().filter((segment) => segment.sealed);
    expect(sealed.length).toBeGreaterThan(4);
    expect(await wal.cleanup()).toBe(0); // the guard refuses everything
    allowed.add(sealed[1]!.firstLsn); // not the oldest: deleting it would leave a hole
    expect(await wal.cleanup()).toBe(0);
    allowed.add(sealed[0]!.firstLsn);
    expect(await wal.cleanup()).toBe(2);
    for (const segment of sealed) allowed.add(segment.firstLsn);
    await wal.cleanup();
    const left = wal.segments().filter((segment) => segment.sealed);
    expect(left.map((segment) => segment.firstLsn)).toEqual(
      sealed.slice(-2).map((segment) => segment.firstLsn),
    );
    expect(wal.stats().firstLsn).toBe(left[0]!.firstLsn);
    const files = readdirSync(dir).filter((name) => name.endsWith('.wal'));
    expect(files).toEqual(wal.segments().map((segment) => segment.name));
    await expect(readAll(wal, { fromLsn: 1, toLsn: 3 })).resolves.toEqual([]);
    await wal.close();
    const reopened = await SegmentedWal.open(dir, { segmentSize: 2048 });
    expect(reopened.stats().firstLsn).toBe(left[0]!.firstLsn);
    expect(reopened.stats().lastLsn).toBe(120);
    await reopened.close();
  });

  it('runs retention in the background after a seal', async () => {
    const wal = await SegmentedWal.open(dir, {
      segmentSize: 1024,
      retentionSegments: 1,
      canDelete: () => true,
    });
    for (let i = 0; i < 60; i++) await wal.append(makeEntry('k', i, 60));
    await wal.seal();
    for (let tries = 0; tries < 100 && wal.stats().sealedSegments > 1; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(wal.stats().sealedSegments).toBe(1);
    expect(wal.stats().deletedSegments).toBeGreaterThan(0);
    await wal.close();
  });

  it('compresses large frames with zstd when enabled and reads them back, also after a restart', async () => {
    const entries = Array.from({ length: 20 }, (_, i) => ({
      componentId: 'agg',
      sequence: i,
      timestamp: 1_700_000_000_000_000 + i,
      changes: [put(`key-${i}`, 'window state '.repeat(1000))],
    }));
    const wal = await SegmentedWal.open(dir, {
      enableCompression: true,
      compressionThreshold: 1024,
      preallocate: false,
    });
    await Promise.all(entries.map((entry) => wal.append(entry)));
    const written = wal.stats().bytes;
    expect(written).toBeLessThan(20 * 13_000 * 0.2);
    await wal.close();
    const reopened = await SegmentedWal.open(dir);
    expect((await readAll(reopened)).map((record) => record.entry)).toEqual(entries.map(decoded));
    await reopened.close();
  });

  it('with enableSync off, appends resolve after the write and read back the same', async () => {
    const wal = await SegmentedWal.open(dir, { enableSync: false });
    const lsns = await Promise.all(Array.from({ length: 300 }, (_, i) => wal.append(makeEntry('f', i))));
    expect(lsns).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(wal.stats().fsync.count).toBe(0);
    expect((await readAll(wal)).length).toBe(300);
    await wal.close();
  });

  it('reports stats with fsync latency and recovery facts', async () => {
    const wal = await SegmentedWal.open(dir);
    await wal.appendBatch([makeEntry('s', 1), makeEntry('s', 2)]);
    const stats = wal.stats();
    expect(stats).toMatchObject({ firstLsn: 1, lastLsn: 2, segments: 1, appendedEntries: 2, flushes: 1 });
    expect(stats.fsync.count).toBe(1);
    expect(stats.fsync.p99Micros).toBeGreaterThan(0);
    expect(stats.recovery).toEqual({ truncatedBytes: 0 });
    await wal.close();
  });

  it('preallocates the segments after the first, so the active file already has its full size', async () => {
    const wal = await SegmentedWal.open(dir, { segmentSize: 64 * 1024 });
    await wal.append(makeEntry('p', 1));
    await wal.seal();
    await wal.append(makeEntry('p', 2));
    const active = wal.segments()[1]!;
    expect(statSync(active.path).size).toBe(64 * 1024);
    await wal.close();
    const reopened = await SegmentedWal.open(dir, { segmentSize: 64 * 1024 });
    expect(reopened.stats().lastLsn).toBe(2);
    expect(reopened.stats().recovery.truncatedBytes).toBe(0);
    expect(await reopened.append(makeEntry('p', 3))).toBe(3);
    await reopened.close();
    const again = await SegmentedWal.open(dir, { segmentSize: 64 * 1024 });
    expect((await readAll(again)).map((record) => record.entry.sequence)).toEqual([1, 2, 3]);
    await again.close();
  });

  it('errors are TidemarkErrors with stable codes', async () => {
    const wal = await SegmentedWal.open(dir);
    const error = await wal
      .append({ componentId: '', sequence: 1, timestamp: 1, changes: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(TidemarkError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', kind: 'invalid' });
    await wal.close();
  });
});
