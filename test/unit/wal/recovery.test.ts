import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { TidemarkError } from '../../../src/lib/errors';
import { SegmentedWal, type LogEntry } from '../../../src/wal';
import { HEADER_SIZE } from '../../../src/wal/format';
import { fingerprint, makeEntry, readAll, removeDir, tempDir } from '../../support/wal/wal-fixtures';

const small = { segmentSize: 4096, preallocate: false };

async function writeLog(dir: string, count: number, options = small, valueBytes = 150): Promise<LogEntry[]> {
  const wal = await SegmentedWal.open(dir, options);
  const entries: LogEntry[] = [];
  for (let i = 1; i <= count; i++) {
    const entry = makeEntry(i % 2 ? 'left' : 'right', i, valueBytes);
    entries.push(entry);
    await wal.append(entry);
  }
  await wal.close();
  return entries;
}

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.wal'))
    .sort();
}

function copyDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of segmentFiles(from)) copyFileSync(join(from, name), join(to, name));
}

/** Offsets of the frames of a segment with no footer, read from their length fields. */
function frameOffsets(path: string): number[] {
  const buf = readFileSync(path);
  const offsets: number[] = [];
  for (let at = HEADER_SIZE; at + 8 <= buf.length;) {
    const length = buf.readUInt32LE(at);
    if (length === 0) break;
    offsets.push(at);
    at += 8 + length;
  }
  return offsets;
}

describe('WAL recovery on open', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('cuts a torn last frame at every byte, keeps everything before it, and goes on from the next LSN', async () => {
    const entries = await writeLog(dir, 30, { segmentSize: 1024, preallocate: false }, 8);
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(1);
    const active = join(dir, files[files.length - 1] as string);
    const offsets = frameOffsets(active);
    const lastFrame = offsets[offsets.length - 1] as number;
    const size = statSync(active).size;
    const firstInActive = Number((files[files.length - 1] as string).slice(0, 20));
    for (let cut = lastFrame + 1; cut < size; cut++) {
      const copy = tempDir();
      try {
        copyDir(dir, copy);
        truncateSync(join(copy, files[files.length - 1] as string), cut);
        const wal = await SegmentedWal.open(copy, { segmentSize: 1024, preallocate: false });
        const lastGood = firstInActive + offsets.length - 2;
        expect(wal.stats().lastLsn).toBe(lastGood);
        const { recovery } = wal.stats();
        expect(recovery.truncatedAt).toEqual({ file: files[files.length - 1], offset: lastFrame });
        // Counted up to the last non-zero byte: a cut inside zero bytes of the frame counts less.
        expect(recovery.truncatedBytes).toBeGreaterThan(0);
        expect(recovery.truncatedBytes).toBeLessThanOrEqual(cut - lastFrame);
        const records = await readAll(wal);
        expect(records.map((record) => fingerprint(record.entry))).toEqual(
          entries.slice(0, lastGood).map(fingerprint),
        );
        expect(await wal.append(makeEntry('left', 1001))).toBe(lastGood + 1);
        await wal.close();
        const reopened = await SegmentedWal.open(copy, small);
        expect(reopened.stats().lastLsn).toBe(lastGood + 1);
        expect(reopened.stats().recovery.truncatedBytes).toBe(0);
        await reopened.close();
      } finally {
        removeDir(copy);
      }
    }
  });

  it('detects a flipped bit anywhere: an error, or a reported cut of the last frame, never altered data', async () => {
    const entries = await writeLog(dir, 24);
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(2);
    let errors = 0;
    let cuts = 0;
    for (const name of files) {
      const size = statSync(join(dir, name)).size;
      // Every byte of the header and of the last 150 bytes (footer, trailer, or the newest frame), every 23rd elsewhere.
      const positions = [...Array(size).keys()].filter(
        (at) => at < HEADER_SIZE || at >= size - 150 || at % 23 === 0,
      );
      for (const byte of positions) {
        const copy = tempDir();
        try {
          copyDir(dir, copy);
          const path = join(copy, name);
          const buf = readFileSync(path);
          buf[byte] = (buf[byte] as number) ^ (1 << (byte % 8));
          writeFileSync(path, buf);
          let records: string[] | undefined;
          let truncated = 0;
          try {
            const wal = await SegmentedWal.open(copy, small);
            truncated = wal.stats().recovery.truncatedBytes;
            try {
              records = (await readAll(wal)).map((record) => fingerprint(record.entry));
            } finally {
              await wal.close();
            }
          } catch (error) {
            expect(error).toBeInstanceOf(TidemarkError);
            expect((error as TidemarkError).message).toMatch(/\.wal/);
            errors++;
            continue;
          }
          // Opened and read: only a cut of the newest frame may explain it, and what remains is untouched.
          expect(truncated).toBeGreaterThan(0);
          expect(name).toBe(files[files.length - 1]);
          expect(records).toEqual(entries.slice(0, records.length).map(fingerprint));
          expect(records.length).toBeLessThan(entries.length);
          cuts++;
        } finally {
          removeDir(copy);
        }
      }
    }
    expect(errors).toBeGreaterThan(0);
    expect(cuts).toBeGreaterThan(0);
  });

  it('refuses a bad frame followed by good frames with CHECKSUM_MISMATCH naming file and offset', async () => {
    await writeLog(dir, 3, { segmentSize: 1 << 20, preallocate: false });
    const name = segmentFiles(dir)[0] as string;
    const path = join(dir, name);
    const offsets = frameOffsets(path);
    const buf = readFileSync(path);
    buf[(offsets[1] as number) + 12] ^= 0xff; // inside the second of three frames
    writeFileSync(path, buf);
    await expect(SegmentedWal.open(dir)).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      details: { file: name, offset: offsets[1] },
    });
  });

  it('finishes a seal that a crash interrupted after the footer was synced', async () => {
    const wal = await SegmentedWal.open(dir, { segmentSize: 1 << 20, preallocate: false });
    for (let i = 1; i <= 5; i++) await wal.append(makeEntry('c', i));
    const sealed = await wal.seal();
    await wal.close();
    const path = join(dir, sealed!.name);
    const size = statSync(path).size;
    // A crash after the footer was synced, before the file was cut and before the next segment existed.
    truncateSync(path, size + 4096);
    removeDir(join(dir, segmentFiles(dir)[1] as string));
    const reopened = await SegmentedWal.open(dir, { segmentSize: 1 << 20, preallocate: false });
    expect(statSync(path).size).toBe(size);
    expect(reopened.segments()[0]).toMatchObject({ sealed: true, firstLsn: 1, lastLsn: 5 });
    expect(await reopened.append(makeEntry('c', 6))).toBe(6);
    await reopened.close();
  });

  it('remembers sequences across a restart even when the newest segment is empty', async () => {
    const wal = await SegmentedWal.open(dir, small);
    await wal.append(makeEntry('c', 5));
    await wal.seal();
    await wal.close();
    const reopened = await SegmentedWal.open(dir, small);
    await expect(reopened.append(makeEntry('c', 5))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await reopened.append(makeEntry('c', 6))).toBe(2);
    await reopened.close();
  });

  it('refuses a segment of an unknown format version with a clear message', async () => {
    await writeLog(dir, 2);
    const name = segmentFiles(dir)[0] as string;
    const buf = readFileSync(join(dir, name));
    buf.writeUInt16LE(9, 8);
    // Keep the header CRC right so the version check is what speaks.
    const { crc32c } = jest.requireActual('@node-rs/crc32') as { crc32c: (b: Buffer) => number };
    buf.writeUInt32LE(crc32c(buf.subarray(0, 36)), 36);
    writeFileSync(join(dir, name), buf);
    await expect(SegmentedWal.open(dir, small)).rejects.toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      message: expect.stringMatching(/version 9 is not supported/),
    });
  });

  it('refuses a gap between segments', async () => {
    await writeLog(dir, 40);
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(3);
    removeDir(join(dir, files[1] as string));
    await expect(SegmentedWal.open(dir, small)).rejects.toMatchObject({ code: 'INVALID_STATE_DATA' });
  });
});
