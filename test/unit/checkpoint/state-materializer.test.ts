import fc from 'fast-check';
import { TidemarkError } from '../../../src/lib/errors';
import { StateMaterializer } from '../../../src/checkpoint/state/state-materializer';
import type { Delta, Snapshot } from '../../../src/checkpoint/state/state-types';
import { wholeRun, type RunSlice } from '../../../src/checkpoint/run/run-slice';
import { SlicedComponent } from '../../../src/checkpoint/run/sliced-component';
import { packRecords } from '../../../src/checkpoint/run/run-transfer';
import { runFromRecords } from '../../../src/checkpoint/run/sorted-run';
import type { DecodedChange, LogRecord } from '../../../src/wal/entry';

// ---- a naive replay: the definition the materialiser must match ----

interface NaiveRecord {
  value: Buffer;
  lsn: number;
  timestamp: number;
}
type NaiveState = Map<string, Map<string, NaiveRecord>>;

function naiveReplay(log: readonly LogRecord[]): NaiveState {
  const state: NaiveState = new Map();
  for (const { lsn, entry } of log) {
    let component = state.get(entry.componentId);
    if (!component) state.set(entry.componentId, (component = new Map()));
    for (const change of entry.changes) {
      if (change.op === 'put')
        component.set(change.key.toString('hex'), {
          value: Buffer.from(change.value),
          lsn,
          timestamp: entry.timestamp,
        });
      else if (change.op === 'delete') component.delete(change.key.toString('hex'));
      else component.clear();
    }
  }
  return state;
}

type Plain = Record<string, [key: string, value: string, lsn: number, timestamp: number][]>;

function plainOfNaive(state: NaiveState): Plain {
  const out: Plain = {};
  for (const [id, component] of state) {
    out[id] = [...component]
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')))
      .map(([key, r]) => [key, r.value.toString('hex'), r.lsn, r.timestamp]);
  }
  return out;
}

/** The snapshot as given (its order included). */
function plainOfSnapshot(snapshot: Snapshot): Plain {
  const out: Plain = {};
  for (const [id, component] of snapshot.components) {
    expect(component.componentId).toBe(id);
    out[id] = component.records.map((r) => [
      r.key.toString('hex'),
      r.value.toString('hex'),
      r.lsn,
      r.timestamp,
    ]);
  }
  return out;
}

/** Applies a delta to a state the way a checkpoint reader does: clear → drop all; then puts and deletes. */
function applyDelta(base: Snapshot, delta: Delta): Plain {
  const state: NaiveState = new Map();
  for (const [id, component] of base.components) {
    state.set(
      id,
      new Map(
        component.records.map((r) => [
          r.key.toString('hex'),
          { value: r.value, lsn: r.lsn, timestamp: r.timestamp },
        ]),
      ),
    );
  }
  for (const [id, component] of delta.components) {
    let records = state.get(id);
    if (!records) state.set(id, (records = new Map()));
    if (component.clearedAt) records.clear();
    for (const r of component.records) {
      if (r.op === 'put')
        records.set(r.key.toString('hex'), { value: r.value, lsn: r.lsn, timestamp: r.timestamp });
      else records.delete(r.key.toString('hex'));
    }
  }
  return plainOfNaive(state);
}

function checkDeltaShape(delta: Delta, from: number): void {
  for (const component of delta.components.values()) {
    if (component.clearedAt) expect(component.clearedAt.lsn).toBeGreaterThan(from);
    component.records.forEach((r, i) => {
      expect(r.lsn).toBeGreaterThan(from);
      if (component.clearedAt) expect(r.lsn).toBeGreaterThanOrEqual(component.clearedAt.lsn);
      if (i > 0) expect(Buffer.compare(component.records[i - 1]!.key, r.key)).toBeLessThan(0);
    });
  }
}

// ---- generators ----

// Few keys, so keys collide; prefixes and the empty key test byte order; 0xff tests latin1 order.
const KEYS = ['', '00', '0000', '01', '7f', '80', 'ff', 'ff00'].map((h) => Buffer.from(h, 'hex'));
const keyArb = fc.constantFrom(...KEYS);
// Mostly short values; some of kilobytes, so that a component's arena (64 KiB at first) grows and compacts
// while snapshots, deltas and forgets are taken around it.
const valueArb = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 6 }).map((v) => Buffer.from(v)) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 24_000 }).map((n) => Buffer.alloc(n, n % 251)) },
);
const changeArb: fc.Arbitrary<DecodedChange> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('put' as const),
      key: keyArb,
      value: valueArb,
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);
const entryArb = fc.record({
  componentId: fc.constantFrom('a', 'b', 'c', 'd'),
  gap: fc.integer({ min: 1, max: 3 }),
  timestamp: fc.nat({ max: 1_000_000 }),
  changes: fc.array(changeArb, { maxLength: 4 }),
});
const logArb: fc.Arbitrary<LogRecord[]> = fc.array(entryArb, { maxLength: 60 }).map((entries) => {
  let lsn = 0;
  return entries.map(({ componentId, gap, timestamp, changes }, i) => ({
    lsn: (lsn += gap),
    entry: { componentId, sequence: i, timestamp, changes, metadata: {} },
  }));
});
/** A log, a cut index and a forget index ≤ the cut. */
const scenarioArb = logArb.chain((log) =>
  fc
    .tuple(fc.constant(log), fc.nat({ max: log.length }))
    .chain(([l, cut]) => fc.tuple(fc.constant(l), fc.constant(cut), fc.nat({ max: cut }))),
);

const lsnBefore = (log: readonly LogRecord[], index: number): number =>
  index === 0 ? 0 : log[index - 1]!.lsn;

function materialize(log: readonly LogRecord[]): StateMaterializer {
  const m = new StateMaterializer();
  m.applyAll(log);
  return m;
}

// ---- properties ----

describe('StateMaterializer properties', () => {
  it('snapshot() equals a naive replay, records sorted by key bytes, with the LSN and timestamp of the last put', () => {
    fc.assert(
      fc.property(logArb, (log) => {
        const m = materialize(log);
        const snapshot = m.snapshot();
        expect(snapshot.lsn).toBe(lsnBefore(log, log.length));
        expect(plainOfSnapshot(snapshot)).toEqual(plainOfNaive(naiveReplay(log)));
      }),
      { numRuns: 300 },
    );
  });

  it('snapshots taken along the way (and forgets) always equal the naive replay so far', () => {
    fc.assert(
      fc.property(logArb, fc.nat({ max: 5 }), (log, every) => {
        const m = new StateMaterializer();
        log.forEach((record, i) => {
          m.apply(record);
          if (i % (every + 1) === 0) {
            expect(plainOfSnapshot(m.snapshot())).toEqual(plainOfNaive(naiveReplay(log.slice(0, i + 1))));
            if (i % 3 === 0) m.forgetBefore(record.lsn);
          }
        });
        expect(plainOfSnapshot(m.snapshot())).toEqual(plainOfNaive(naiveReplay(log)));
      }),
      { numRuns: 300 },
    );
  });

  it('snapshot at c + deltaSince(c) equals the final snapshot, for every cut c, also after forgetBefore(f ≤ c)', () => {
    fc.assert(
      fc.property(scenarioArb, ([log, cut, forget]) => {
        const c = lsnBefore(log, cut);
        const atCut = materialize(log.slice(0, cut)).snapshot();
        const final = plainOfNaive(naiveReplay(log));

        const m = new StateMaterializer();
        log.forEach((record, i) => {
          if (i === forget) m.forgetBefore(lsnBefore(log, forget));
          m.apply(record);
        });
        if (forget === log.length) m.forgetBefore(lsnBefore(log, forget));
        const delta = m.deltaSince(c);
        expect(delta.fromLsn).toBe(c);
        expect(delta.toLsn).toBe(m.lsn);
        checkDeltaShape(delta, c);
        expect(applyDelta(atCut, delta)).toEqual(final);
        // Snapshots are unaffected by forgetting.
        expect(plainOfSnapshot(m.snapshot())).toEqual(final);
      }),
      { numRuns: 300 },
    );
  });

  it('fromSnapshot(snapshot at c) + the rest of the log gives the same state and the same deltas', () => {
    fc.assert(
      fc.property(scenarioArb, ([log, cut]) => {
        const atCut = materialize(log.slice(0, cut)).snapshot();
        const m = StateMaterializer.fromSnapshot(atCut);
        expect(m.lsn).toBe(atCut.lsn);
        m.applyAll(log.slice(cut));
        expect(plainOfSnapshot(m.snapshot())).toEqual(plainOfNaive(naiveReplay(log)));
        expect(applyDelta(atCut, m.deltaSince(atCut.lsn))).toEqual(plainOfNaive(naiveReplay(log)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('StateMaterializer loaded from run slices', () => {
  /** The snapshot's components cut into pieces, each a slice in the middle of a run of its own. */
  function asSlices(snapshot: Snapshot, cuts: readonly number[]): Snapshot {
    const components = new Map<string, SlicedComponent>();
    for (const [id, component] of snapshot.components) {
      const records = component.records;
      const slices: RunSlice[] = [];
      let from = 0;
      for (const cut of [
        ...cuts.map((c) => c % (records.length + 1)).sort((a, b) => a - b),
        records.length,
      ]) {
        const piece = records.slice(from, Math.max(from, cut));
        from = Math.max(from, cut);
        const pad = { key: k('pad'), value: k('padding'), lsn: 1, timestamp: 1 };
        slices.push({ run: runFromRecords([pad, ...piece, pad]), start: 1, end: 1 + piece.length });
      }
      components.set(id, new SlicedComponent(id, slices));
    }
    return { lsn: snapshot.lsn, components };
  }

  it.each([
    ['adopted', true],
    ['copied', false],
  ])(
    'fromSnapshot(state at c as slices of several runs, %s) + the rest of the log: the same state and deltas, the runs unchanged',
    (_, adopt) => {
      fc.assert(
        fc.property(scenarioArb, fc.array(fc.nat(), { maxLength: 4 }), ([log, cut], cuts) => {
          const atCut = materialize(log.slice(0, cut)).snapshot();
          const sliced = asSlices(atCut, cuts);
          const copies = [...sliced.components.values()].flatMap((c) =>
            (c as SlicedComponent).slices.map(({ run }) => [run, Buffer.from(run.valueBytes)] as const),
          );
          const m = StateMaterializer.fromSnapshot(sliced, { adopt });
          expect(m.lsn).toBe(atCut.lsn);
          expect(plainOfSnapshot(m.snapshot())).toEqual(plainOfSnapshot(atCut));
          m.applyAll(log.slice(cut));
          const final = plainOfNaive(naiveReplay(log));
          expect(applyDelta(atCut, m.deltaSince(atCut.lsn))).toEqual(final);
          m.forgetBefore(m.lsn);
          expect(plainOfSnapshot(m.snapshot())).toEqual(final);
          for (const [run, copy] of copies) expect(run.valueBytes.equals(copy)).toBe(true);
        }),
        { numRuns: 200 },
      );
    },
  );

  it('copies unless asked to adopt, and copies a run its slices barely use even then', () => {
    const records = Array.from({ length: 10 }, (_, i) => ({
      key: k(`key-${i}`),
      value: k(`value-${i}`),
      lsn: 1,
      timestamp: 1,
    }));
    const load = (end: number, adopt: boolean) => {
      const run = runFromRecords(records);
      const snapshot: Snapshot = {
        lsn: 1,
        components: new Map([['a', new SlicedComponent('a', [{ run, start: 0, end }], true)]]),
      };
      const m = StateMaterializer.fromSnapshot(snapshot, { adopt });
      // Written over after the load: only an adopted run shows it.
      run.valueBytes.fill(0x21);
      return m
        .snapshot()
        .components.get('a')!
        .records.map((r) => r.value.toString());
    };
    const original = (end: number) => records.slice(0, end).map((r) => r.value.toString());
    expect(load(10, false)).toEqual(original(10));
    expect(load(2, true)).toEqual(original(2));
    expect(load(10, true)).not.toEqual(original(10));
    // A decoded run is one buffer: offsets, LSNs, timestamps and keys beside the values. Values that are a
    // small part of it are copied, or the whole buffer would stay alive for them.
    const packed = packRecords(records);
    const m = StateMaterializer.fromSnapshot(
      { lsn: 1, components: new Map([['a', new SlicedComponent('a', [wholeRun(packed)], true)]]) },
      { adopt: true },
    );
    packed.valueBytes.fill(0x21);
    expect(
      m
        .snapshot()
        .components.get('a')!
        .records.map((r) => r.value.toString()),
    ).toEqual(original(10));
  });

  it('refuses slices out of key order (within a run unless the component was checked; across slices always, an empty slice between them too) or holding a delete', () => {
    const run = runFromRecords([
      { key: k('b'), value: k('1'), lsn: 1, timestamp: 1 },
      { key: k('a'), value: k('2'), lsn: 1, timestamp: 1 },
    ]);
    const of = (component: SlicedComponent): Snapshot => ({
      lsn: 5,
      components: new Map([['a', component]]),
    });
    const invalid = expect.objectContaining({ code: 'INVALID_STATE_DATA' });
    expect(() => StateMaterializer.fromSnapshot(of(new SlicedComponent('a', [wholeRun(run)])))).toThrow(
      invalid,
    );
    const across = [
      { run, start: 0, end: 1 },
      { run, start: 0, end: 1 },
    ];
    expect(() => StateMaterializer.fromSnapshot(of(new SlicedComponent('a', across, true)))).toThrow(invalid);
    const aroundEmpty = [
      { run, start: 0, end: 1 },
      { run, start: 1, end: 1 },
      { run, start: 0, end: 1 },
    ];
    expect(() => StateMaterializer.fromSnapshot(of(new SlicedComponent('a', aroundEmpty, true)))).toThrow(
      invalid,
    );
    const withDelete = runFromRecords([{ op: 'delete', key: k('a'), lsn: 1, timestamp: 1 }]);
    expect(() =>
      StateMaterializer.fromSnapshot(of(new SlicedComponent('a', [wholeRun(withDelete)]))),
    ).toThrow(invalid);
  });
});

// ---- edge cases ----

let nextLsn = 0;
function record(componentId: string, changes: DecodedChange[], timestamp = 100): LogRecord {
  return { lsn: ++nextLsn, entry: { componentId, sequence: nextLsn, timestamp, changes, metadata: {} } };
}
const k = (s: string): Buffer => Buffer.from(s);
const put = (key: string, value: string): DecodedChange => ({ op: 'put', key: k(key), value: k(value) });
const del = (key: string): DecodedChange => ({ op: 'delete', key: k(key) });
const clear: DecodedChange = { op: 'clear' };
const keysOf = (s: Snapshot, id: string): string[] =>
  s.components.get(id)!.records.map((r) => r.key.toString());

describe('StateMaterializer edge cases', () => {
  beforeEach(() => {
    nextLsn = 0;
  });

  it('starts empty at LSN 0', () => {
    const m = new StateMaterializer();
    expect(m.lsn).toBe(0);
    expect(m.componentIds()).toEqual([]);
    expect(m.snapshot().components.size).toBe(0);
    expect(m.deltaSince(0)).toEqual({ fromLsn: 0, toLsn: 0, components: new Map() });
  });

  it('refuses LSNs that do not rise, and changes nothing', () => {
    const m = new StateMaterializer();
    m.apply(record('a', [put('x', '1')]));
    const again = {
      lsn: 1,
      entry: { componentId: 'a', sequence: 9, timestamp: 1, changes: [put('y', '2')], metadata: {} },
    };
    expect(() => m.apply(again)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => m.apply({ ...again, lsn: 0 })).toThrow(TidemarkError);
    expect(keysOf(m.snapshot(), 'a')).toEqual(['x']);
    expect(m.lsn).toBe(1);
  });

  it('a delete of a missing key changes nothing and is not in deltas', () => {
    const m = new StateMaterializer();
    m.apply(record('a', [put('x', '1')]));
    m.apply(record('a', [del('nope')]));
    expect(keysOf(m.snapshot(), 'a')).toEqual(['x']);
    expect(m.deltaSince(1).components.get('a')).toEqual({ componentId: 'a', records: [] });
  });

  it('a deleted key leaves a tombstone in deltas, until forgotten', () => {
    const m = new StateMaterializer();
    m.apply(record('a', [put('x', '1'), put('y', '1')]));
    m.apply(record('a', [del('x')], 777));
    expect(m.deltaSince(1).components.get('a')!.records).toEqual([
      { op: 'delete', key: k('x'), lsn: 2, timestamp: 777 },
    ]);
    expect(m.deltaSince(0).components.get('a')!.records).toEqual([
      { op: 'delete', key: k('x'), lsn: 2, timestamp: 777 },
      { op: 'put', key: k('y'), value: k('1'), lsn: 1, timestamp: 100 },
    ]);
    m.forgetBefore(2);
    expect(m.forgottenBefore).toBe(2);
    expect(m.deltaSince(2).components.get('a')!.records).toEqual([]);
    expect(() => m.deltaSince(1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('clear then put: the delta carries the clear and only what came after it', () => {
    const m = new StateMaterializer();
    m.apply(record('a', [put('x', '1'), put('y', '1')]));
    m.apply(record('a', [put('z', '1'), clear, put('w', '2')], 5));
    m.apply(record('a', [put('v', '3')], 6));
    expect(keysOf(m.snapshot(), 'a')).toEqual(['v', 'w']);
    const delta = m.deltaSince(1).components.get('a')!;
    expect(delta.clearedAt).toEqual({ lsn: 2, timestamp: 5 });
    expect(delta.records.map((r) => [r.op, r.key.toString(), r.lsn])).toEqual([
      ['put', 'v', 3],
      ['put', 'w', 2],
    ]);
    expect(m.deltaSince(2).components.get('a')!.clearedAt).toBeUndefined();
  });

  it('a key deleted after a clear that follows c: carried only if it was put again after the clear', () => {
    const m = new StateMaterializer();
    m.apply(record('a', [put('x', '1'), put('y', '1')])); // 1
    m.apply(record('a', [clear])); // 2
    m.apply(record('a', [del('x'), put('y', '2')])); // 3: x is already gone
    m.apply(record('a', [del('y')])); // 4
    const delta = m.deltaSince(1).components.get('a')!;
    expect(delta.clearedAt?.lsn).toBe(2);
    expect(delta.records.map((r) => [r.op, r.key.toString(), r.lsn])).toEqual([['delete', 'y', 4]]);
  });

  it('repeated clears: the last one is the marker; forgetting drops it', () => {
    const m = new StateMaterializer();
    m.apply(record('a', [put('x', '1')]));
    m.apply(record('a', [clear]));
    m.apply(record('a', [put('y', '1')]));
    m.apply(record('a', [clear, clear]));
    expect(m.snapshot().components.get('a')!.records).toEqual([]);
    expect(m.deltaSince(0).components.get('a')).toEqual({
      componentId: 'a',
      clearedAt: { lsn: 4, timestamp: 100 },
      records: [],
    });
    expect(m.deltaSince(3).components.get('a')!.clearedAt?.lsn).toBe(4);
    m.forgetBefore(4);
    expect(m.deltaSince(4).components.get('a')).toEqual({ componentId: 'a', records: [] });
  });

  it('a clear, overwrites that make the arena mostly garbage, then a new key: compacts without the old slots', () => {
    const m = new StateMaterializer();
    let lsn = 0;
    const apply = (...changes: DecodedChange[]) =>
      m.apply({
        lsn: ++lsn,
        entry: { componentId: 'c', sequence: lsn, timestamp: lsn, changes, metadata: {} },
      });
    for (let i = 0; i < 40; i++)
      apply({ op: 'put', key: Buffer.from(`k${i}`), value: Buffer.alloc(1 << 16, i) });
    // Slot 1's last value on the arena's third page: a page the arena after the clear does not have.
    apply({ op: 'put', key: Buffer.from('k1'), value: Buffer.alloc(1 << 16, 99) });
    apply({ op: 'clear' });
    // 5 MiB, then deleted: the arena is past 4 MiB and mostly garbage, so the next append (the new key's,
    // into a slot last used before the clear) compacts.
    apply({ op: 'put', key: Buffer.from('x'), value: Buffer.alloc(5 << 20, 1) });
    apply({ op: 'delete', key: Buffer.from('x') });
    apply({ op: 'put', key: Buffer.alloc(6_000, 7), value: Buffer.from('v') });
    apply({ op: 'put', key: Buffer.from('y'), value: Buffer.from('w') });
    const records = m.snapshot().components.get('c')!.records;
    expect(records.map((r) => [r.key.toString('latin1'), r.value.toString()])).toEqual([
      [Buffer.alloc(6_000, 7).toString('latin1'), 'v'],
      ['y', 'w'],
    ]);
  });

  it('empty and unknown components: present, with no records', () => {
    const m = new StateMaterializer();
    m.apply(record('empty', []));
    m.apply(record('a', [put('x', '1')]));
    expect(m.componentIds().sort()).toEqual(['a', 'empty']);
    const empty = m.snapshot().components.get('empty')!;
    expect({ componentId: empty.componentId, records: empty.records }).toEqual({
      componentId: 'empty',
      records: [],
    });
    const some = m.snapshot(['a', 'unknown']);
    expect([...some.components.keys()]).toEqual(['a', 'unknown']);
    expect(some.components.get('unknown')!.records).toEqual([]);
    expect(m.deltaSince(0, ['unknown']).components.get('unknown')).toEqual({
      componentId: 'unknown',
      records: [],
    });
  });

  it('copies keys and values: reusing the WAL read buffer does not change the state', () => {
    const chunk = Buffer.from('keyvalue');
    const m = new StateMaterializer();
    m.apply({
      lsn: 1,
      entry: {
        componentId: 'a',
        sequence: 1,
        timestamp: 1,
        changes: [{ op: 'put', key: chunk.subarray(0, 3), value: chunk.subarray(3) }],
        metadata: {},
      },
    });
    chunk.fill(0);
    const [r] = m.snapshot().components.get('a')!.records;
    expect([r!.key.toString(), r!.value.toString()]).toEqual(['key', 'value']);
  });

  it('a snapshot taken earlier does not change when more is applied', () => {
    const m = new StateMaterializer();
    m.apply(record('a', [put('x', '1'), put('y', '1')]));
    const before = plainOfSnapshot(m.snapshot());
    m.apply(record('a', [put('x', '2'), del('y'), put('a', '0')]));
    m.apply(record('a', [clear]));
    expect(plainOfSnapshot(m.snapshot())).toEqual({ a: [] });
    expect(before).toEqual({
      a: [
        ['78', '31', 1, 100],
        ['79', '31', 1, 100],
      ],
    });
  });

  it('keeps key order across snapshots as keys come and go', () => {
    const m = new StateMaterializer();
    m.apply(record('a', [put('m', '1'), put('c', '1')]));
    expect(keysOf(m.snapshot(), 'a')).toEqual(['c', 'm']);
    m.apply(record('a', [put('a', '1'), del('c'), put('z', '1')]));
    expect(keysOf(m.snapshot(), 'a')).toEqual(['a', 'm', 'z']);
    m.forgetBefore(2);
    m.apply(record('a', [put('c', '2'), put('b', '2')]));
    expect(keysOf(m.snapshot(), 'a')).toEqual(['a', 'b', 'c', 'm', 'z']);
  });

  it('fromSnapshot refuses records out of key order', () => {
    const snapshot: Snapshot = {
      lsn: 5,
      components: new Map([
        [
          'a',
          {
            componentId: 'a',
            records: [
              { key: k('b'), value: k(''), lsn: 1, timestamp: 1 },
              { key: k('a'), value: k(''), lsn: 1, timestamp: 1 },
            ],
          },
        ],
      ]),
    };
    expect(() => StateMaterializer.fromSnapshot(snapshot)).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE_DATA' }),
    );
  });

  it('refuses deltaSince and forgetBefore outside the known LSN range', () => {
    const m = new StateMaterializer();
    m.apply(record('a', [put('x', '1')]));
    expect(() => m.deltaSince(2)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => m.forgetBefore(2)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('the change log stays bounded by the state when the same keys change over and over', () => {
    const m = new StateMaterializer();
    for (let i = 0; i < 10_000; i++) m.apply(record('a', [put(`k${i % 10}`, String(i))]));
    const delta = m.deltaSince(9_990).components.get('a')!;
    expect(delta.records).toHaveLength(10);
    expect(m.deltaSince(0).components.get('a')!.records).toHaveLength(10);
    // The point of the compaction: at most 2 entries per slot + slack.
    expect(m.changeLogLength('a')).toBeLessThanOrEqual(2 * 10 + 1024 + 1);
  });
});
