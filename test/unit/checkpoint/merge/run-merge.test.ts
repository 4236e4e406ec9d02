import fc from 'fast-check';
import { RULE_CODES } from '../../../../src/checkpoint/merge/conflict-resolution';
import { mergeComponent } from '../../../../src/checkpoint/merge/merge-component';
import { mergeRunComponent, type RunDelta } from '../../../../src/checkpoint/merge/run-merge';
import { firstUnsortedSlice, type RunSlice } from '../../../../src/checkpoint/run/run-slice';
import { decodeRunBody, encodeRunBody } from '../../../../src/checkpoint/block/run-body-codec';
import { runFromRecords, runKey, runValue, type SortedRun } from '../../../../src/checkpoint/run/sorted-run';
import type { ComponentDelta, StateRecord } from '../../../../src/checkpoint/state/state-types';
import { deltaOf, logArb, replay, type Entry } from '../../../support/checkpoint/merge/merge-fixtures';

/** The bench's window keys share a long prefix: the same logs with it in front of every key. */
const WINDOW_PREFIX = Buffer.from('window:1:0001764576000000:user-');
const withPrefix = (entries: Entry[], prefix: Buffer): Entry[] =>
  entries.map((e) => ({
    ...e,
    changes: e.changes.map((c) => (c.kind === 'clear' ? c : { ...c, key: Buffer.concat([prefix, c.key]) })),
  }));

/** The base records cut into runs at `cuts`, each run read as one slice (as blocks are). */
function asSlices(records: readonly StateRecord[], cuts: readonly number[]): RunSlice[] {
  const bounds = [...new Set(cuts.map((c) => c % (records.length + 1)))].sort((a, b) => a - b);
  const slices: RunSlice[] = [];
  let start = 0;
  for (const end of [...bounds, records.length]) {
    if (end <= start) continue;
    slices.push({ run: throughBlock(runFromRecords(records, start, end)), start: 0, end: end - start });
    start = end;
  }
  return slices;
}

/** A run as recovery gets it: encoded into a format-2 body and decoded again. */
const throughBlock = (run: SortedRun): SortedRun =>
  decodeRunBody(encodeRunBody(run, 0, run.count, 0), run.count);

const asRunDelta = (delta: ComponentDelta): RunDelta => ({
  run: throughBlock(runFromRecords(delta.records)),
  ...(delta.clearedAt ? { clearedAt: delta.clearedAt } : {}),
});

const rows = (slices: readonly RunSlice[]) =>
  slices.flatMap(({ run, start, end }) =>
    Array.from({ length: end - start }, (_, k) => {
      const i = start + k;
      return [
        runKey(run, i).toString('hex'),
        runValue(run, i).toString('hex'),
        run.lsns[i],
        run.timestamps[i],
      ];
    }),
  );
const objectRows = (records: readonly StateRecord[]) =>
  records.map((r) => [r.key.toString('hex'), r.value.toString('hex'), r.lsn, r.timestamp]);

describe('merge over sorted runs', () => {
  it('base slices + deltas = the object merge, for every rule, any split of the base into blocks', () => {
    fc.assert(
      fc.property(
        logArb,
        fc.array(fc.nat({ max: 40 }), { maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(Buffer.alloc(0), WINDOW_PREFIX),
        (log, cuts, a, b, prefix) => {
          const entries = withPrefix(log, prefix);
          const last = entries.length;
          const cut1 = last === 0 ? 0 : a % (last + 1);
          const cut2 = cut1 + (last === 0 ? 0 : b % (last - cut1 + 1));
          const base = replay(entries, cut1);
          const deltas = [deltaOf(entries, cut1, cut2), deltaOf(entries, cut2, last)];
          const ids = new Set([
            ...base.components.keys(),
            ...deltas.flatMap((d) => [...d.components.keys()]),
          ]);
          for (const rule of Object.values(RULE_CODES)) {
            for (const id of ids) {
              const baseRecords = base.components.get(id)?.records ?? [];
              const componentDeltas = deltas.flatMap((d) => d.components.get(id) ?? []);
              const sources = deltas.flatMap((d, i) => (d.components.has(id) ? [i] : []));
              const expected = mergeComponent(id, base.components.get(id), componentDeltas, rule, sources);
              const merged = mergeRunComponent(
                id,
                asSlices(baseRecords, cuts),
                componentDeltas.map(asRunDelta),
                rule,
                sources,
              );
              expect(rows(merged)).toEqual(objectRows(expected.records));
              expect(firstUnsortedSlice(merged, true)).toBe(-1);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('under last-write-wins, base + deltas = the replay of the whole log', () => {
    fc.assert(
      fc.property(logArb, fc.nat(), (entries, a) => {
        const cut = entries.length === 0 ? 0 : a % (entries.length + 1);
        const base = replay(entries, cut);
        const delta = deltaOf(entries, cut, entries.length);
        const expected = replay(entries, entries.length);
        for (const [id, component] of expected.components) {
          const changes = delta.components.get(id);
          const merged = mergeRunComponent(
            id,
            asSlices(base.components.get(id)?.records ?? [], [3, 7]),
            changes ? [asRunDelta(changes)] : [],
            RULE_CODES['last-write-wins'],
          );
          expect(rows(merged).map(([k, v]) => [k, v])).toEqual(
            objectRows(component.records).map(([k, v]) => [k, v]),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('leaves an untouched base as it was, and keeps untouched stretches as slices of their blocks', () => {
    const base = Array.from({ length: 1000 }, (_, i) => ({
      key: Buffer.from(`k${String(i).padStart(4, '0')}`),
      value: Buffer.from(`v${i}`),
      lsn: 1,
      timestamp: 1,
    }));
    const slices = asSlices(base, [250, 500, 750]);
    expect(mergeRunComponent('c', slices, [], 0)).toBe(slices);
    const change = runFromRecords([
      { op: 'put' as const, key: Buffer.from('k0600'), value: Buffer.from('new'), lsn: 2, timestamp: 2 },
    ]);
    const merged = mergeRunComponent('c', slices, [{ run: change }], 0);
    // Blocks 1, 2 and 4 whole; block 3 cut around the changed key; the change itself.
    expect(
      merged.map((s) => [
        s.run === change ? 'delta' : slices.findIndex((x) => x.run === s.run),
        s.start,
        s.end,
      ]),
    ).toEqual([
      [0, 0, 250],
      [1, 0, 250],
      [2, 0, 100],
      ['delta', 0, 1],
      [2, 101, 250],
      [3, 0, 250],
    ]);
  });

  it('refuses a delta whose keys do not rise', () => {
    const run = runFromRecords([
      { op: 'put' as const, key: Buffer.from('b'), value: Buffer.from('1'), lsn: 2, timestamp: 2 },
      { op: 'put' as const, key: Buffer.from('a'), value: Buffer.from('1'), lsn: 2, timestamp: 2 },
    ]);
    expect(() => mergeRunComponent('c', [], [{ run }], 0)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
