import fc from 'fast-check';
import { decodeRunBody, encodeRunBody } from '../../../../src/checkpoint/block/run-body-codec';
import { runFromRecords, runToRecords, type SortedRun } from '../../../../src/checkpoint/run/sorted-run';
import type { DeltaRecord } from '../../../../src/checkpoint/state/state-types';
import { plain, sortedDeltaRecordsArb, windowState } from '../../../support/checkpoint/block/block-fixtures';

const body = (run: SortedRun, start = 0, end = run.count) => encodeRunBody(run, start, end, 0);
const roundTrip = (records: DeltaRecord[]) =>
  plain(runToRecords(decodeRunBody(body(runFromRecords(records)), records.length)));

/** The flags byte: after the count varint (one byte for these small runs). */
const flagsOf = (encoded: Buffer) => encoded[1]!;

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? `not a TidemarkError: ${String(error)}`;
  }
}

describe('block format 2: a sorted run in columns', () => {
  it('round-trips any sorted records, puts and deletes, any LSNs and timestamps up to 2^53', () => {
    fc.assert(
      fc.property(sortedDeltaRecordsArb(40), (records) => {
        expect(roundTrip(records)).toEqual(plain(records));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips any slice of a run', () => {
    fc.assert(
      fc.property(sortedDeltaRecordsArb(30), fc.nat(), fc.nat(), (records, a, b) => {
        const run = runFromRecords(records);
        const start = records.length === 0 ? 0 : a % (records.length + 1);
        const end = start + (records.length === 0 ? 0 : b % (records.length - start + 1));
        const decoded = decodeRunBody(body(run, start, end), end - start);
        expect(plain(runToRecords(decoded))).toEqual(plain(records.slice(start, end)));
      }),
    );
  });

  it('picks the LSN and timestamp column modes: constant, rising deltas, offsets', () => {
    const at = (lsns: number[], timestamps: number[]) =>
      lsns.map((lsn, i) => ({
        key: Buffer.from([i + 1]),
        value: Buffer.from('v'),
        lsn,
        timestamp: timestamps[i]!,
      }));
    const modes = (records: ReturnType<typeof at>) => {
      const flags = flagsOf(body(runFromRecords(records)));
      return [(flags >> 1) & 3, (flags >> 3) & 3];
    };
    expect(modes(at([7, 7, 7], [9, 9, 9]))).toEqual([0, 0]);
    expect(modes(at([1, 2, 3], [30, 20, 10]))).toEqual([1, 1]);
    const far = Number.MAX_SAFE_INTEGER;
    expect(modes(at([0, far, 1], [5, 5, 5]))).toEqual([2, 0]);
    expect(roundTrip(at([0, far, 1], [far, 0, far]).map((r) => ({ op: 'put' as const, ...r })))).toHaveLength(
      3,
    );
  });

  it('decodes deltas on both sides of 2^31 after zigzag (integer and double arithmetic) and up to 2^51', () => {
    const edges = [0, 1, 2 ** 30 - 1, 2 ** 30, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 51 - 1];
    const deltas = edges.flatMap((d) => [d, -d, d, -d - 1 >= -(2 ** 51) ? -d - 1 : -d]);
    let lsn = 2 ** 52;
    const records = deltas.map((delta, i) => ({
      op: 'put' as const,
      key: Buffer.from([Math.floor(i / 256), i % 256]),
      value: Buffer.from('v'),
      lsn: (lsn += delta),
      timestamp: 2 ** 53 - 1 - lsn,
    }));
    expect(flagsOf(body(runFromRecords(records))) & 0b11110).toBe(0b01010);
    expect(roundTrip(records)).toEqual(plain(records));
  });

  it('front-codes keys: window keys cost a few bytes each', () => {
    const records = windowState(1000);
    const keyBytes = records.reduce((sum, r) => sum + r.key.length, 0);
    const valueBytes = records.reduce((sum, r) => sum + r.value.length, 0);
    const encoded = body(runFromRecords(records));
    expect(encoded.length - valueBytes).toBeLessThan(keyBytes / 2);
  });

  it('refuses keys that do not rise strictly, naming the record', () => {
    const key = (s: string) => ({ key: Buffer.from(s), value: Buffer.alloc(0), lsn: 1, timestamp: 1 });
    for (const keys of [
      ['b', 'a'],
      ['a', 'a'],
      ['ab', 'a'],
      ['a', 'b', 'b'],
    ]) {
      const run = runFromRecords(keys.map(key));
      expect(() => body(run)).toThrow(expect.objectContaining({ code: 'SERIALIZATION_ERROR' }));
    }
  });

  it('refuses a wrong count, and every truncation, with DESERIALIZATION_ERROR', () => {
    const records = windowState(20);
    const encoded = body(runFromRecords(records));
    expect(codeOf(() => decodeRunBody(encoded, 19))).toBe('DESERIALIZATION_ERROR');
    for (let cut = 0; cut < encoded.length; cut++) {
      expect([cut, codeOf(() => decodeRunBody(encoded.subarray(0, cut), 20))]).toEqual([
        cut,
        'DESERIALIZATION_ERROR',
      ]);
    }
    expect(codeOf(() => decodeRunBody(Buffer.concat([encoded, Buffer.from([0])]), 20))).toBe(
      'DESERIALIZATION_ERROR',
    );
  });

  it('any changed byte decodes to sorted records or fails DESERIALIZATION_ERROR, never anything else', () => {
    fc.assert(
      fc.property(
        sortedDeltaRecordsArb(12),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (records, at, xor) => {
          const encoded = Buffer.from(body(runFromRecords(records)));
          encoded[at % encoded.length] ^= xor;
          const code = codeOf(() => {
            const decoded = runToRecords(decodeRunBody(encoded, records.length));
            for (let i = 1; i < decoded.length; i++) {
              expect(Buffer.compare(decoded[i - 1]!.key, decoded[i]!.key)).toBeLessThan(0);
            }
          });
          expect([undefined, 'DESERIALIZATION_ERROR']).toContain(code);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
