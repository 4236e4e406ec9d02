import fc from 'fast-check';
import type { ComponentSnapshot, StateRecord } from '../../../../src/checkpoint/state/state-types';
import { WalOverlay } from '../../../../src/recovery/wal-overlay';
import type { DecodedChange, LogRecord } from '../../../../src/wal/entry';

/**
 * The overlay is how recovery replays the log after a checkpoint: its result must equal a plain replay of
 * the same records onto the checkpoint's state — deletes of keys only the checkpoint holds, clears, and
 * several changes to one key in one entry included.
 */

const b = (s: string) => Buffer.from(s);

function record(lsn: number, changes: DecodedChange[]): LogRecord {
  return { lsn, entry: { componentId: 'c', sequence: lsn, timestamp: lsn * 10, changes, metadata: {} } };
}

function base(pairs: [string, string][]): ComponentSnapshot {
  const records: StateRecord[] = pairs
    .sort(([a], [c]) => Buffer.compare(b(a), b(c)))
    .map(([k, v]) => ({ key: b(k), value: b(v), lsn: 1, timestamp: 10 }));
  return { componentId: 'c', records };
}

function replay(start: ComponentSnapshot, records: LogRecord[]): Map<string, string> {
  const state = new Map(start.records.map((r) => [r.key.toString(), r.value.toString()]));
  for (const r of records) {
    for (const change of r.entry.changes) {
      if (change.op === 'clear') state.clear();
      else if (change.op === 'put') state.set(change.key.toString(), change.value.toString());
      else state.delete(change.key.toString());
    }
  }
  return state;
}

function asMap(component: ComponentSnapshot): Map<string, string> {
  return new Map(component.records.map((r) => [r.key.toString(), r.value.toString()]));
}

describe('WalOverlay: the log after a checkpoint laid over its state', () => {
  it('deletes keys only the checkpoint holds, clears, and keeps the last change of an entry', () => {
    const start = base([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
    const records = [
      record(2, [
        { op: 'delete', key: b('b') },
        { op: 'put', key: b('d'), value: b('4') },
      ]),
      record(3, [
        { op: 'put', key: b('a'), value: b('x') },
        { op: 'put', key: b('a'), value: b('y') },
      ]),
    ];
    const overlay = new WalOverlay();
    for (const r of records) overlay.apply(r);
    const result = overlay.applyTo('c', start);
    expect([...asMap(result)]).toEqual([
      ['a', 'y'],
      ['c', '3'],
      ['d', '4'],
    ]);
    expect(result.records.find((r) => r.key.equals(b('a')))).toMatchObject({ lsn: 3, timestamp: 30 });

    const cleared = new WalOverlay();
    cleared.apply(record(2, [{ op: 'put', key: b('e'), value: b('5') }]));
    cleared.apply(record(3, [{ op: 'clear' }, { op: 'put', key: b('f'), value: b('6') }]));
    cleared.apply(
      record(4, [
        { op: 'delete', key: b('f') },
        { op: 'put', key: b('g'), value: b('7') },
      ]),
    );
    expect([...asMap(cleared.applyTo('c', start))]).toEqual([['g', '7']]);
  });

  it('copies keys and values: the log reader may reuse its buffers', () => {
    const key = b('k');
    const value = b('v');
    const overlay = new WalOverlay();
    overlay.apply(record(2, [{ op: 'put', key, value }]));
    key.fill(0);
    value.fill(0);
    expect([...asMap(overlay.applyTo('c', undefined))]).toEqual([['k', 'v']]);
  });

  it('a component the log does not touch is the checkpoint state, unchanged', () => {
    const start = base([['a', '1']]);
    expect(new WalOverlay().applyTo('c', start)).toBe(start);
    expect(new WalOverlay().applyTo('c', undefined)).toEqual({ componentId: 'c', records: [] });
  });

  it('equals a plain replay for random checkpoints and logs', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    const change: fc.Arbitrary<DecodedChange> = fc.oneof(
      {
        weight: 5,
        arbitrary: fc
          .tuple(key, fc.string())
          .map(([k, v]) => ({ op: 'put', key: b(k), value: b(v) }) as const),
      },
      { weight: 3, arbitrary: key.map((k) => ({ op: 'delete', key: b(k) }) as const) },
      { weight: 1, arbitrary: fc.constant({ op: 'clear' } as const) },
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(key, fc.string()), { selector: ([k]) => k }),
        fc.array(fc.array(change, { minLength: 1, maxLength: 4 }), { maxLength: 12 }),
        (pairs, entries) => {
          const start = base(pairs);
          const records = entries.map((changes, i) => record(i + 2, changes));
          const overlay = new WalOverlay();
          for (const r of records) overlay.apply(r);
          const result = overlay.applyTo('c', start);
          expect(asMap(result)).toEqual(replay(start, records));
          for (let i = 1; i < result.records.length; i++) {
            expect(Buffer.compare(result.records[i - 1]!.key, result.records[i]!.key)).toBeLessThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
