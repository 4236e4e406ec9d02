/**
 * Test-side model of the log and a naive reference replay, independent of the merger (and of the state
 * materialiser being written in parallel): entries of puts, deletes and clears over several components,
 * replayed one change at a time into plain Maps.
 */
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import type {
  ComponentDelta,
  ComponentSnapshot,
  Delta,
  DeltaRecord,
  Snapshot,
  StateRecord,
} from '../../../../src/checkpoint/state/state-types';
import { ROOT, ensureBuilt } from '../../ensure-built';

export const DIST_WORKER = path.join(ROOT, 'dist/checkpoint/merge/merge-worker.js');

/**
 * The worker tests run the BUILT worker (dist/checkpoint/merge/merge-worker.js; see merge-pool.ts).
 * ensureBuilt() rebuilds when src/ is newer. tsc emits JavaScript even when a file elsewhere in src/
 * (work in progress of another part) has type errors; then ensureBuilt throws, but the merger's own
 * build output is still current — accept it when every merge source is older than its emitted file.
 */
export function ensureMergeBuilt(): void {
  try {
    ensureBuilt();
  } catch (error) {
    const sources = [
      ...readdirSync(path.join(ROOT, 'src/checkpoint/merge')).map((f) => `checkpoint/merge/${f}`),
      'checkpoint/state/state-types.ts',
      'lib/errors/tidemark-error.ts',
    ];
    for (const source of sources) {
      const built = path.join(ROOT, 'dist', source.replace(/\.ts$/, '.js'));
      const builtMs = statSync(built, { throwIfNoEntry: false })?.mtimeMs ?? 0;
      if (statSync(path.join(ROOT, 'src', source)).mtimeMs > builtMs) throw error;
    }
  }
}

export type Change =
  { kind: 'put'; key: Buffer; value: Buffer } | { kind: 'delete'; key: Buffer } | { kind: 'clear' };

export interface Entry {
  lsn: number;
  timestamp: number;
  componentId: string;
  changes: Change[];
}

const COMPONENTS = ['agg', 'join_a', 'window_1'];

/** Keys of 0–2 bytes from a 4-letter alphabet: few enough to collide often, with prefixes and ''. */
const keyArb = fc.uint8Array({ maxLength: 2, max: 3 }).map((a) => Buffer.from(a));
const changeArb: fc.Arbitrary<Change> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      key: keyArb,
      value: fc.uint8Array({ maxLength: 3 }).map((a) => Buffer.from(a)),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

/** A log: LSNs 1, 2, 3, …; timestamps arbitrary (replay must not care). */
export const logArb: fc.Arbitrary<Entry[]> = fc
  .array(
    fc.record({
      componentId: fc.constantFrom(...COMPONENTS),
      timestamp: fc.integer({ min: 0, max: 1000 }),
      changes: fc.array(changeArb, { minLength: 1, maxLength: 3 }),
    }),
    { maxLength: 60 },
  )
  .map((entries) => entries.map((e, i) => ({ ...e, lsn: i + 1 })));

const hex = (b: Buffer): string => b.toString('hex');

/** Replay entries with lsn ≤ upTo. Every component an entry touched is present, maybe empty. */
export function replay(entries: readonly Entry[], upTo: number): Snapshot {
  const state = new Map<string, Map<string, StateRecord>>();
  for (const e of entries) {
    if (e.lsn > upTo) break;
    let comp = state.get(e.componentId);
    if (comp === undefined) state.set(e.componentId, (comp = new Map()));
    for (const c of e.changes) {
      if (c.kind === 'clear') comp.clear();
      else if (c.kind === 'delete') comp.delete(hex(c.key));
      else comp.set(hex(c.key), { key: c.key, value: c.value, lsn: e.lsn, timestamp: e.timestamp });
    }
  }
  const components = new Map<string, ComponentSnapshot>();
  for (const [id, comp] of state) {
    const records = [...comp.values()].sort((a, b) => Buffer.compare(a.key, b.key));
    components.set(id, { componentId: id, records });
  }
  return { lsn: upTo, components };
}

/** The delta of entries in (from, to], built by replaying them: last clear, then last change per key. */
export function deltaOf(entries: readonly Entry[], from: number, to: number): Delta {
  const acc = new Map<
    string,
    { clearedAt?: { lsn: number; timestamp: number }; records: Map<string, DeltaRecord> }
  >();
  for (const e of entries) {
    if (e.lsn <= from || e.lsn > to) continue;
    let comp = acc.get(e.componentId);
    if (comp === undefined) acc.set(e.componentId, (comp = { records: new Map() }));
    for (const c of e.changes) {
      if (c.kind === 'clear') {
        comp.clearedAt = { lsn: e.lsn, timestamp: e.timestamp };
        comp.records.clear();
      } else if (c.kind === 'delete') {
        comp.records.set(hex(c.key), { op: 'delete', key: c.key, lsn: e.lsn, timestamp: e.timestamp });
      } else {
        comp.records.set(hex(c.key), {
          op: 'put',
          key: c.key,
          value: c.value,
          lsn: e.lsn,
          timestamp: e.timestamp,
        });
      }
    }
  }
  const components = new Map<string, ComponentDelta>();
  for (const [id, comp] of acc) {
    const records = [...comp.records.values()].sort((a, b) => Buffer.compare(a.key, b.key));
    components.set(
      id,
      comp.clearedAt ? { componentId: id, clearedAt: comp.clearedAt, records } : { componentId: id, records },
    );
  }
  return { fromLsn: from, toLsn: to, components };
}

/** A snapshot as plain comparable data: component id → [key hex, value hex, lsn, timestamp][]. */
export function plain(snapshot: Snapshot): {
  lsn: number;
  components: Record<string, [string, string, number, number][]>;
} {
  const components: Record<string, [string, string, number, number][]> = {};
  for (const id of [...snapshot.components.keys()].sort()) {
    const c = snapshot.components.get(id) as ComponentSnapshot;
    expect(c.componentId).toBe(id);
    components[id] = c.records.map((r) => [hex(r.key), hex(r.value), r.lsn, r.timestamp]);
  }
  return { lsn: snapshot.lsn, components };
}

export function put(key: string, value: string, lsn: number, timestamp: number): DeltaRecord {
  return { op: 'put', key: Buffer.from(key), value: Buffer.from(value), lsn, timestamp };
}

export function del(key: string, lsn: number, timestamp: number): DeltaRecord {
  return { op: 'delete', key: Buffer.from(key), lsn, timestamp };
}

export function rec(key: string, value: string, lsn: number, timestamp: number): StateRecord {
  return { key: Buffer.from(key), value: Buffer.from(value), lsn, timestamp };
}

export function snapshot(lsn: number, components: Record<string, StateRecord[]>): Snapshot {
  return {
    lsn,
    components: new Map(
      Object.entries(components).map(([id, records]) => [id, { componentId: id, records }]),
    ),
  };
}

export function delta(
  fromLsn: number,
  toLsn: number,
  components: Record<string, { records: DeltaRecord[]; clearedAt?: { lsn: number; timestamp: number } }>,
): Delta {
  return {
    fromLsn,
    toLsn,
    components: new Map(Object.entries(components).map(([id, c]) => [id, { componentId: id, ...c }])),
  };
}
