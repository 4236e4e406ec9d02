import fc from 'fast-check';
import { TidemarkError } from '../../../src/lib/errors';
import { decodeBatch, encodeBatch, type Change, type LogEntry } from '../../../src/wal';
import { decodeEntries } from '../../../src/wal/entry-decoder';
import {
  checkFrame,
  measureEntriesFrame,
  readEntriesHeader,
  sealFrame,
  writeEntriesFrame,
} from '../../../src/wal/frame';
import { decoded, makeEntry } from '../../support/wal/wal-fixtures';

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({
    op: fc.constant('put' as const),
    key: fc.uint8Array({ maxLength: 40 }),
    value: fc.uint8Array({ maxLength: 300 }),
  }),
  fc.record({ op: fc.constant('delete' as const), key: fc.string() }),
  fc.constant({ op: 'clear' as const }),
);
const entry: fc.Arbitrary<LogEntry> = fc.record({
  componentId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/),
  sequence: fc.nat(),
  timestamp: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  changes: fc.array(change, { maxLength: 8 }),
  metadata: fc.dictionary(
    fc.string({ minLength: 1 }).filter((k) => k !== '__proto__'),
    fc.string(),
    { maxKeys: 4 },
  ),
});

function frameOf(entries: LogEntry[], lsn: number): Buffer {
  // The codec carries any timestamp; which ones a WAL accepts is tested in timestamps.test.ts.
  const { frameBytes } = measureEntriesFrame(entries, { maxEntryBytes: 1 << 24, validateTimestamps: false });
  const buf = Buffer.alloc(frameBytes);
  writeEntriesFrame(buf, 0, frameBytes, entries);
  sealFrame(buf, 0, frameBytes, lsn);
  return buf;
}

describe('entry and frame codec', () => {
  it('round-trips any valid batch through a frame', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 2 ** 50 }),
        (entries, lsn) => {
          const frame = frameOf(entries, lsn);
          const check = checkFrame(frame, 0, frame.length);
          expect(check.status).toBe('ok');
          if (check.status !== 'ok') return;
          const header = readEntriesHeader(frame, check.payloadStart);
          expect(header).toMatchObject({ firstLsn: lsn, count: entries.length, compressed: false });
          expect(decodeEntries(frame, header.bodyStart, check.end, header.count)).toEqual(
            entries.map(decoded),
          );
        },
      ),
    );
  });

  it('decodes the component ids of a frame whose entries name a few ids again and again (more than it caches)', () => {
    // Shared prefixes, equal lengths, ids differing in the first or the last byte, one of two bytes.
    const ids = ['window_1', 'window_2', 'window_3', 'xindow_1', 'w1', 'w2', 'aggregator_1', 'aggregator_10'];
    const pool = [...ids, ...ids.map((id) => `${id}_b`), 'a'];
    const named = fc.record({
      componentId: fc.constantFrom(...pool),
      sequence: fc.nat(),
      timestamp: fc.nat(),
      changes: fc.constant([]),
      metadata: fc.constant({}),
    });
    fc.assert(
      fc.property(fc.array(named, { minLength: 1, maxLength: 80 }), (entries) => {
        const frame = frameOf(entries, 1);
        const check = checkFrame(frame, 0, frame.length);
        if (check.status !== 'ok') throw new Error('the frame does not check');
        const header = readEntriesHeader(frame, check.payloadStart);
        const decoded = decodeEntries(frame, header.bodyStart, check.end, header.count);
        expect(decoded.map((e) => e.componentId)).toEqual(entries.map((e) => e.componentId));
      }),
      { numRuns: 300 },
    );
  });

  it('detects a flipped bit anywhere in a frame', () => {
    const frame = frameOf([makeEntry('a', 1), makeEntry('b', 2)], 10);
    for (let byte = 0; byte < frame.length; byte++) {
      for (const bit of [0, 3, 7]) {
        const copy = Buffer.from(frame);
        copy[byte] = (copy[byte] as number) ^ (1 << bit);
        expect(checkFrame(copy, 0, copy.length).status).not.toBe('ok');
      }
    }
  });

  it('reports a frame cut short as not ok', () => {
    const frame = frameOf([makeEntry('a', 1)], 1);
    for (let cut = 1; cut < frame.length; cut++) {
      expect(checkFrame(frame.subarray(0, cut), 0, cut).status).toBe('bad');
    }
  });

  it('round-trips the binary batch form', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 10 }), (entries) => {
        expect(decodeBatch(encodeBatch(entries))).toEqual(entries.map(decoded));
      }),
    );
  });

  it('refuses a buffer that is not a batch, and a truncated batch', () => {
    expect(() => decodeBatch(Buffer.from('hello world'))).toThrow(/binary batch/);
    const batch = encodeBatch([makeEntry('a', 1)]);
    try {
      decodeBatch(batch.subarray(0, batch.length - 3));
      throw new Error('expected a failure');
    } catch (error) {
      expect(TidemarkError.is(error, 'DESERIALIZATION_ERROR')).toBe(true);
    }
  });
});
