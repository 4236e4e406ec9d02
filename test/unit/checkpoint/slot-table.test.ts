import fc from 'fast-check';
import { runFromRecords } from '../../../src/checkpoint/run/sorted-run';
import { SlotTable } from '../../../src/checkpoint/state/slot-table';

type Op =
  | { kind: 'add'; key: Uint8Array }
  | { kind: 'set'; pick: number; value: Uint8Array }
  | { kind: 'dead'; pick: number }
  | { kind: 'release'; pick: number }
  | { kind: 'reset' };

const bytesArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 100, max: 300_000 }).map((n) => new Uint8Array(n).fill(n % 251)),
  },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 15, arbitrary: fc.record({ kind: fc.constant('add' as const), key: bytesArb }) },
  {
    weight: 30,
    arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: bytesArb }),
  },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('dead' as const), pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

interface ModelSlot {
  key: Buffer;
  value: Buffer | undefined;
  lsn: number;
  timestamp: number;
}

describe('SlotTable', () => {
  it('holds what a model holds through adds, overwrites, deletes, releases, resets and compactions; runs copy it; views never change', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        // A small threshold: the arena compacts often under these ops.
        playAgainstModel(new SlotTable(64 * 1024), new Map(), ops);
      }),
      { numRuns: 150 },
    );
  });

  it.each([
    ['adopted', true],
    ['copied', false],
  ])(
    'runs loaded (%s): slots in order holding their records, the same model afterwards, the runs never written to',
    (_, adopt) => {
      const recordsArb = fc
        .uniqueArray(fc.uint8Array({ maxLength: 6 }), {
          maxLength: 40,
          selector: (key) => Buffer.from(key).toString('hex'),
        })
        .chain((keys) =>
          fc.tuple(
            fc.constant(keys.map((key) => Buffer.from(key)).sort(Buffer.compare)),
            fc.array(bytesArb, { minLength: keys.length, maxLength: keys.length }),
          ),
        );
      const sliceArb = recordsArb.chain(([keys, values]) =>
        fc.tuple(
          fc.constant({ keys, values }),
          fc.nat({ max: keys.length }).chain((a) => fc.tuple(fc.constant(a), fc.nat({ max: keys.length }))),
        ),
      );
      fc.assert(
        fc.property(
          fc.array(sliceArb, { minLength: 1, maxLength: 3 }),
          fc.array(opArb, { maxLength: 80 }),
          (slices, ops) => {
            const table = new SlotTable(64 * 1024);
            const model = new Map<number, ModelSlot>();
            const sources: [bytes: Buffer, copy: Buffer][] = [];
            for (const [{ keys, values }, [a, b]] of slices) {
              const [start, end] = a <= b ? [a, b] : [b, a];
              const run = runFromRecords(
                keys.map((key, i) => ({ key, value: values[i]!, lsn: i + 1, timestamp: 7 * i })),
              );
              sources.push(
                [run.keyBytes, Buffer.from(run.keyBytes)],
                [run.valueBytes, Buffer.from(run.valueBytes)],
              );
              const first = table.loadRun(run, start, end, adopt ? table.adoptValues(run) : undefined);
              for (let i = start; i < end; i++) {
                model.set(first + i - start, {
                  key: keys[i]!,
                  value: Buffer.from(values[i]!),
                  lsn: i + 1,
                  timestamp: 7 * i,
                });
              }
            }
            expect([...model.keys()]).toEqual(model.size === 0 ? [] : [...Array(model.size).keys()]);
            playAgainstModel(table, model, ops);
            for (const [bytes, copy] of sources) expect(bytes.equals(copy)).toBe(true);
          },
        ),
        { numRuns: 150 },
      );
    },
  );

  it('adopted values: once most of the run is overwritten, a compaction moves the rest out and lets the run go', () => {
    const table = new SlotTable(64 * 1024);
    const records = Array.from({ length: 100 }, (_, i) => ({
      key: Buffer.from(`key-${String(i).padStart(3, '0')}`),
      value: Buffer.alloc(2_000, i),
      lsn: 1,
      timestamp: 1,
    }));
    const run = runFromRecords(records);
    const first = table.loadRun(run, 0, run.count, table.adoptValues(run));
    // The keys were copied: writing over the run's key bytes changes no key.
    run.keyBytes.fill(0x7a);
    expect(table.key(first + 5).toString()).toBe('key-005');
    // Adopted: the run's value bytes are the table's.
    run.valueBytes[0] = 0xee;
    expect(table.value(first)[0]).toBe(0xee);
    // Overwrite 60 of the 100 values: past half of the adopted buffer is garbage, the column compacts.
    for (let i = 40; i < 100; i++) table.setValue(first + i, Buffer.alloc(10, 1), 2, 2);
    run.valueBytes.fill(0x55);
    // The values that stayed were moved out of the run: writing over it changes none.
    expect(table.value(first + 1).equals(Buffer.alloc(2_000, 1))).toBe(true);
    expect(table.value(first + 39).equals(Buffer.alloc(2_000, 39))).toBe(true);
  });

  it('copied loads: a long stretch from the middle of a run (one copy) and a short one (piece by piece)', () => {
    const table = new SlotTable();
    const records = Array.from({ length: 100 }, (_, i) => ({
      key: Buffer.from(`key-${String(i).padStart(3, '0')}`),
      value: Buffer.from(`value-${i}-${'v'.repeat(i % 7)}`),
      lsn: i + 1,
      timestamp: 10 * i,
    }));
    const run = runFromRecords(records);
    const long = table.loadRun(run, 10, 90, undefined);
    const short = table.loadRun(run, 95, 99, undefined);
    run.keyBytes.fill(0);
    run.valueBytes.fill(0);
    const loaded = [
      ...Array.from({ length: 80 }, (_, i) => [long + i, 10 + i] as const),
      ...Array.from({ length: 4 }, (_, i) => [short + i, 95 + i] as const),
    ];
    for (const [slot, i] of loaded) {
      expect([table.key(slot).toString(), table.value(slot).toString(), table.lsn(slot)]).toEqual([
        records[i]!.key.toString(),
        records[i]!.value.toString(),
        i + 1,
      ]);
    }
  });

  it('loadRun refuses a table with free slots (its slots could not be contiguous)', () => {
    const table = new SlotTable();
    table.add(Buffer.from('a'));
    table.release(0);
    const run = runFromRecords([{ key: Buffer.from('b'), value: Buffer.from('1'), lsn: 1, timestamp: 1 }]);
    expect(() => table.loadRun(run, 0, 1, undefined)).toThrow(/free slots/);
  });
});

/** Plays `ops` on `table` and `model` alike, checking after each that the table holds what the model does. */
function playAgainstModel(table: SlotTable, model: Map<number, ModelSlot>, ops: readonly Op[]): void {
  const views: [view: Buffer, copy: Buffer][] = [];
  let lsn = 1000;
  const pick = (n: number) => [...model.keys()][n % model.size]!;
  for (const op of ops) {
    lsn++;
    if (op.kind === 'add') {
      const slot = table.add(op.key);
      expect(model.has(slot)).toBe(false);
      model.set(slot, { key: Buffer.from(op.key), value: undefined, lsn: -1, timestamp: -1 });
    } else if (op.kind === 'reset') {
      table.reset();
      model.clear();
    } else if (model.size > 0) {
      const slot = pick(op.pick);
      const entry = model.get(slot)!;
      if (op.kind === 'set') {
        table.setValue(slot, op.value, lsn, lsn * 10);
        Object.assign(entry, { value: Buffer.from(op.value), lsn, timestamp: lsn * 10 });
      } else if (op.kind === 'dead') {
        table.setDead(slot, lsn, lsn * 10);
        Object.assign(entry, { value: undefined, lsn, timestamp: lsn * 10 });
      } else {
        table.release(slot);
        model.delete(slot);
      }
    }
    for (const [slot, entry] of model) {
      const key = table.key(slot);
      expect(key.equals(entry.key)).toBe(true);
      expect(table.keyBytes(slot)).toBe(entry.key.length);
      expect(table.isDead(slot)).toBe(entry.value === undefined);
      if (entry.value !== undefined) {
        const value = table.value(slot);
        expect(value.equals(entry.value)).toBe(true);
        expect([table.lsn(slot), table.timestamp(slot)]).toEqual([entry.lsn, entry.timestamp]);
        if (views.length < 200) views.push([value, Buffer.from(value)]);
      }
      if (views.length < 200) views.push([key, Buffer.from(key)]);
    }
    // A run of the live slots in the order they were added: neighbours in the arena copied as one.
    const live = [...model].filter(([, entry]) => entry.value !== undefined);
    const run = table.copyRun(Uint32Array.from(live.map(([slot]) => slot)), live.length);
    live.forEach(([, entry], i) => {
      expect(run.keyBytes.subarray(run.keyStarts[i], run.keyStarts[i + 1]).equals(entry.key)).toBe(true);
      const value = run.valueBytes.subarray(run.valueStarts[i], run.valueStarts[i + 1]);
      expect(value.equals(entry.value!)).toBe(true);
      expect([run.lsns[i], run.timestamps[i]]).toEqual([entry.lsn, entry.timestamp]);
    });
    expect(run.keyStarts[live.length]).toBe(run.keyBytes.length);
  }
  for (const [view, copy] of views) expect(view.equals(copy)).toBe(true);
}
