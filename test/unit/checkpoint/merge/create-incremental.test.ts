/** createIncremental: the plan of an incremental checkpoint, with its changes normalised. */
import { CheckpointMerger } from '../../../../src/checkpoint/merge';
import type { ComponentDelta } from '../../../../src/checkpoint/state/state-types';
import { TidemarkError } from '../../../../src/lib/errors';
import { del, delta, put } from '../../../support/checkpoint/merge/merge-fixtures';

const merger = new CheckpointMerger({ enableDeltaCompression: false, compressionThreshold: 4096 });
const keys = (c: ComponentDelta | undefined): string[] =>
  (c?.records ?? []).map((r) => `${r.key.toString()}:${r.op === 'put' ? r.value.toString() : '-'}@${r.lsn}`);

describe('createIncremental', () => {
  it('describes parent, range, normalised changes and block settings', () => {
    const changes = new Map<string, ComponentDelta>([
      [
        'w',
        {
          componentId: 'w',
          records: [put('b', '2', 12, 1), put('a', '1', 11, 1), put('b', '3', 14, 1), del('a', 13, 1)],
        },
      ],
      ['empty', { componentId: 'empty', records: [] }],
      [
        'cleared',
        {
          componentId: 'cleared',
          clearedAt: { lsn: 15, timestamp: 9 },
          records: [put('x', 'old', 12, 1), put('y', 'same-entry', 15, 9), put('z', 'new', 17, 1)],
        },
      ],
    ]);
    const plan = merger.createIncremental(7, changes, { fromLsn: 10, toLsn: 20 });
    expect(plan.parentId).toBe(7);
    expect([plan.fromLsn, plan.toLsn, plan.delta.fromLsn, plan.delta.toLsn]).toEqual([10, 20, 10, 20]);
    expect([...plan.delta.components.keys()]).toEqual(['cleared', 'w']);
    expect(keys(plan.delta.components.get('w'))).toEqual(['a:-@13', 'b:3@14']);
    expect(keys(plan.delta.components.get('cleared'))).toEqual(['y:same-entry@15', 'z:new@17']);
    expect(plan.delta.components.get('cleared')?.clearedAt).toEqual({ lsn: 15, timestamp: 9 });
    expect(plan.components).toEqual([
      { componentId: 'cleared', cleared: true, puts: 2, deletes: 0, logicalBytes: 1 + 10 + 1 + 3 },
      { componentId: 'w', cleared: false, puts: 1, deletes: 1, logicalBytes: 1 + 1 + 1 },
    ]);
    expect(plan.recordCount).toBe(4);
    expect(plan.logicalBytes).toBe(18);
    expect(plan.blocks).toEqual({ compress: false, compressionThreshold: 4096, deduplicate: true });
  });

  it('keeps the later of two changes to a key at one LSN, and passes normal input through', () => {
    const twice: ComponentDelta = {
      componentId: 'c',
      records: [put('k', 'first', 12, 1), put('k', 'second', 12, 1)],
    };
    const plan = merger.createIncremental(1, new Map([['c', twice]]), { fromLsn: 10, toLsn: 12 });
    expect(keys(plan.delta.components.get('c'))).toEqual(['k:second@12']);
    const normal = delta(10, 12, { c: { records: [put('a', '1', 11, 1), del('b', 12, 1)] } });
    const passed = merger.createIncremental(1, normal, { fromLsn: 10, toLsn: 12 });
    expect(passed.delta.components.get('c')).toBe(normal.components.get('c'));
  });

  it('refuses bad ids, ranges and records', () => {
    const bad: (() => unknown)[] = [
      () => merger.createIncremental(-1, new Map(), { fromLsn: 0, toLsn: 1 }),
      () => merger.createIncremental(1, new Map(), { fromLsn: 5, toLsn: 1 }),
      () => merger.createIncremental(1, delta(0, 3, {}), { fromLsn: 0, toLsn: 4 }),
      () =>
        merger.createIncremental(1, delta(0, 3, { c: { records: [put('a', '1', 4, 1)] } }), {
          fromLsn: 0,
          toLsn: 3,
        }),
      () =>
        merger.createIncremental(1, new Map([['c', { componentId: 'x', records: [] }]]), {
          fromLsn: 0,
          toLsn: 3,
        }),
      () => merger.createIncremental(1, 'nope' as never, { fromLsn: 0, toLsn: 3 }),
    ];
    for (const fn of bad) expect(() => fn()).toThrow(TidemarkError);
  });
});
