import type { StateRecord } from '../../../../src/checkpoint/state/state-types';
import type { RecoveryResult } from '../../../../src/recovery/recovery-types';

/** A recovery result built by hand: binary keys, an empty value, a large component, a failed one. */
export function sampleResult(options: { bigRecords?: number } = {}): RecoveryResult {
  const record = (key: Buffer, value: Buffer, lsn: number): StateRecord => ({
    key,
    value,
    lsn,
    timestamp: 1_700_000_000_000_000 + lsn,
  });
  const small = [
    record(Buffer.from([0]), Buffer.alloc(0), 3),
    record(Buffer.from([0, 255, 10]), Buffer.from('line\nbreak "quoted"'), 7),
    record(Buffer.from('k1'), Buffer.from([1, 2, 3, 0, 255]), 9),
  ];
  const bigCount = options.bigRecords ?? 3000;
  const big = Array.from({ length: bigCount }, (_, i) =>
    record(Buffer.from(`key-${String(i).padStart(6, '0')}`), Buffer.alloc(600, i % 251), 10 + i),
  );
  const components = new Map([
    ['window_processor_1', { componentId: 'window_processor_1', records: big }],
    ['ns:join.2', { componentId: 'ns:join.2', records: small }],
    ['.hidden', { componentId: '.hidden', records: [record(Buffer.from('a'), Buffer.from('b'), 1)] }],
    ['empty_4', { componentId: 'empty_4', records: [] }],
  ]);
  return {
    target: { lsn: 5000 },
    lsn: 5000,
    state: { lsn: 5000, components },
    components: [
      { componentId: '.hidden', keyCount: 1, bytes: 2, fromCheckpoint: 1, walEntriesApplied: 0 },
      { componentId: 'broken_5', error: { code: 'CHECKSUM_MISMATCH', message: 'block abc: checksum' } },
      { componentId: 'empty_4', keyCount: 0, bytes: 0, walEntriesApplied: 0 },
      { componentId: 'ns:join.2', keyCount: 3, bytes: 40, fromCheckpoint: 1, walEntriesApplied: 2 },
      { componentId: 'window_processor_1', keyCount: bigCount, bytes: 1, walEntriesApplied: 5 },
    ],
    stats: {
      durationMs: 12.5,
      blocksRead: 4,
      bytesRead: 1234,
      logicalBytes: 5678,
      walEntries: 7,
      verificationLevel: 'standard',
    },
  };
}

/** The state as plain comparable data: component → [base64 key, base64 value][]. */
export function plain(
  components: Iterable<[string, readonly { key: Buffer; value: Buffer }[]]>,
): Record<string, [string, string][]> {
  const out: Record<string, [string, string][]> = {};
  for (const [id, records] of components) {
    out[id] = records.map((r) => [r.key.toString('base64'), r.value.toString('base64')]);
  }
  return out;
}

export function plainResult(result: RecoveryResult): Record<string, [string, string][]> {
  return plain([...result.state.components].map(([id, c]) => [id, c.records]));
}
