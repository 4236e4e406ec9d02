import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SegmentedWal, type LogEntry } from '../../../src/wal';
import { fingerprint, makeEntry, readAll, removeDir, tempDir } from '../../support/wal/wal-fixtures';

/**
 * A real full disk: a 2 MiB tmpfs mounted for the test (needs root, as CI runs; `mount` fails otherwise
 * and the test says so). No fault injection: ENOSPC comes from the kernel.
 */
describe('WAL on a full disk', () => {
  let mountPoint: string;
  beforeAll(() => {
    mountPoint = tempDir('tidemark-full-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    } catch (error) {
      throw new Error(
        `this test mounts a small tmpfs to fill it for real and must run as root: ${String(error)}`,
      );
    }
  });
  afterAll(() => {
    execFileSync('umount', [mountPoint]);
    removeDir(mountPoint);
  });

  it.each([false, true])(
    'fails appends with DISK_FULL, keeps the log consistent, and appends again once space returns (preallocate %s)',
    async (preallocate) => {
      const dir = join(mountPoint, `wal-${preallocate}`);
      mkdirSync(dir);
      const filler = join(mountPoint, 'filler');
      const options = { segmentSize: 128 * 1024, preallocate };
      const wal = await SegmentedWal.open(dir, options);
      try {
        writeFileSync(filler, Buffer.alloc(1536 * 1024)); // leave room for a few hundred entries
        const acked: LogEntry[] = [];
        let failure: unknown;
        let failedBatch: LogEntry[] = [];
        for (let sequence = 1; !failure && sequence < 100_000; sequence++) {
          const batch = Array.from({ length: 8 }, (_, i) => makeEntry('full', sequence * 8 + i, 300));
          try {
            await wal.appendBatch(batch);
            acked.push(...batch);
          } catch (error) {
            failure = error;
            failedBatch = batch;
          }
        }
        expect(failure).toMatchObject({ code: 'DISK_FULL', message: expect.stringMatching(/disk full/) });
        expect(acked.length).toBeGreaterThan(0);
        // Still full: the same batch fails the same way, and nothing half-written is visible.
        await expect(wal.appendBatch(failedBatch)).rejects.toMatchObject({ code: 'DISK_FULL' });
        expect(wal.stats().lastLsn).toBe(acked.length);
        expect((await readAll(wal)).map((record) => fingerprint(record.entry))).toEqual(
          acked.map(fingerprint),
        );

        rmSync(filler);
        expect(await wal.appendBatch(failedBatch)).toEqual(failedBatch.map((_, i) => acked.length + 1 + i));
        acked.push(...failedBatch);
        await wal.close();

        const reopened = await SegmentedWal.open(dir, options);
        expect((await readAll(reopened)).map((record) => fingerprint(record.entry))).toEqual(
          acked.map(fingerprint),
        );
        await reopened.close();
      } finally {
        await wal.close();
        rmSync(filler, { force: true });
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
