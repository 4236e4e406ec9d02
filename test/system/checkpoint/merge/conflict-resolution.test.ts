/**
 * The three rules on deltas that really conflict: two (or more) branches from one base changing the same
 * keys. Crafted cases where each rule picks differently, clears, and a property test against a naive
 * transcription of the definitions (docs/checkpoint-merge.md) over random trees of branches — for both
 * strategies and the worker path.
 */
import fc from 'fast-check';
import { CheckpointMerger, type ConflictResolution } from '../../../../src/checkpoint/merge';
import type { Delta, DeltaRecord, Snapshot, StateRecord } from '../../../../src/checkpoint/state/state-types';
import {
  DIST_WORKER,
  ensureMergeBuilt,
  del,
  delta,
  plain,
  put,
  rec,
  snapshot,
} from '../../../support/checkpoint/merge/merge-fixtures';

const RULES: ConflictResolution[] = ['last-write-wins', 'first-write-wins', 'timestamp-priority'];
const STRATEGIES = ['sequential', 'optimal', 'workers'] as const;
type Strategy = (typeof STRATEGIES)[number];

const mergers = new Map<string, CheckpointMerger>();
function merger(rule: ConflictResolution, strategy: Strategy): CheckpointMerger {
  const name = `${rule}/${strategy}`;
  let m = mergers.get(name);
  if (m === undefined) {
    m = new CheckpointMerger(
      { conflictResolution: rule, mergeStrategy: strategy === 'sequential' ? 'sequential' : 'optimal' },
      { workerFilename: DIST_WORKER, inlineThreshold: strategy === 'workers' ? 0 : undefined },
    );
    mergers.set(name, m);
  }
  return m;
}

beforeAll(() => ensureMergeBuilt());
afterAll(async () => {
  await Promise.all([...mergers.values()].map((m) => m.close()));
});

const allCombos = RULES.flatMap((rule) => STRATEGIES.map((strategy) => [rule, strategy] as const));

describe('two branches from one base', () => {
  // base at 100: k1 (lsn 90, ts 900), k2 (lsn 95, ts 5000), k3 (lsn 50, ts 10)
  const base = snapshot(100, {
    c: [rec('k1', 'base1', 90, 900), rec('k2', 'base2', 95, 5000), rec('k3', 'base3', 50, 10)],
  });
  // branch A (100, 110]: k1 ← A1 @105 ts 2000; k2 ← A2 @103 ts 1000
  const branchA = delta(100, 110, {
    c: { records: [put('k1', 'A1', 105, 2000), put('k2', 'A2', 103, 1000)] },
  });
  // branch B (100, 120]: k1 ← B1 @115 ts 1500; k2 deleted @118 ts 1200; k4 ← B4 @119 ts 1
  const branchB = delta(100, 120, {
    c: { records: [put('k1', 'B1', 115, 1500), del('k2', 118, 1200), put('k4', 'B4', 119, 1)] },
  });
  const expected: Record<ConflictResolution, [string, string, number, number][]> = {
    // highest LSN: k1 B1 (115 > 105), k2 deleted (118), k3 untouched, k4 B4
    'last-write-wins': [
      ['k1', 'B1', 115, 1500],
      ['k3', 'base3', 50, 10],
      ['k4', 'B4', 119, 1],
    ],
    // lowest delta LSN: k1 A1 (105 < 115), k2 A2 (103 < 118)
    'first-write-wins': [
      ['k1', 'A1', 105, 2000],
      ['k2', 'A2', 103, 1000],
      ['k3', 'base3', 50, 10],
      ['k4', 'B4', 119, 1],
    ],
    // highest timestamp: k1 A1 (2000 > 1500 > 900), k2 base (5000 > 1200 > 1000)
    'timestamp-priority': [
      ['k1', 'A1', 105, 2000],
      ['k2', 'base2', 95, 5000],
      ['k3', 'base3', 50, 10],
      ['k4', 'B4', 119, 1],
    ],
  };
  const hexed = (rows: [string, string, number, number][]): [string, string, number, number][] =>
    rows.map(([k, v, l, t]) => [Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex'), l, t]);

  it.each(allCombos)('%s (%s)', async (rule, strategy) => {
    for (const order of [
      [branchA, branchB],
      [branchB, branchA],
    ]) {
      const merged = await merger(rule, strategy).mergeIncrementals(base, order);
      expect(plain(merged)).toEqual({ lsn: 120, components: { c: hexed(expected[rule]) } });
    }
  });

  it.each(allCombos)(
    'equal LSNs and timestamps: %s (%s) breaks ties by argument position',
    async (rule, strategy) => {
      const a = delta(100, 110, { c: { records: [put('k1', 'A', 105, 9999)] } });
      const b = delta(100, 110, { c: { records: [put('k1', 'B', 105, 9999)] } });
      const value = async (ds: Delta[]): Promise<string> =>
        (await merger(rule, strategy).mergeIncrementals(base, ds)).components
          .get('c')
          ?.records[0].value.toString() ?? '';
      // first-write-wins keeps the earlier delta; the others the later one
      const later = rule === 'first-write-wins' ? 'A' : 'B';
      expect(await value([a, b])).toBe(later);
      expect(await value([b, a])).toBe(later === 'A' ? 'B' : 'A');
    },
  );
});

describe('clears', () => {
  const base = snapshot(100, { c: [rec('k1', 'base1', 90, 900), rec('k2', 'base2', 95, 9000)] });
  // branch A cleared the component at 102 (ts 3000), then wrote k3 @104
  const cleared = delta(100, 110, {
    c: { clearedAt: { lsn: 102, timestamp: 3000 }, records: [put('k3', 'A3', 104, 3100)] },
  });
  // branch B wrote k1 @101 ts 2000 (before the clear's LSN) and k3 @108 ts 100
  const other = delta(100, 110, { c: { records: [put('k1', 'B1', 101, 2000), put('k3', 'B3', 108, 100)] } });
  const cases: Record<ConflictResolution, string[]> = {
    // clear @102 beats base and B1 @101; B3 @108 beats A3 @104
    'last-write-wins': ['k3=B3'],
    // k1: B1 @101 < clear @102; k2: the clear touches it (only delta candidate) → deleted; k3: A3 @104 < B3 @108
    'first-write-wins': ['k1=B1', 'k3=A3'],
    // k1: clear ts 3000 > B1 2000 > base 900 → deleted; k2: base ts 9000 beats the clear; k3: A3 ts 3100
    'timestamp-priority': ['k2=base2', 'k3=A3'],
  };
  it.each(allCombos)('%s (%s)', async (rule, strategy) => {
    for (const order of [
      [cleared, other],
      [other, cleared],
    ]) {
      const merged = await merger(rule, strategy).mergeIncrementals(base, order);
      const got = merged.components.get('c')?.records.map((r) => `${r.key.toString()}=${r.value.toString()}`);
      expect(got).toEqual(cases[rule]);
    }
  });

  it.each(allCombos)('a record at the clear LSN survives it: %s (%s)', async (rule, strategy) => {
    const d = delta(100, 110, {
      c: { clearedAt: { lsn: 105, timestamp: 50 }, records: [put('k9', 'after', 105, 50)] },
    });
    const merged = await merger(rule, strategy).mergeIncrementals(base, [d]);
    const keys = merged.components.get('c')?.records.map((r) => r.key.toString());
    // under timestamp-priority the base records are newer (ts 900, 9000) than the clear (ts 50)
    expect(keys).toEqual(rule === 'timestamp-priority' ? ['k1', 'k2', 'k9'] : ['k9']);
  });
});

// ---- the definitions, transcribed naively ----

interface Candidate {
  src: number;
  lsn: number;
  ts: number;
  value: Buffer | undefined;
}

function ranks(rule: ConflictResolution, a: Candidate, b: Candidate): number {
  if (rule === 'last-write-wins') return a.lsn - b.lsn || a.src - b.src;
  if (rule === 'timestamp-priority') return a.ts - b.ts || a.lsn - b.lsn || a.src - b.src;
  if (a.src < 0) return -1;
  if (b.src < 0) return 1;
  return b.lsn - a.lsn || b.src - a.src;
}

function naiveMerge(base: Snapshot, deltas: Delta[], rule: ConflictResolution): Snapshot {
  const ids = new Set([...base.components.keys(), ...deltas.flatMap((d) => [...d.components.keys()])]);
  const components = new Map<string, { componentId: string; records: StateRecord[] }>();
  for (const id of ids) {
    const keys = new Map<string, Buffer>();
    for (const r of base.components.get(id)?.records ?? []) keys.set(r.key.toString('hex'), r.key);
    for (const d of deltas)
      for (const r of d.components.get(id)?.records ?? []) keys.set(r.key.toString('hex'), r.key);
    const records: StateRecord[] = [];
    for (const [hexKey, key] of keys) {
      const candidates: Candidate[] = [];
      const b = base.components.get(id)?.records.find((r) => r.key.toString('hex') === hexKey);
      if (b) candidates.push({ src: -1, lsn: b.lsn, ts: b.timestamp, value: b.value });
      deltas.forEach((d, src) => {
        const c = d.components.get(id);
        if (!c) return;
        const r = c.records.find((x) => x.key.toString('hex') === hexKey);
        if (r)
          candidates.push({ src, lsn: r.lsn, ts: r.timestamp, value: r.op === 'put' ? r.value : undefined });
        else if (c.clearedAt)
          candidates.push({ src, lsn: c.clearedAt.lsn, ts: c.clearedAt.timestamp, value: undefined });
      });
      const w = candidates.reduce((x, y) => (ranks(rule, y, x) > 0 ? y : x));
      if (w.value) records.push({ key, value: w.value, lsn: w.lsn, timestamp: w.ts });
    }
    records.sort((x, y) => Buffer.compare(x.key, y.key));
    components.set(id, { componentId: id, records });
  }
  return { lsn: Math.max(base.lsn, ...deltas.map((d) => d.toLsn)), components };
}

const BASE_LSN = 100;
const keyArb = fc.uint8Array({ maxLength: 2, max: 3 }).map((a) => Buffer.from(a));
const compIds = ['a', 'b'];
const baseArb = fc
  .tuple(
    ...compIds.map(() =>
      fc.uniqueArray(
        fc.record({
          key: keyArb,
          lsn: fc.integer({ min: 1, max: BASE_LSN }),
          ts: fc.integer({ min: 0, max: 20 }),
          v: fc.nat(9),
        }),
        { selector: (r) => r.key.toString('hex'), maxLength: 8 },
      ),
    ),
  )
  .map((perComp) =>
    snapshot(
      BASE_LSN,
      Object.fromEntries(
        perComp.map((rows, i) => [
          compIds[i],
          rows
            .map((r) => rec(r.key.toString('latin1'), `b${r.v}`, r.lsn, r.ts))
            .sort((x, y) => Buffer.compare(x.key, y.key)),
        ]),
      ),
    ),
  );

const compDeltaArb = fc.record({
  clear: fc.option(fc.record({ at: fc.nat(), ts: fc.integer({ min: 0, max: 20 }) }), { nil: undefined }),
  rows: fc.uniqueArray(
    fc.record({
      key: keyArb,
      at: fc.nat(),
      ts: fc.integer({ min: 0, max: 20 }),
      del: fc.boolean(),
      v: fc.nat(9),
    }),
    { selector: (r) => r.key.toString('hex'), maxLength: 6 },
  ),
});
const deltaSpecArb = fc.record({
  parent: fc.nat(),
  span: fc.integer({ min: 1, max: 6 }),
  comps: fc.dictionary(fc.constantFrom(...compIds), compDeltaArb, { maxKeys: 2 }),
});

interface DeltaSpec {
  parent: number;
  span: number;
  comps: Partial<
    Record<
      string,
      {
        clear?: { at: number; ts: number };
        rows: { key: Buffer; at: number; ts: number; del: boolean; v: number }[];
      }
    >
  >;
}

/** A tree of deltas rooted at the base: each starts at the base or where an earlier delta ends. */
function buildDeltas(specs: DeltaSpec[]): Delta[] {
  const ends = [BASE_LSN];
  const deltas: Delta[] = [];
  for (const spec of specs) {
    const from = ends[spec.parent % ends.length];
    const to = from + spec.span;
    const lsnIn = (at: number, floor: number): number => floor + (at % (to - floor + 1));
    const comps: Record<string, { records: DeltaRecord[]; clearedAt?: { lsn: number; timestamp: number } }> =
      {};
    for (const [id, c] of Object.entries(spec.comps)) {
      if (c === undefined) continue;
      const clearedAt = c.clear ? { lsn: lsnIn(c.clear.at, from + 1), timestamp: c.clear.ts } : undefined;
      const floor = clearedAt ? clearedAt.lsn : from + 1;
      const records: DeltaRecord[] = c.rows
        .map((r): DeltaRecord =>
          r.del
            ? { op: 'delete', key: r.key, lsn: lsnIn(r.at, floor), timestamp: r.ts }
            : {
                op: 'put',
                key: r.key,
                value: Buffer.from(`d${r.v}`),
                lsn: lsnIn(r.at, floor),
                timestamp: r.ts,
              },
        )
        .sort((x, y) => Buffer.compare(x.key, y.key));
      comps[id] = clearedAt ? { records, clearedAt } : { records };
    }
    deltas.push(delta(from, to, comps));
    ends.push(to);
  }
  return deltas;
}

describe('random trees of branches match the definitions', () => {
  it.each(allCombos)('%s (%s)', async (rule, strategy) => {
    await fc.assert(
      fc.asyncProperty(baseArb, fc.array(deltaSpecArb, { maxLength: 5 }), async (base, specs) => {
        const deltas = buildDeltas(specs);
        const merged = await merger(rule, strategy).mergeIncrementals(base, deltas);
        expect(plain(merged)).toEqual(plain(naiveMerge(base, deltas, rule)));
      }),
      { numRuns: 120 },
    );
  });
});
