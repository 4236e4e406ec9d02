/**
 * Every format a user reads or writes (docs/formats.md) has a reader in the library face: each round-trips
 * what its writer wrote and refuses a bad magic or an unknown version with a TidemarkError that says so.
 * Everything comes from src/index.ts.
 */
import { crc32c } from '@node-rs/crc32';
import { mkdtempSync, promises as fs, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  SegmentedWal,
  TidemarkError,
  clear,
  decodeBatch,
  decodeManifest,
  decodeSegment,
  del,
  encodeBatch,
  encodeManifest,
  put,
  readNdjson,
  readRecoveryStream,
  readStateFile,
  splitPack,
  toBinaryStream,
  toNdjson,
  writeStateFile,
  type ComponentSnapshot,
  type LogEntry,
  type LogRecord,
  type Manifest,
  type RecoveryResult,
} from '../../../src/index';

function entry(sequence: number): LogEntry {
  return {
    componentId: `join_${sequence % 2}`,
    sequence,
    timestamp: 1_700_000_000_000_000 + sequence,
    changes: [put(`k${sequence % 7}`, Buffer.alloc(40, sequence)), del(`k${(sequence + 3) % 7}`)].concat(
      sequence % 25 === 0 ? [clear()] : [],
    ),
    metadata: { source: 'formats-test' },
  };
}

/** What a reader hands back, comparable with what was written. */
function plainEntry(e: LogEntry | LogRecord['entry']) {
  return {
    componentId: e.componentId,
    sequence: e.sequence,
    timestamp: e.timestamp,
    metadata: { ...(e.metadata ?? {}) },
    changes: e.changes.map((c) =>
      c.op === 'clear'
        ? 'clear'
        : c.op === 'delete'
          ? `delete ${Buffer.from(c.key).toString('hex')}`
          : `put ${Buffer.from(c.key).toString('hex')}=${Buffer.from(c.value).toString('hex')}`,
    ),
  };
}

function refusal(run: () => unknown): TidemarkError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TidemarkError);
    return error as TidemarkError;
  }
  throw new Error('expected a refusal');
}

async function refusalOf(run: () => Promise<unknown>): Promise<TidemarkError> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TidemarkError);
  return error as TidemarkError;
}

let dir: string;
beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'tidemark-formats-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the WAL binary batch (TMB1)', () => {
  it('round-trips and refuses another magic', () => {
    const batch = Array.from({ length: 30 }, (_, i) => entry(i + 1));
    const bytes = encodeBatch(batch);
    expect(bytes.toString('latin1', 0, 4)).toBe('TMB1');
    expect(bytes.readUInt32LE(4)).toBe(30);
    expect(decodeBatch(bytes).map(plainEntry)).toEqual(batch.map(plainEntry));

    const next = Buffer.from(bytes);
    next.write('TMB2', 0, 'latin1'); // the version is part of the magic
    expect(refusal(() => decodeBatch(next))).toMatchObject({
      code: 'DESERIALIZATION_ERROR',
      message: expect.stringContaining('"TMB1"'),
    });
    expect(refusal(() => decodeBatch(bytes.subarray(0, bytes.length - 1))).code).toBe(
      'DESERIALIZATION_ERROR',
    );
  });
});

describe('WAL segment files and packs', () => {
  let sealed: { path: string; firstLsn: number; entryCount: number }[];
  let active: string;
  const written = Array.from({ length: 120 }, (_, i) => entry(i + 1));

  beforeAll(async () => {
    const wal = await SegmentedWal.open(path.join(dir, 'wal'), { segmentSize: 2048, preallocate: false });
    for (const e of written) await wal.append(e);
    sealed = wal.segments().filter((s) => s.sealed);
    active = wal.segments().find((s) => !s.sealed)!.path;
    await wal.close();
  });

  async function recordsOf(bytes: Buffer, name: string): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    for await (const record of decodeSegment(bytes, name).records()) out.push(record);
    return out;
  }

  it('decodeSegment reads a sealed segment: header, footer and every entry', async () => {
    const segment = sealed[1]!;
    const bytes = readFileSync(segment.path);
    const decoded = decodeSegment(bytes, segment.path);
    expect(decoded.header).toMatchObject({ version: 1, firstLsn: segment.firstLsn });
    expect(decoded.footer).toMatchObject({
      entryCount: segment.entryCount,
      firstLsn: segment.firstLsn,
      lastLsn: segment.firstLsn + segment.entryCount - 1,
    });
    const records = await recordsOf(bytes, segment.path);
    expect(records.map((r) => r.lsn)).toEqual(
      Array.from({ length: segment.entryCount }, (_, i) => segment.firstLsn + i),
    );
    expect(records.map((r) => plainEntry(r.entry))).toEqual(
      written.slice(segment.firstLsn - 1, segment.firstLsn - 1 + segment.entryCount).map(plainEntry),
    );
  });

  it('decodeSegment reads the active segment up to its last frame (no footer)', async () => {
    const bytes = readFileSync(active);
    expect(decodeSegment(bytes, active).footer).toBeUndefined();
    const records = await recordsOf(bytes, active);
    expect(records[records.length - 1]?.lsn).toBe(written.length);
  });

  it('decodeSegment refuses a bad magic, an unknown version and a body that does not match its footer', async () => {
    const bytes = readFileSync(sealed[0]!.path);
    const magic = Buffer.from(bytes);
    magic[0] = 0x58;
    expect(refusal(() => decodeSegment(magic, 'x.wal'))).toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      message: expect.stringContaining('not a Tidemark WAL segment'),
    });
    expect(refusal(() => decodeSegment(withVersion(bytes, 2), 'x.wal'))).toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      message: expect.stringContaining('version 2'),
    });
    const flipped = Buffer.from(bytes);
    flipped[60] ^= 0x01; // inside the first frame
    expect(refusal(() => decodeSegment(flipped, 'x.wal')).code).toBe('CHECKSUM_MISMATCH');
  });

  it('splitPack splits concatenated segment files back into the same files', async () => {
    const files = sealed.map((s) => readFileSync(s.path));
    const pack = Buffer.concat(files);
    const parts = splitPack(pack, 'tidemark/wal/node-1/1-999.seg');
    expect(parts.map((p) => p.firstLsn)).toEqual(sealed.map((s) => s.firstLsn));
    expect(parts.map((p) => Buffer.compare(p.bytes, files[parts.indexOf(p)]!))).toEqual(files.map(() => 0));
    const lsns = (await Promise.all(parts.map((p) => recordsOf(p.bytes, 'part')))).flat().map((r) => r.lsn);
    expect(lsns).toEqual(Array.from({ length: lsns.length }, (_, i) => i + 1));
  });

  it('splitPack refuses a pack of something else, another version, or a cut pack', () => {
    const pack = Buffer.concat(sealed.slice(0, 2).map((s) => readFileSync(s.path)));
    const magic = Buffer.from(pack);
    magic.write('NOTAWAL!', 0, 'latin1');
    expect(refusal(() => splitPack(magic, 'k')).message).toContain('not a Tidemark WAL segment');
    expect(refusal(() => splitPack(withVersion(pack, 9), 'k')).code).toBe('UNSUPPORTED_VERSION');
    expect(refusal(() => splitPack(pack.subarray(0, pack.length - 4), 'k')).code).toBe('INVALID_STATE_DATA');
  });
});

/** A copy with the segment header's format version changed and its header CRC made to match. */
function withVersion(bytes: Buffer, version: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt16LE(version, 8);
  copy.writeUInt32LE(crc32c(copy.subarray(0, 36)), 36);
  return copy;
}

const component: ComponentSnapshot = {
  componentId: 'window_processor_1',
  records: Array.from({ length: 500 }, (_, i) => ({
    key: Buffer.from(`user:${String(i).padStart(4, '0')}`),
    value: Buffer.from(JSON.stringify({ count: i })),
    lsn: 1000 + i,
    timestamp: 1_700_000_000_000_000 + i,
  })),
};

describe('the recovered-state file (TMST)', () => {
  it('round-trips and refuses a bad magic, an unknown version or a bad checksum', async () => {
    const file = path.join(dir, 'window_processor_1.state');
    const handle = await fs.open(file, 'w');
    await writeStateFile(handle, component);
    await handle.close();
    const bytes = readFileSync(file);
    expect(bytes.toString('latin1', 0, 4)).toBe('TMST');

    const back = readStateFile(bytes, file);
    expect(back.componentId).toBe(component.componentId);
    expect(back.records.map((r) => [r.key.toString(), r.value.toString(), r.lsn, r.timestamp])).toEqual(
      component.records.map((r) => [r.key.toString(), r.value.toString(), r.lsn, r.timestamp]),
    );

    const magic = Buffer.from(bytes);
    magic.write('TMRS', 0, 'latin1');
    expect(refusal(() => readStateFile(magic, file)).code).toBe('DESERIALIZATION_ERROR');
    const version = Buffer.from(bytes);
    version[4] = 2;
    expect(refusal(() => readStateFile(version, file))).toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      message: expect.stringContaining('version 2'),
    });
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 10] ^= 0x10;
    expect(refusal(() => readStateFile(flipped, file)).code).toBe('CHECKSUM_MISMATCH');
  });
});

describe('the recovery streams (TMRS and NDJSON)', () => {
  const result: RecoveryResult = {
    target: { lsn: 1499 },
    lsn: 1499,
    state: { lsn: 1499, components: new Map([[component.componentId, component]]) },
    components: [
      {
        componentId: component.componentId,
        keyCount: 500,
        bytes: 12_345,
        fromCheckpoint: 3,
        walEntriesApplied: 9,
      },
      { componentId: 'broken_2', error: { code: 'CHECKSUM_MISMATCH', message: 'block 9f… is corrupt' } },
    ],
    stats: {
      durationMs: 12,
      blocksRead: 4,
      bytesRead: 40_000,
      logicalBytes: 12_345,
      walEntries: 9,
      verificationLevel: 'standard',
    },
  };
  const records = component.records.map((r) => `${r.key.toString()}=${r.value.toString()}`);

  async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  }

  it('readRecoveryStream reads TMRS from a Buffer and from chunks of any size', async () => {
    const parts: Buffer[] = [];
    for await (const part of toBinaryStream(result)) parts.push(part);
    const bytes = Buffer.concat(parts);
    expect(bytes.toString('latin1', 0, 4)).toBe('TMRS');
    for (const source of [bytes, chunks(bytes, 7), chunks(bytes, 64 * 1024)]) {
      const back = await readRecoveryStream(source);
      expect(back.complete).toBe(true);
      expect(back.header).toEqual({
        target: result.target,
        lsn: 1499,
        components: [component.componentId, 'broken_2'],
      });
      expect(
        back.state.get(component.componentId)?.map((r) => `${r.key.toString()}=${r.value.toString()}`),
      ).toEqual(records);
      expect(back.outcomes).toEqual(result.components);
      expect(back.stats).toEqual(result.stats);
    }
  });

  it('readRecoveryStream refuses a bad magic, an unknown version, NDJSON and text chunks', async () => {
    const bytes = Buffer.concat(await collect(toBinaryStream(result)));
    const magic = Buffer.from(bytes);
    magic.write('TMST', 0, 'latin1');
    expect(await refusalOf(() => readRecoveryStream(magic))).toMatchObject({ code: 'DESERIALIZATION_ERROR' });
    const version = Buffer.from(bytes);
    version[4] = 2;
    expect(await refusalOf(() => readRecoveryStream(version))).toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      message: expect.stringContaining('version 2'),
    });
    const ndjson = Buffer.from((await collect(toNdjson(result))).join(''));
    expect(await refusalOf(() => readRecoveryStream(ndjson))).toMatchObject({
      code: 'DESERIALIZATION_ERROR',
      message: expect.stringContaining('readNdjson'),
    });
    async function* text() {
      yield 'TMRS';
    }
    expect((await refusalOf(() => readRecoveryStream(text() as AsyncIterable<never>))).code).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('readNdjson reads the NDJSON form and refuses another version', async () => {
    const text = (await collect(toNdjson(result))).join('');
    const back = readNdjson(text);
    expect(back.complete).toBe(true);
    expect(back.outcomes).toEqual(result.components);
    const lines = text.split('\n');
    lines[0] = lines[0]!.replace('"version":1', '"version":2');
    expect(refusal(() => readNdjson(lines.join('\n'))).message).toContain('version 2');
  });
});

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe('the checkpoint manifest (JSON)', () => {
  const manifest: Manifest = {
    formatVersion: 2,
    checkpointId: 7,
    kind: 'full',
    parentId: null,
    baseId: 7,
    depth: 0,
    fromLsn: 0,
    lsn: 1499,
    createdAt: '2026-12-04T10:00:00.000Z',
    timestamp: 1_700_000_000_000_499,
    fencingToken: 3,
    nodeId: 'node-1',
    codec: 'zstd',
    components: {
      window_processor_1: {
        blocks: [
          {
            hash: 'ab'.repeat(32),
            recordCount: 500,
            rawBytes: 20_000,
            storedBytes: 6_000,
            firstKey: Buffer.from('window:0001').toString('base64'),
            lastKey: Buffer.from('window:0500').toString('base64'),
          },
        ],
        keyCount: 500,
        bytes: 12_345,
        digest: 'cd'.repeat(32),
      },
    },
    stats: {
      logicalBytes: 20_000,
      storedBytes: 6_000,
      newBytes: 6_000,
      newBlocks: 1,
      reusedBlocks: 0,
      durationMs: 4.5,
    },
  };

  it('round-trips and refuses what is not a manifest, or another format version', () => {
    const bytes = encodeManifest(manifest);
    expect(decodeManifest(bytes, { expectedId: 7 })).toEqual(manifest);
    expect(refusal(() => decodeManifest(Buffer.from('TMST not json'))).code).toBe('DESERIALIZATION_ERROR');
    const next = Buffer.from(bytes.toString('utf8').replace('"formatVersion":2', '"formatVersion":3'));
    expect(refusal(() => decodeManifest(next))).toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      message: expect.stringContaining('format version 3'),
    });
    // Format 1 (no key ranges) stays readable.
    const v1 = structuredClone(manifest);
    v1.formatVersion = 1;
    for (const b of v1.components.window_processor_1!.blocks) {
      delete b.firstKey;
      delete b.lastKey;
    }
    expect(decodeManifest(encodeManifest(v1))).toEqual(v1);
    expect(refusal(() => decodeManifest(bytes, { expectedId: 8 })).code).toBe('INVALID_STATE_DATA');
  });
});
