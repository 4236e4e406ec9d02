import { readFileSync } from 'node:fs';
import { MemoryStore, walSegmentKey } from '../../../../src/storage';
import { SegmentedWal, type LogRecord, type SegmentInfo } from '../../../../src/wal';
import { FRAME_HEADER_SIZE, HEADER_SIZE } from '../../../../src/wal/format';
import { readSegmentBuffer } from '../../../../src/wal/segment-buffer-reader';
import { readAll, removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import {
  Engines,
  NODE_ID,
  PREFIX,
  replayState,
  simpleEntries,
  stateOf,
} from '../../../support/recovery/recovery-fixtures';

/**
 * Where the log comes from when local segments are gone: packs of segment files in the store, which may
 * overlap (a partial pack shipped again larger) — and must never be trusted to be what their names say.
 */
describe('RecoveryEngine: the WAL from uploaded packs', () => {
  const engines = new Engines();
  const entries = simpleEntries(1, 400);
  let dir: string;
  let wal: SegmentedWal;
  let segments: SegmentInfo[];
  let records: LogRecord[];

  beforeAll(async () => {
    dir = tempDir('tidemark-recovery-wal-');
    // Compressed frames too: payloads of 300 bytes and more are zstd frames.
    wal = await SegmentedWal.open(dir, {
      segmentSize: 1024,
      preallocate: false,
      enableCompression: true,
      compressionThreshold: 300,
    });
    for (let i = 0; i < entries.length; i += 9) await wal.appendBatch(entries.slice(i, i + 9));
    await wal.seal();
    segments = wal.segments().filter((s) => s.sealed);
    records = await readAll(wal);
    expect(segments.length).toBeGreaterThanOrEqual(7);
  });

  afterEach(() => engines.closeAll());

  afterAll(async () => {
    await wal.close();
    removeDir(dir);
  });

  /** Puts segments [from, to] of the log as one pack, named by `name` (default: their real range). */
  async function putPack(
    store: MemoryStore,
    from: number,
    to: number,
    name?: { first: number; last: number },
  ): Promise<string> {
    const parts = segments.slice(from, to + 1);
    const first = name?.first ?? parts[0]!.firstLsn;
    const last = name?.last ?? parts[parts.length - 1]!.lastLsn;
    const key = walSegmentKey(PREFIX, NODE_ID, first, last);
    await store.put(key, Buffer.concat(parts.map((s) => readFileSync(s.path))));
    return key;
  }

  it('covers the log from overlapping packs, each LSN once, from the pack reaching furthest', async () => {
    const store = new MemoryStore();
    await putPack(store, 0, 1); // a partial pack …
    const b = await putPack(store, 0, 3); // … shipped again larger
    const c = await putPack(store, 2, 5); // overlaps b in the middle
    const d = await putPack(store, 5, segments.length - 1);
    const engine = engines.make({ store, prefix: PREFIX, nodeId: NODE_ID });
    const last = entries.length;
    const plan = await engine.findRecoveryPath({ lsn: last });
    expect(plan.wal?.remote.map((o) => o.key)).toEqual([b, c, d]);
    for (const lsn of [1, segments[1]!.lastLsn + 1, segments[3]!.lastLsn, segments[3]!.lastLsn + 1, last]) {
      const result = await engine.recoverTo({ lsn });
      expect(result.lsn).toBe(lsn);
      expect(result.stats.walEntries).toBe(lsn);
      expect(stateOf(result.state)).toEqual(replayState(entries.slice(0, lsn)));
    }
  });

  it('a pack shorter than its name says is INVALID_STATE_DATA, not a silent gap', async () => {
    const store = new MemoryStore();
    // Claims segments 0-3 but holds 0-2; the next pack starts at segment 4.
    const short = await putPack(store, 0, 2, { first: 1, last: segments[3]!.lastLsn });
    await putPack(store, 4, segments.length - 1);
    const engine = engines.make({ store, prefix: PREFIX, nodeId: NODE_ID });
    const error = await engine.recoverTo({ lsn: entries.length }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'INVALID_STATE_DATA',
      details: { fromLsn: segments[3]!.firstLsn, toLsn: segments[3]!.lastLsn, key: short },
    });
    // Up to where the short pack really reaches, it recovers.
    const lsn = segments[2]!.lastLsn;
    expect(stateOf((await engine.recoverTo({ lsn })).state)).toEqual(replayState(entries.slice(0, lsn)));
  });

  it('readSegmentBuffer yields exactly the range asked for, as the local reader does', async () => {
    const segment = segments[2]!;
    const bytes = readFileSync(segment.path);
    const read = async (from: number, to: number) => {
      const out: LogRecord[] = [];
      for await (const record of readSegmentBuffer(bytes, segment.name, from, to)) out.push(record);
      return out;
    };
    const whole = await read(0, Number.MAX_SAFE_INTEGER);
    expect(whole.map((r) => r.lsn)).toEqual(
      records.filter((r) => r.lsn >= segment.firstLsn && r.lsn <= segment.lastLsn).map((r) => r.lsn),
    );
    expect(whole.map((r) => r.entry.componentId)).toEqual(
      entries.slice(segment.firstLsn - 1, segment.lastLsn).map((e) => e.componentId),
    );
    const from = segment.firstLsn + 3;
    const to = segment.lastLsn - 2;
    expect((await read(from, to)).map((r) => r.lsn)).toEqual(
      Array.from({ length: to - from + 1 }, (_, i) => from + i),
    );
    expect(await read(segment.lastLsn + 1, segment.lastLsn + 5)).toEqual([]);

    const damaged = Buffer.from(bytes);
    damaged[HEADER_SIZE + FRAME_HEADER_SIZE + 30]! ^= 0x04;
    const failed = await (async () => {
      for await (const record of readSegmentBuffer(damaged, 'damaged', 0, segment.lastLsn)) void record;
    })().catch((e: unknown) => e);
    expect(failed).toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      details: { file: 'damaged', offset: HEADER_SIZE },
    });
  });
});
