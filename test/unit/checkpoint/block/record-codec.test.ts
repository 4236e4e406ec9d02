import fc from 'fast-check';
import {
  asStateRecords,
  countRecords,
  decodeRecords,
  encodeRecords,
  measureRecords,
  recordSize,
} from '../../../../src/checkpoint/block/record-codec';
import type { StateRecord } from '../../../../src/checkpoint/state/state-types';
import { deltaRecordArb, plain } from '../../../support/checkpoint/block/block-fixtures';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
};

describe('block record codec', () => {
  it('round-trips any records; sizes add up', () => {
    fc.assert(
      fc.property(fc.array(deltaRecordArb, { maxLength: 30 }), (records) => {
        const buf = encodeRecords(records);
        expect(buf.length).toBe(records.reduce((n, r) => n + recordSize(r), 0));
        expect(buf.length).toBe(measureRecords(records));
        expect(plain(decodeRecords(buf))).toEqual(plain(records));
        expect(plain(decodeRecords(buf, records.length))).toEqual(plain(records));
        expect(countRecords(buf)).toBe(records.length);
      }),
    );
  });

  it('encodes StateRecords as puts, and a slice of them', () => {
    const records: StateRecord[] = [
      { key: Buffer.from('a'), value: Buffer.from('1'), lsn: 1, timestamp: 2 },
      {
        key: Buffer.from('b'),
        value: Buffer.alloc(200, 7),
        lsn: 2 ** 40,
        timestamp: Number.MAX_SAFE_INTEGER,
      },
      { key: Buffer.from('c'), value: Buffer.alloc(0), lsn: 3, timestamp: 4 },
    ];
    const decoded = decodeRecords(encodeRecords(records, 1, 3));
    expect(plain(asStateRecords(decoded))).toEqual(plain(records.slice(1)));
    // op byte, 1-byte key length, key, 2-byte value length (200), value, lsn, timestamp
    expect(recordSize(records[1]!)).toBe(1 + 1 + 1 + 2 + 200 + 16);
  });

  it('decodes to views of the buffer, not copies', () => {
    const buf = encodeRecords([{ key: Buffer.from('k'), value: Buffer.from('v'), lsn: 1, timestamp: 1 }]);
    const [r] = decodeRecords(buf);
    expect(r!.key.buffer).toBe(buf.buffer);
    // The views are Buffers in every respect.
    const key = r!.key;
    expect(Buffer.isBuffer(key)).toBe(true);
    expect(key).toBeInstanceOf(Buffer);
    expect(key.toString()).toBe('k');
    expect(key.equals(Buffer.from('k'))).toBe(true);
    expect(Buffer.compare(key, Buffer.from('j'))).toBe(1);
    expect(key.toString('latin1')).toBe('k');
    expect(Buffer.isBuffer(key.subarray(0, 1))).toBe(true);
    expect(Buffer.concat([key, (r as { value: Buffer }).value]).toString()).toBe('kv');
    expect(key.byteOffset - buf.byteOffset).toBe(2);
  });

  it('refuses malformed input with DESERIALIZATION_ERROR, never a RangeError', () => {
    const buf = encodeRecords([
      { op: 'put', key: Buffer.from('key'), value: Buffer.from('value'), lsn: 5, timestamp: 6 },
      { op: 'delete', key: Buffer.from('gone'), lsn: 7, timestamp: 8 },
    ]);
    const firstEnds = 1 + 1 + 3 + 1 + 5 + 16;
    for (let cut = 1; cut < buf.length; cut++) {
      if (cut === firstEnds) expect(decodeRecords(buf.subarray(0, cut))).toHaveLength(1);
      else expect(code(() => decodeRecords(buf.subarray(0, cut)))).toBe('DESERIALIZATION_ERROR');
    }
    expect(code(() => decodeRecords(Buffer.from([3])))).toBe('DESERIALIZATION_ERROR');
    expect(code(() => decodeRecords(Buffer.from([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])))).toBe(
      'DESERIALIZATION_ERROR',
    );
    expect(code(() => decodeRecords(buf, 1))).toBe('DESERIALIZATION_ERROR');
    expect(code(() => decodeRecords(buf, 3))).toBe('DESERIALIZATION_ERROR');
    const big = Buffer.from(buf);
    big.writeUInt32LE(0xffffffff, 1 + 1 + 3 + 1 + 5 + 4); // high half of the first lsn: beyond 2^53
    expect(code(() => decodeRecords(big))).toBe('DESERIALIZATION_ERROR');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const result = code(() => decodeRecords(Buffer.from(bytes)));
        expect([undefined, 'DESERIALIZATION_ERROR']).toContain(result);
      }),
    );
  });

  it('refuses records it cannot encode with SERIALIZATION_ERROR', () => {
    const bad = [{ key: Buffer.from('k'), value: Buffer.from('v'), lsn: -1, timestamp: 0 }];
    expect(code(() => encodeRecords(bad))).toBe('SERIALIZATION_ERROR');
    expect(
      code(() =>
        encodeRecords([{ key: 'k' as unknown as Buffer, value: Buffer.alloc(1), lsn: 1, timestamp: 1 }]),
      ),
    ).toBe('SERIALIZATION_ERROR');
  });

  it('asStateRecords refuses a delete', () => {
    expect(code(() => asStateRecords([{ op: 'delete', key: Buffer.from('k'), lsn: 1, timestamp: 1 }]))).toBe(
      'INVALID_STATE_DATA',
    );
  });
});
