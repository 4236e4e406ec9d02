import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, HardState } from '../../../../../src/coordination/raft/core';
import { FileRaftLogStore } from '../../../../../src/coordination/raft/log-store';

/**
 * A real full disk: a 2 MiB tmpfs mounted for the test (needs root, as CI runs; `mount` fails otherwise and
 * the test says so). No fault injection: ENOSPC comes from the kernel.
 */
describe('FileRaftLogStore on a full disk', () => {
  let mountPoint: string;
  beforeAll(() => {
    mountPoint = mkdtempSync(join(tmpdir(), 'tidemark-raft-full-'));
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
    rmSync(mountPoint, { recursive: true, force: true });
  });

  function batch(from: number, count: number): Entry[] {
    return Array.from({ length: count }, (_, i) => ({
      term: 1,
      index: from + i,
      kind: 'normal' as const,
      data: Buffer.alloc(1000, (from + i) & 0xff),
    }));
  }

  it('fails saves with DISK_FULL, loses nothing acknowledged, shows nothing unacknowledged, and saves again once space returns', async () => {
    const dir = join(mountPoint, 'store');
    const filler = join(mountPoint, 'filler');
    const store = new FileRaftLogStore(dir);
    try {
      await store.load();
      writeFileSync(filler, Buffer.alloc(1536 * 1024)); // leave room for a few hundred entries
      let last = 0;
      let hardState: HardState = { term: 1, vote: 'n1', commit: 0 };
      let failure: unknown;
      while (failure === undefined && last < 100_000) {
        const next = { term: 1, vote: 'n1', commit: last };
        try {
          await store.save({ entries: batch(last + 1, 16), hardState: next });
          last += 16;
          hardState = next;
        } catch (error) {
          failure = error;
        }
      }
      expect(failure).toMatchObject({ code: 'DISK_FULL' });
      expect(last).toBeGreaterThan(0);
      const acknowledgedSize = statSync(join(dir, 'log')).size;
      await expect(store.save({ entries: batch(last + 1, 1) })).rejects.toMatchObject({ code: 'DISK_FULL' });

      // Loaded again: exactly what was acknowledged; the failed write was cut back.
      const expectState = async (s: FileRaftLogStore, lastIndex: number, hs: HardState): Promise<void> => {
        const state = await s.load();
        expect(state.hardState).toEqual(hs);
        expect(state.entries.map((e) => e.index)).toEqual(Array.from({ length: lastIndex }, (_, i) => i + 1));
        const damaged = state.entries.filter((e) => !Buffer.from(e.data).equals(batch(e.index, 1)[0]!.data));
        expect(damaged.map((e) => e.index)).toEqual([]);
      };
      await expectState(store, last, hardState);
      expect(statSync(join(dir, 'log')).size).toBe(acknowledgedSize);
      // Still full: the same save fails the same way; a compaction (new snapshot, new log) too.
      await expect(store.save({ entries: batch(last + 1, 16) })).rejects.toMatchObject({ code: 'DISK_FULL' });
      await store.load();
      const big = {
        index: 8,
        term: 1,
        membership: { voters: ['n1'], learners: [] },
        data: Buffer.alloc(512 * 1024),
      };
      await expect(store.compact(big)).rejects.toMatchObject({ code: 'DISK_FULL' });
      await expectState(store, last, hardState);

      rmSync(filler);
      await store.save({ entries: batch(last + 1, 16), hardState: { term: 2, vote: '', commit: last } });
      await store.compact({ ...big, data: Buffer.alloc(100) });
      await store.close();
      const reopened = new FileRaftLogStore(dir);
      const state = await reopened.load();
      expect(state.snapshot?.index).toBe(8);
      expect(state.entries.map((e) => e.index)).toEqual(
        Array.from({ length: last + 16 - 8 }, (_, i) => i + 9),
      );
      expect(state.hardState).toEqual({ term: 2, vote: '', commit: last });
      await reopened.close();
    } finally {
      await store.close();
      rmSync(filler, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
