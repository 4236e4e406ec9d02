import type { CheckpointSummary } from '../../../../src/checkpoint/catalog/checkpoint-summary';
import {
  checkRetentionPolicy,
  planRetention,
  type RetentionPolicy,
} from '../../../../src/tiering/maintenance/retention-policy';
import { summary } from '../../../support/tiering/tiering-fixtures';

const SECOND = 1000;

/**
 * Two chains and a third full one, checkpoint `id` created at `id` seconds, at LSN `100 * id`:
 *   1 full ─ 2 ─ 3      4 full ─ 5 ─ 6      7 full ─ 8
 */
function history(): CheckpointSummary[] {
  const full = (id: number) => summary({ id, kind: 'full', lsn: 100 * id });
  const incremental = (id: number, baseId: number) =>
    summary({ id, kind: 'incremental', lsn: 100 * id, parentId: id - 1, baseId });
  return [
    full(1),
    incremental(2, 1),
    incremental(3, 1),
    full(4),
    incremental(5, 4),
    incremental(6, 4),
    full(7),
    incremental(8, 7),
  ];
}

const policy = (keepFullCheckpoints: number, pitrWindowMs: number): RetentionPolicy => ({
  keepFullCheckpoints,
  pitrWindowMs,
});
/** "now" well after every checkpoint of `history()`. */
const NOW = 100 * SECOND;

describe('planRetention', () => {
  it('keeps the newest keepFullCheckpoints full checkpoints with the incrementals built on them', () => {
    expect(planRetention(history(), policy(1, 0), NOW)).toEqual({
      expire: [6, 5, 4, 3, 2, 1],
      keep: [7, 8],
      walNeededAfterLsn: 700,
    });
    expect(planRetention(history(), policy(2, 0), NOW)).toEqual({
      expire: [3, 2, 1],
      keep: [4, 5, 6, 7, 8],
      walNeededAfterLsn: 400,
    });
    expect(planRetention(history(), policy(5, 0), NOW)).toEqual({
      expire: [],
      keep: [1, 2, 3, 4, 5, 6, 7, 8],
      walNeededAfterLsn: 100,
    });
  });

  it('keeps every point of the PITR window: the newest checkpoint created at or before its start, and all after', () => {
    // Window start at 5.5 s: checkpoint 5 (created at 5 s) is the anchor; 5's chain needs 4.
    const plan = planRetention(history(), policy(1, NOW - 5.5 * SECOND), NOW);
    expect(plan.keep).toEqual([4, 5, 6, 7, 8]);
    expect(plan.expire).toEqual([3, 2, 1]);
    expect(plan.walNeededAfterLsn).toBe(400);
    // A window starting exactly at a creation time anchors on that checkpoint.
    expect(planRetention(history(), policy(1, NOW - 3 * SECOND), NOW).keep).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(planRetention(history(), policy(1, NOW - 7 * SECOND), NOW).keep).toEqual([7, 8]);
  });

  it('keeps everything when no checkpoint is as old as the window start', () => {
    const plan = planRetention(history(), policy(1, NOW), NOW);
    expect(plan.expire).toEqual([]);
    expect(plan.keep).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keeps the parents of a kept incremental even when its full checkpoint is not among the newest', () => {
    // An incremental on the old base that is newer than the newest full one (built before a merge).
    const checkpoints = [
      summary({ id: 1, kind: 'full', lsn: 100 }),
      summary({ id: 2, kind: 'incremental', lsn: 200, parentId: 1, baseId: 1 }),
      summary({ id: 3, kind: 'full', lsn: 200 }),
      summary({ id: 4, kind: 'incremental', lsn: 300, parentId: 2, baseId: 1, createdAtMs: 4 * SECOND }),
    ];
    const plan = planRetention(checkpoints, policy(1, 0), NOW);
    expect(plan.keep).toEqual([1, 2, 3, 4]);
    expect(plan.expire).toEqual([]);
  });

  it('keeps a pinned checkpoint (a cluster checkpoint names it) with its chain, and the WAL after it', () => {
    expect(planRetention(history(), policy(1, 0), NOW, [2, 99])).toEqual({
      expire: [6, 5, 4, 3],
      keep: [1, 2, 7, 8],
      walNeededAfterLsn: 100,
    });
  });

  it('expires newest first, so an incremental always goes before its parent', () => {
    const { expire } = planRetention(history(), policy(1, 0), NOW);
    const byId = new Map(history().map((c) => [c.id, c]));
    for (const [i, id] of expire.entries()) {
      const parent = byId.get(id)!.parentId;
      if (parent !== null) expect(expire.indexOf(parent)).toBeGreaterThan(i);
    }
  });

  it('does not care about the order the catalog lists checkpoints in', () => {
    const shuffled = [...history()].reverse();
    expect(planRetention(shuffled, policy(2, 0), NOW)).toEqual(planRetention(history(), policy(2, 0), NOW));
  });

  it('expires nothing and keeps all the WAL when nothing is committed', () => {
    expect(planRetention([], policy(1, 0), NOW)).toEqual({
      expire: [],
      keep: [],
      walNeededAfterLsn: undefined,
    });
  });

  it('refuses an invalid policy with INVALID_ARGUMENT', () => {
    for (const bad of [policy(0, 0), policy(1.5, 0), policy(-1, 0), policy(1, -1), policy(1, 0.5)]) {
      expect(() => planRetention(history(), bad, NOW)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
      expect(() => checkRetentionPolicy(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(() => planRetention(history(), policy(Number.NaN, 0), NOW)).toThrow(/keepFullCheckpoints/);
    expect(() => planRetention(history(), policy(1, Number.POSITIVE_INFINITY), NOW)).toThrow(/pitrWindowMs/);
    expect(checkRetentionPolicy(policy(3, 0))).toEqual(policy(3, 0));
  });
});
