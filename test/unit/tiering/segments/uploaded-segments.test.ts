import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { AppendJournal } from '../../../../src/lib/fs/append-journal';
import { walSegmentKey } from '../../../../src/storage';
import { packLayout } from '../../../../src/wal/archive/segment-pack';
import {
  UPLOADED_SEGMENTS_FILE,
  UPLOADED_SEGMENTS_JOURNAL,
  UploadedSegments,
  type UploadedPack,
} from '../../../../src/wal/archive/uploaded-segments';
import { NODE_ID, PREFIX, removeDir, segmentInfo, tempDir } from '../../../support/tiering/tiering-fixtures';

/** A pack of segments of 10 LSNs each, from `firstLsn`. */
function pack(firstLsn: number, segments: number): UploadedPack {
  const infos = Array.from({ length: segments }, (_, i) =>
    segmentInfo(firstLsn + 10 * i, firstLsn + 10 * i + 9, 1000),
  );
  const lastLsn = firstLsn + 10 * segments - 1;
  return {
    key: walSegmentKey(PREFIX, NODE_ID, firstLsn, lastLsn),
    firstLsn,
    lastLsn,
    size: 1000 * segments,
    crc32c: 12345,
    uploadedAt: 1_700_000_000_000,
    segments: packLayout(infos),
  };
}

const range = (firstLsn: number, lastLsn: number) => ({ firstLsn, lastLsn });

describe('UploadedSegments', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('tidemark-uploaded-')));
  afterEach(() => removeDir(dir));

  it('starts empty, without a file', async () => {
    const index = await UploadedSegments.open(dir);
    expect(index.list()).toEqual([]);
    expect(index.retiredThroughLsn).toBe(0);
    expect(index.highestUploadedLsn).toBe(0);
    expect(index.isUploaded(range(1, 10))).toBe(false);
    expect(index.file).toBe(join(dir, UPLOADED_SEGMENTS_FILE));
  });

  it('records packs durably: a reopened record knows them', async () => {
    const index = await UploadedSegments.open(dir);
    const b = pack(21, 1);
    const a = pack(1, 2);
    await index.record(b);
    await index.record(a);
    expect(index.list()).toEqual([a, b]); // oldest LSNs first
    expect(index.highestUploadedLsn).toBe(30);
    for (const segment of [range(1, 10), range(11, 20), range(21, 30)]) {
      expect(index.isUploaded(segment)).toBe(true);
    }
    expect(index.isUploaded(range(31, 40))).toBe(false);

    await expect(fs.stat(join(dir, UPLOADED_SEGMENTS_JOURNAL))).resolves.toBeDefined();
    const reopened = await UploadedSegments.open(dir);
    expect(reopened.list()).toEqual([a, b]);
    expect(reopened.isUploaded(range(11, 20))).toBe(true);
    expect(reopened.isUploaded(range(31, 40))).toBe(false);
  });

  it('treats recording the same key again as a no-op', async () => {
    const index = await UploadedSegments.open(dir);
    const a = pack(1, 2);
    await index.record(a);
    const before = await fs.readFile(join(dir, UPLOADED_SEGMENTS_JOURNAL), 'utf8');
    await index.record({ ...a, uploadedAt: a.uploadedAt + 5000 });
    await Promise.all([index.record(a), index.record(a)]);
    expect(index.list()).toEqual([a]);
    expect(await fs.readFile(join(dir, UPLOADED_SEGMENTS_JOURNAL), 'utf8')).toBe(before);
    expect((await UploadedSegments.open(dir)).list()).toEqual([a]);
  });

  it('hands out copies: changing a listed pack changes nothing recorded', async () => {
    const index = await UploadedSegments.open(dir);
    await index.record(pack(1, 1));
    const listed = index.list();
    listed[0]!.segments[0]!.firstLsn = 999;
    listed.pop();
    expect(index.list()).toEqual([pack(1, 1)]);
  });

  it('retire() forgets the packs and counts everything through the LSN as uploaded, durably', async () => {
    const index = await UploadedSegments.open(dir);
    const a = pack(1, 2);
    const b = pack(21, 2);
    await index.record(a);
    await index.record(b);
    await index.retire([a.key], 20);
    expect(index.list()).toEqual([b]);
    expect(index.retiredThroughLsn).toBe(20);
    // Segments at or below the retired LSN need no upload, whether recorded or not.
    expect(index.isUploaded(range(1, 10))).toBe(true);
    expect(index.isUploaded(range(15, 20))).toBe(true);
    expect(index.isUploaded(range(21, 30))).toBe(true); // still recorded in b
    expect(index.isUploaded(range(41, 50))).toBe(false);
    expect(index.isUploaded(range(19, 41))).toBe(false);

    // The retired LSN never goes down.
    await index.retire([], 5);
    expect(index.retiredThroughLsn).toBe(20);

    const reopened = await UploadedSegments.open(dir);
    expect(reopened.list()).toEqual([b]);
    expect(reopened.retiredThroughLsn).toBe(20);
    expect(reopened.isUploaded(range(1, 10))).toBe(true);
  });

  it('refuses a corrupt file with DESERIALIZATION_ERROR naming the file and the way out', async () => {
    const file = join(dir, UPLOADED_SEGMENTS_FILE);
    await fs.writeFile(file, '{"formatVersion": 1, "packs": [');
    const error = await UploadedSegments.open(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DESERIALIZATION_ERROR', details: { file } });
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/corrupt.*move it aside/);
  });

  it('refuses a file of another format version or shape, naming the field', async () => {
    const file = join(dir, UPLOADED_SEGMENTS_FILE);
    await fs.writeFile(file, JSON.stringify({ formatVersion: 2, retiredThroughLsn: 0, packs: [] }));
    await expect(UploadedSegments.open(dir)).rejects.toMatchObject({
      code: 'DESERIALIZATION_ERROR',
      message: expect.stringContaining('formatVersion'),
    });
    const badPack = { ...pack(1, 1), segments: [] };
    await fs.writeFile(file, JSON.stringify({ formatVersion: 1, retiredThroughLsn: 0, packs: [badPack] }));
    await expect(UploadedSegments.open(dir)).rejects.toMatchObject({
      code: 'DESERIALIZATION_ERROR',
      message: expect.stringContaining('packs.0.segments'),
    });
  });

  it('forgets a pack whose record could not be saved', async () => {
    const index = await UploadedSegments.open(dir);
    // A directory where the journal goes: the append fails (for root too).
    await fs.mkdir(join(dir, UPLOADED_SEGMENTS_JOURNAL));
    await expect(index.record(pack(1, 1))).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(index.list()).toEqual([]);
    expect(index.isUploaded(range(1, 10))).toBe(false);
  });

  it('says a segment is uploaded only once its record is durable (the WAL deletes on that word)', async () => {
    const uploads = await UploadedSegments.open(dir);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const append = AppendJournal.prototype.append;
    const spy = jest.spyOn(AppendJournal.prototype, 'append').mockImplementation(async function (
      this: AppendJournal,
      line: string,
    ) {
      await gate;
      return append.call(this, line);
    });
    try {
      const recording = uploads.record(pack(1, 2));
      await new Promise((resolve) => setImmediate(resolve));
      expect(uploads.isUploaded(range(1, 10))).toBe(false); // the journal line is not durable yet
      release();
      await recording;
      expect(uploads.isUploaded(range(1, 10))).toBe(true);
    } finally {
      spy.mockRestore();
      await uploads.close();
    }
  });

  it('keeps the record in memory only when opened without a directory', async () => {
    const index = await UploadedSegments.open(undefined);
    await index.record(pack(1, 1));
    expect(index.isUploaded(range(1, 10))).toBe(true);
    expect(index.file).toBeUndefined();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('appends one journal line per change, and folds the journal into the snapshot once it outgrows it', async () => {
    const index = await UploadedSegments.open(dir);
    for (let i = 0; i < 64; i++) await index.record(pack(1 + i * 10, 1));
    const lines = (await fs.readFile(join(dir, UPLOADED_SEGMENTS_JOURNAL), 'utf8')).split('\n');
    expect(lines.length - 1).toBe(64); // one line each, no snapshot rewrite yet
    await expect(fs.stat(join(dir, UPLOADED_SEGMENTS_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
    await index.record(pack(641, 1));
    await index.retire([pack(1, 1).key], 10); // 66 lines for 64 packs: folded into the snapshot
    expect((await fs.stat(join(dir, UPLOADED_SEGMENTS_FILE))).size).toBeGreaterThan(0);
    expect(await fs.readFile(join(dir, UPLOADED_SEGMENTS_JOURNAL), 'utf8')).toBe('');
    await index.record(pack(651, 1));
    const reopened = await UploadedSegments.open(dir);
    expect(reopened.list()).toEqual(index.list());
    expect(reopened.retiredThroughLsn).toBe(10);
  });

  it('ignores a torn last journal line (an append never acknowledged), refuses a bad one before it', async () => {
    const index = await UploadedSegments.open(dir);
    await index.record(pack(1, 1));
    await index.close();
    const journal = join(dir, UPLOADED_SEGMENTS_JOURNAL);
    await fs.appendFile(journal, '{"op":"record","pack":{"key":"tide');
    const reopened = await UploadedSegments.open(dir);
    expect(reopened.list()).toEqual([pack(1, 1)]);
    await reopened.record(pack(11, 1)); // appends after the cut tail
    expect((await UploadedSegments.open(dir)).list()).toEqual([pack(1, 1), pack(11, 1)]);
    await fs.writeFile(journal, 'not json\n' + (await fs.readFile(journal, 'utf8')));
    await expect(UploadedSegments.open(dir)).rejects.toMatchObject({ code: 'DESERIALIZATION_ERROR' });
  });
});
