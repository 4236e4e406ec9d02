import {
  decide,
  DEFAULT_CLUSTER_CHECKPOINT_SETTINGS,
  failing,
  type ClusterCheckpointSettings,
  type LeaderView,
} from '../../../../src/coordination/barrier/checkpoint-policy';
import { ClusterCheckpointRecord } from '../../../../src/coordination/barrier/cluster-checkpoint-record';

/** The leader's decisions, scenario by scenario after Flink's CheckpointCoordinator tests. */
const settings: ClusterCheckpointSettings = {
  ...DEFAULT_CLUSTER_CHECKPOINT_SETTINGS,
  intervalMs: 100,
  timeoutMs: 1_000,
  minPauseMs: 0,
  maxConcurrent: 1,
};
const members = ['n1', 'n2', 'n3'];
const view = (now: number, over: Partial<LeaderView> = {}): LeaderView => ({
  now,
  members,
  unreachable: new Set(),
  hasQuorum: true,
  requested: false,
  ...over,
});
const ackAll = (record: ClusterCheckpointRecord, id: number, nodes = members, ackedAt = 0) => {
  for (const node of nodes) {
    record.apply({ type: 'ack', id, node, checkpointId: 1, barrierLsn: 1, manifestKey: 'm', ackedAt }, 1);
  }
};

/** Applies what the leader decided, as Raft would once committed. */
function step(record: ClusterCheckpointRecord, over: ClusterCheckpointSettings, at: LeaderView) {
  const commands = decide(record, over, at);
  for (const command of commands) record.apply(command, 1);
  return commands.map((c) => `${c.type} ${'id' in c ? c.id : ''}`.trim());
}

describe('the leader decides', () => {
  it('begins at the interval, proposes nothing while acks come (the last one commits), then begins the next', () => {
    const record = new ClusterCheckpointRecord();
    expect(step(record, settings, view(100))).toEqual(['begin 1']);
    expect(step(record, settings, view(150))).toEqual([]);
    ackAll(record, 1, ['n1', 'n2']);
    expect(step(record, settings, view(155))).toEqual([]);
    ackAll(record, 1, ['n3']);
    expect(record.get(1)?.state).toBe('committed');
    expect(step(record, settings, view(160))).toEqual([]);
    expect(step(record, settings, view(199))).toEqual([]);
    expect(step(record, settings, view(200))).toEqual(['begin 2']);
  });

  it('commits one whose acks are all in but which is still pending (a last ack of a deposed term)', () => {
    const record = new ClusterCheckpointRecord();
    record.apply({ type: 'leader', node: 'n1', at: 0 }, 2);
    record.apply({ type: 'begin', id: 1, members, at: 100 }, 2);
    // Log order rules this out (terms never fall); the record still refuses to let it commit.
    ackAll(record, 1);
    expect(record.get(1)?.state).toBe('pending');
    expect(decide(record, settings, view(120))).toEqual([{ type: 'commit', id: 1, at: 120 }]);
    expect(record.apply({ type: 'commit', id: 1, at: 120 }, 2)).toEqual({
      applied: true,
      ended: 'committed',
    });
  });

  it('aborts on timeout and counts the failure; a decline aborts at once (in the record)', () => {
    const record = new ClusterCheckpointRecord();
    step(record, settings, view(100));
    ackAll(record, 1, ['n1', 'n2']);
    expect(step(record, settings, view(1_099))).toEqual([]);
    expect(decide(record, settings, view(1_100))[0]).toMatchObject({
      type: 'abort',
      id: 1,
      reason: 'timed out after 1000 ms waiting for n3',
    });
    step(record, settings, view(1_100));
    expect(record.get(1)?.state).toBe('aborted');
    expect(record.consecutiveFailures).toBe(1);
    expect(failing(record, settings)).toBe(true);
    expect(failing(record, { ...settings, tolerableFailures: 1 })).toBe(false);
  });

  it('aborts when a member it waits for is lost (removed or unreachable), and begins nothing then', () => {
    const record = new ClusterCheckpointRecord();
    step(record, settings, view(100));
    ackAll(record, 1, ['n1', 'n2']);
    const lost = view(300, { unreachable: new Set(['n3']) });
    expect(decide(record, settings, lost)).toEqual([{ type: 'abort', id: 1, reason: 'lost n3', at: 300 }]);
    step(record, settings, lost);
    expect(step(record, settings, view(400, { unreachable: new Set(['n3']) }))).toEqual([]);
    expect(step(record, settings, view(500))).toEqual(['begin 2']);
  });

  it('respects max concurrent and the minimum pause between checkpoints', () => {
    const record = new ClusterCheckpointRecord();
    const two = { ...settings, maxConcurrent: 2, minPauseMs: 250 };
    expect(step(record, two, view(100))).toEqual(['begin 1']);
    expect(step(record, two, view(200))).toEqual(['begin 2']);
    expect(step(record, two, view(300))).toEqual([]); // two in flight
    ackAll(record, 1, members, 310); // the last ack, made at 310, commits: no begin before 560
    expect(step(record, two, view(310))).toEqual([]);
    expect(step(record, two, view(559))).toEqual([]);
    expect(step(record, two, view(560))).toEqual(['begin 3']);
  });

  it('begins on request without waiting for the interval, never without a majority', () => {
    const record = new ClusterCheckpointRecord();
    const manual = { ...settings, intervalMs: 0 };
    expect(step(record, manual, view(5_000))).toEqual([]);
    expect(step(record, manual, view(5_000, { requested: true, hasQuorum: false }))).toEqual([]);
    expect(step(record, manual, view(5_001, { requested: true }))).toEqual(['begin 1']);
  });
});
