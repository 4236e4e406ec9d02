import fc from 'fast-check';
import type { DeltaRecord, StateRecord } from '../../../../src/checkpoint/state/state-types';

export const deltaRecordArb: fc.Arbitrary<DeltaRecord> = fc.oneof(
  fc.record({
    op: fc.constant('put' as const),
    key: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    value: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    lsn: fc.maxSafeNat(),
    timestamp: fc.maxSafeNat(),
  }),
  fc.record({
    op: fc.constant('delete' as const),
    key: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    lsn: fc.maxSafeNat(),
    timestamp: fc.maxSafeNat(),
  }),
);

/** Delta records as a block holds them: sorted by key bytes, keys unique. */
export const sortedDeltaRecordsArb = (maxLength: number): fc.Arbitrary<DeltaRecord[]> =>
  fc
    .uniqueArray(deltaRecordArb, { maxLength, selector: (r) => r.key.toString('hex') })
    .map((records) => records.sort((a, b) => Buffer.compare(a.key, b.key)));

/** Window/aggregation-shaped state: sorted keys `window:<w>:user:<u>`, compressible values. */
export function windowState(count: number, seed = 1, valueBytes = 96): StateRecord[] {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
  const records: StateRecord[] = [];
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(
      `window:${String(Math.floor(i / 500)).padStart(6, '0')}:user:${String(i % 500).padStart(8, '0')}`,
    );
    records.push({
      key,
      value: aggregate(next, valueBytes),
      lsn: 1000 + i,
      timestamp: 1_700_000_000_000_000 + i * 10,
    });
  }
  return records;
}

export function aggregate(next: () => number, valueBytes: number): Buffer {
  const body = `{"count":${Math.floor(next() * 1000)},"sum":${(next() * 1e6).toFixed(2)},"max":${Math.floor(next() * 500)}}`;
  return Buffer.from(body.padEnd(valueBytes, ' '));
}

/** A plain form for comparing records (Buffers as hex). */
export function plain(records: readonly (DeltaRecord | StateRecord)[]): unknown[] {
  return records.map((r) =>
    'op' in r && r.op === 'delete'
      ? ['delete', r.key.toString('hex'), r.lsn, r.timestamp]
      : ['put', r.key.toString('hex'), (r as StateRecord).value.toString('hex'), r.lsn, r.timestamp],
  );
}
