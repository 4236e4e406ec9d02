import {
  promises as fsp,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRaftLogStore, type RaftLogStore } from '../../../../../src/coordination/raft/log-store';
import { EMPTY_HARD_STATE } from '../../../../../src/coordination/raft/core';
import { entries, hardState, plain, snapshot } from './log-store-fixtures';
import { describeRaftLogStoreContract } from './raft-log-store-contract';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tidemark-raft-log-'));
}

describeRaftLogStoreContract('FileRaftLogStore', () => {
  const dir = tempDir();
  return {
    create: async () => new FileRaftLogStore(dir),
    restart: async (store: RaftLogStore) => {
      await store.close();
      return new FileRaftLogStore(dir);
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('FileRaftLogStore on disk', () => {
  let dir: string;
  let logFile: string;
  const opened: FileRaftLogStore[] = [];

  async function open(): Promise<FileRaftLogStore> {
    const store = new FileRaftLogStore(dir);
    opened.push(store);
    return store;
  }

  async function loadFresh(): Promise<unknown> {
    const store = await open();
    const state = plain(await store.load());
    await store.close();
    return state;
  }

  beforeEach(() => {
    dir = join(tempDir(), 'store'); // the store creates its directory
    logFile = join(dir, 'log');
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('writes one record per save: a header, then the log grows by each save', async () => {
    const store = await open();
    await store.load();
    expect(readFileSync(logFile).subarray(0, 6)).toEqual(Buffer.from([0x54, 0x4d, 0x52, 0x4c, 1, 0])); // "TMRL", version 1
    expect(statSync(logFile).size).toBe(8);
    await store.save({ entries: entries(1, 100, 1), hardState: hardState(1, 0) });
    // record header 8, kind+flags 2, entries header 12, 13 per entry + data, hard state 17 + vote 2
    const dataBytes = entries(1, 100, 1).reduce((sum, e) => sum + e.data.length, 0);
    expect(statSync(logFile).size).toBe(8 + 8 + 2 + 12 + 100 * 13 + dataBytes + 17 + 2);
  });

  describe('a torn tail', () => {
    /** Three saves; returns the log's length before and after the third (the last record). */
    async function threeSaves(): Promise<{ lastStart: number; lastEnd: number }> {
      const store = await open();
      await store.load();
      await store.save({ entries: entries(1, 4, 1), hardState: hardState(1, 0) });
      await store.save({ entries: entries(5, 6, 1) });
      const lastStart = statSync(logFile).size;
      await store.save({ entries: entries(5, 7, 2), hardState: hardState(2, 5, 'n1') });
      const lastEnd = statSync(logFile).size;
      await store.close();
      return { lastStart, lastEnd };
    }
    const beforeLast = plain({ hardState: hardState(1, 0), snapshot: undefined, entries: entries(1, 6, 1) });

    it('cut at every byte offset of the last record is cut off on load; the next save appends after the cut', async () => {
      const { lastStart, lastEnd } = await threeSaves();
      const whole = readFileSync(logFile);
      for (let cut = lastStart; cut < lastEnd; cut++) {
        writeFileSync(logFile, whole.subarray(0, cut));
        const store = await open();
        expect(plain(await store.load())).toEqual(beforeLast);
        expect(statSync(logFile).size).toBe(lastStart);
        await store.save({ entries: entries(7, 7, 1), hardState: hardState(1, 7) });
        await store.close();
        expect(await loadFresh()).toEqual(
          plain({ hardState: hardState(1, 7), snapshot: undefined, entries: entries(1, 7, 1) }),
        );
      }
    });

    it('zeros after the last record (a file extended without its data) are cut too', async () => {
      const { lastEnd } = await threeSaves();
      await fsp.appendFile(logFile, Buffer.alloc(4096));
      const store = await open();
      expect((await store.load()).entries.map((e) => e.term)).toEqual([1, 1, 1, 1, 2, 2, 2]);
      expect(statSync(logFile).size).toBe(lastEnd);
    });

    it('a damaged last record cannot be told from a torn write: it is cut as one', async () => {
      const { lastStart, lastEnd } = await threeSaves();
      const bytes = readFileSync(logFile);
      bytes[lastEnd - 3] = (bytes[lastEnd - 3] as number) ^ 0x01;
      writeFileSync(logFile, bytes);
      expect(await loadFresh()).toEqual(beforeLast);
      expect(statSync(logFile).size).toBe(lastStart);
    });
  });

  describe('refusals change nothing on disk', () => {
    async function someLog(): Promise<void> {
      const store = await open();
      await store.load();
      await store.save({ entries: entries(1, 4, 1), hardState: hardState(1, 0) });
      await store.compact(snapshot(2, 1));
      await store.save({ entries: entries(5, 6, 1) });
      await store.save({ entries: entries(7, 8, 1) });
      await store.close();
    }
    function snapshotOf(directory: string): Record<string, string> {
      const files: Record<string, string> = {};
      for (const name of readdirSync(directory))
        files[name] = readFileSync(join(directory, name)).toString('hex');
      return files;
    }
    async function expectRefusal(match: object): Promise<void> {
      const before = snapshotOf(dir);
      const store = await open();
      const error = await store.load().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject(match);
      expect(snapshotOf(dir)).toEqual(before);
      // The refused store cannot be written through.
      await expect(store.save({ entries: entries(9, 9, 1) })).rejects.toMatchObject({ code: 'CLOSED' });
    }

    it('a flipped byte in an early record: CHECKSUM_MISMATCH naming the file and offset', async () => {
      await someLog();
      const bytes = readFileSync(logFile);
      // The compacted log: header (8), then the record the compaction wrote; flip a byte inside it.
      bytes[8 + 8 + 5] = (bytes[8 + 8 + 5] as number) ^ 0x40;
      writeFileSync(logFile, bytes);
      await expectRefusal({
        code: 'CHECKSUM_MISMATCH',
        details: { file: logFile, offset: 8 },
        message: expect.stringContaining(`${logFile}: corrupt record at offset 8`),
      });
    });

    it('a damaged length in an early record is corruption as well', async () => {
      await someLog();
      const bytes = readFileSync(logFile);
      bytes.writeUInt32LE(bytes.readUInt32LE(8) + 1, 8);
      writeFileSync(logFile, bytes);
      await expectRefusal({ code: 'CHECKSUM_MISMATCH', details: { offset: 8 } });
    });

    it('another magic: INVALID_STATE_DATA; another version: UNSUPPORTED_VERSION', async () => {
      await someLog();
      const good = readFileSync(logFile);
      writeFileSync(logFile, Buffer.concat([Buffer.from('TMRX'), good.subarray(4)]));
      await expectRefusal({
        code: 'INVALID_STATE_DATA',
        message: expect.stringContaining('not a Raft log file'),
      });
      const newer = Buffer.from(good);
      newer.writeUInt16LE(2, 4);
      writeFileSync(logFile, newer);
      await expectRefusal({ code: 'UNSUPPORTED_VERSION', details: { version: 2 } });
      writeFileSync(logFile, Buffer.from('TMR'));
      await expectRefusal({ code: 'INVALID_STATE_DATA' });
    });

    it('a damaged, missing or foreign snapshot file', async () => {
      await someLog();
      const snapshotFile = join(dir, 'snapshot.00000000000000000002');
      const good = readFileSync(snapshotFile);
      const flipped = Buffer.from(good);
      flipped[good.length - 1] = (flipped[good.length - 1] as number) ^ 1;
      writeFileSync(snapshotFile, flipped);
      await expectRefusal({ code: 'CHECKSUM_MISMATCH', details: { file: snapshotFile } });
      writeFileSync(snapshotFile, good.subarray(0, good.length - 1));
      await expectRefusal({ code: 'CHECKSUM_MISMATCH', details: { file: snapshotFile } });
      writeFileSync(snapshotFile, Buffer.concat([Buffer.from('TMRL'), good.subarray(4)]));
      await expectRefusal({
        code: 'INVALID_STATE_DATA',
        message: expect.stringContaining('not a Raft snapshot file'),
      });
      rmSync(snapshotFile);
      await expectRefusal({ code: 'INVALID_STATE_DATA', message: expect.stringContaining('missing') });
      writeFileSync(snapshotFile, good);
      expect(await loadFresh()).toEqual(
        plain({ hardState: hardState(1, 0), snapshot: snapshot(2, 1), entries: entries(3, 8, 1) }),
      );
    });

    it('a missing log beside snapshot files is refused, not started afresh', async () => {
      await someLog();
      rmSync(logFile);
      await expectRefusal({ code: 'INVALID_STATE_DATA', message: expect.stringContaining('is missing') });
    });
  });

  it('compaction rewrites the log with only the entries after the snapshot; replaced snapshots and leftovers go', async () => {
    const store = await open();
    await store.load();
    await store.save({ entries: entries(1, 50, 1), hardState: hardState(1, 40) });
    await store.save({ entries: entries(30, 60, 2) });
    const before = statSync(logFile).size;
    await store.compact(snapshot(55, 2));
    expect(statSync(logFile).size).toBeLessThan(before / 5);
    expect(readdirSync(dir).sort()).toEqual(['log', 'snapshot.00000000000000000055']);
    await store.save({ snapshot: snapshot(70, 3), entries: entries(71, 72, 3) });
    expect(readdirSync(dir).sort()).toEqual(['log', 'snapshot.00000000000000000070']);
    await store.close();

    // Leftovers of saves and compactions a crash interrupted.
    writeFileSync(join(dir, 'snapshot.00000000000000000090'), 'half a snapshot');
    writeFileSync(join(dir, '.log.tmp'), 'half a compaction');
    expect(await loadFresh()).toEqual(
      plain({ hardState: hardState(1, 40), snapshot: snapshot(70, 3), entries: entries(71, 72, 3) }),
    );
    expect(readdirSync(dir).sort()).toEqual(['log', 'snapshot.00000000000000000070']);
  });

  it('a snapshot written but not yet named by the log (a crash between the two) is ignored', async () => {
    const store = await open();
    await store.load();
    await store.save({ entries: entries(1, 10, 1) });
    await store.close();
    const other = new FileRaftLogStore(join(dir, '..', 'other'));
    await other.load();
    await other.save({ snapshot: snapshot(8, 2), entries: [] });
    await other.close();
    writeFileSync(
      join(dir, 'snapshot.00000000000000000008'),
      readFileSync(join(dir, '..', 'other', 'snapshot.00000000000000000008')),
    );
    expect(await loadFresh()).toEqual(
      plain({ hardState: EMPTY_HARD_STATE, snapshot: undefined, entries: entries(1, 10, 1) }),
    );
  });

  describe('a failed write', () => {
    /** Makes the next fdatasync of any file handle fail with `errno`, after its write went through. */
    async function failNextDatasync(errno: string): Promise<void> {
      const probe = await fsp.open(__filename, 'r');
      const prototype = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
      await probe.close();
      jest.spyOn(prototype, 'datasync').mockImplementationOnce(async () => {
        throw Object.assign(new Error(`${errno}: injected`), { code: errno });
      });
    }
    afterEach(() => jest.restoreAllMocks());

    it('is not acknowledged, is cut from the file, and the store refuses writes until loaded again', async () => {
      const store = await open();
      await store.load();
      await store.save({ entries: entries(1, 5, 1), hardState: hardState(1, 3) });
      const acknowledged = statSync(logFile).size;
      await failNextDatasync('ENOSPC');
      await expect(
        store.save({ entries: entries(6, 9, 1), hardState: hardState(1, 6) }),
      ).rejects.toMatchObject({
        code: 'DISK_FULL',
      });
      // The write itself reached the file; the store cut it back to the last acknowledged record.
      expect(statSync(logFile).size).toBe(acknowledged);
      await expect(store.save({ entries: entries(6, 6, 1) })).rejects.toMatchObject({
        code: 'DISK_FULL',
        message: expect.stringContaining('load() the store again'),
      });
      await expect(store.compact(snapshot(2, 1))).rejects.toMatchObject({ code: 'DISK_FULL' });
      const expected = plain({ hardState: hardState(1, 3), snapshot: undefined, entries: entries(1, 5, 1) });
      expect(plain(await store.load())).toEqual(expected);
      await store.save({ entries: entries(6, 6, 1) });
      expect(await loadFresh()).toEqual(
        plain({ hardState: hardState(1, 3), snapshot: undefined, entries: entries(1, 6, 1) }),
      );
    });

    /**
     * Fails the `nth` fsync from now (1-based) with EIO. A compaction's fsyncs, in order: the snapshot file,
     * the directory, the new log (temporary name), the directory after the rename.
     */
    async function failFsync(nth: number): Promise<void> {
      const probe = await fsp.open(__filename, 'r');
      const prototype = Object.getPrototypeOf(probe) as { sync(this: unknown): Promise<void> };
      await probe.close();
      const original = prototype.sync;
      let calls = 0;
      jest.spyOn(prototype, 'sync').mockImplementation(async function (this: unknown) {
        if (++calls === nth) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
        return original.call(this);
      });
    }

    it.each([
      [1, 'the snapshot file'],
      [2, 'the directory after the snapshot file'],
      [3, 'the new log'],
    ])('in a compaction, at the fsync of %s (#%i), leaves the old log standing', async (nth) => {
      const store = await open();
      await store.load();
      await store.save({ entries: entries(1, 5, 1), hardState: hardState(1, 3) });
      await failFsync(nth);
      await expect(store.compact(snapshot(3, 1))).rejects.toMatchObject({ code: 'IO_ERROR' });
      await expect(store.save({ entries: entries(6, 6, 1) })).rejects.toMatchObject({ code: 'IO_ERROR' });
      jest.restoreAllMocks();
      expect(plain(await store.load())).toEqual(
        plain({ hardState: hardState(1, 3), snapshot: undefined, entries: entries(1, 5, 1) }),
      );
      expect(readdirSync(dir).sort()).toEqual(['log']);
    });

    it('in a compaction after its rename keeps the snapshot the new log names', async () => {
      const store = await open();
      await store.load();
      await store.save({ entries: entries(1, 5, 1), hardState: hardState(1, 3) });
      await failFsync(4);
      await expect(store.compact(snapshot(3, 1))).rejects.toMatchObject({ code: 'IO_ERROR' });
      jest.restoreAllMocks();
      // Whether the rename is durable is unknown to the store; here it happened, and the log it put in place
      // must find its snapshot.
      expect(plain(await store.load())).toEqual(
        plain({ hardState: hardState(1, 3), snapshot: snapshot(3, 1), entries: entries(4, 5, 1) }),
      );
    });
  });
});
