import fc from 'fast-check';
import { StateMaterializer } from '../../../src/checkpoint/state/state-materializer';
import type { ComponentDelta, Snapshot } from '../../../src/checkpoint/state/state-types';
import type { DecodedChange, EntryFrame, LogRecord } from '../../../src/wal';
import { measureEntry, writeEntry } from '../../../src/wal/entry-codec';

/**
 * `applyFrame` (entries parsed in place, straight into the slot tables) against `apply` of the same
 * entries decoded into records: same state, same deltas, whatever the frames' cuts and overlaps.
 */

const KEYS = ['', 'a', 'ab', 'b', 'k\u0000', 'k\u00ff', 'window:1:000017'].map((s) =>
  Buffer.from(s, 'latin1'),
);
const changeArb: fc.Arbitrary<DecodedChange> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('put' as const),
      key: fc.constantFrom(...KEYS),
      value: fc.uint8Array({ maxLength: 80 }).map((v) => Buffer.from(v)),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);
const logArb: fc.Arbitrary<LogRecord[]> = fc
  .array(
    fc.record({
      componentId: fc.constantFrom('a', 'b', 'window_processor_1'),
      timestamp: fc.nat({ max: 1_000_000 }),
      changes: fc.array(changeArb, { maxLength: 4 }),
      metadata: fc.option(fc.dictionary(fc.constantFrom('trace', 'source'), fc.string({ maxLength: 5 })), {
        nil: undefined,
      }),
    }),
    { minLength: 1, maxLength: 80 },
  )
  .map((entries) =>
    entries.map(({ metadata, ...entry }, i) => ({
      lsn: i + 1,
      entry: { ...entry, sequence: i, metadata: metadata ?? {} },
    })),
  );

/** The records `[from, to)` of `log` as one encoded frame, inside a larger buffer (as a WAL chunk holds it). */
function frameOf(log: readonly LogRecord[], from: number, to: number): EntryFrame {
  const entries = log.slice(from, to).map((r) => r.entry);
  const checks = { maxEntryBytes: 1 << 20, validateTimestamps: false };
  const size = entries.reduce((sum, entry, i) => sum + measureEntry(entry, i, checks), 0);
  const bytes = Buffer.alloc(size + 7, 0xab);
  let at = 3;
  for (const entry of entries) at = writeEntry(bytes, entry, at);
  return { bytes, start: 3, end: at, count: entries.length, firstLsn: log[from]!.lsn };
}

function plain(snapshot: Snapshot): unknown {
  return [...snapshot.components].map(([id, c]) => [
    id,
    c.records.map((r) => [r.key.toString('hex'), r.value.toString('hex'), r.lsn, r.timestamp]),
  ]);
}

function plainDelta(components: Map<string, ComponentDelta>): unknown {
  return [...components].map(([id, c]) => [
    id,
    c.clearedAt,
    c.records.map((r) => [r.op, r.key.toString('hex'), r.op === 'put' ? r.value.toString('hex') : '', r.lsn]),
  ]);
}

describe('StateMaterializer.applyFrame', () => {
  it('gives the state and deltas that applying the decoded records gives, frames overlapping what was applied', () => {
    fc.assert(
      fc.property(logArb, fc.array(fc.nat(30), { maxLength: 8 }), fc.nat(6), (log, cuts, back) => {
        const byRecord = new StateMaterializer();
        byRecord.applyAll(log);
        const byFrame = new StateMaterializer();
        let newest = 0;
        let from = 0;
        for (const cut of [...cuts, log.length]) {
          const to = Math.min(log.length, from + 1 + cut);
          // Some frames begin before what was applied (a catch-up re-reading a frame): those entries are passed over.
          const start = Math.max(0, from - (back % 3));
          newest = Math.max(newest, byFrame.applyFrame(frameOf(log, start, to)));
          expect(byFrame.lsn).toBe(to);
          from = to;
          if (from === log.length) break;
        }
        expect(plain(byFrame.snapshot())).toEqual(plain(byRecord.snapshot()));
        expect(newest).toBe(Math.max(...log.map((r) => r.entry.timestamp)));
        const since = Math.min(back, log.length);
        expect(plainDelta(byFrame.deltaSince(since).components)).toEqual(
          plainDelta(byRecord.deltaSince(since).components),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('a frame applied already changes nothing and returns 0', () => {
    const log: LogRecord[] = [
      { lsn: 1, entry: { componentId: 'a', sequence: 1, timestamp: 5, changes: [], metadata: {} } },
    ];
    const m = new StateMaterializer();
    expect(m.applyFrame(frameOf(log, 0, 1))).toBe(5);
    expect(m.applyFrame(frameOf(log, 0, 1))).toBe(0);
    expect(m.lsn).toBe(1);
  });

  it('a malformed frame is refused whole: nothing of it is applied', () => {
    const log: LogRecord[] = [1, 2, 3].map((lsn) => ({
      lsn,
      entry: {
        componentId: 'a',
        sequence: lsn,
        timestamp: lsn,
        changes: [{ op: 'put', key: Buffer.from(`k${lsn}`), value: Buffer.from('v') }],
        metadata: {},
      },
    }));
    const frame = frameOf(log, 0, 3);
    const m = new StateMaterializer();
    // The last entry's metadata count cut off: the first two entries parse, the frame does not.
    expect(() => m.applyFrame({ ...frame, end: frame.end - 1 })).toThrow(/malformed entry/);
    expect(m.lsn).toBe(0);
    expect(m.snapshot().components.size).toBe(0);
  });
});

describe('parseEntries', () => {
  it('refuses a range that does not lie in its buffer, or a count that is not a whole number', () => {
    const log: LogRecord[] = [
      { lsn: 1, entry: { componentId: 'a', sequence: 1, timestamp: 5, changes: [], metadata: { m: 'x' } } },
    ];
    const frame = frameOf(log, 0, 1);
    const m = new StateMaterializer();
    for (const bad of [
      { ...frame, end: frame.bytes.length + 1 },
      { ...frame, start: frame.end + 1 },
      { ...frame, start: -1 },
      { ...frame, count: 0.5 },
    ]) {
      expect(() => m.applyFrame(bad)).toThrow(/malformed entry/);
    }
    expect(m.lsn).toBe(0);
  });
});
