import {
  ClusterCheckpointRecord,
  FINISHED_KEPT,
  type ClusterCheckpointCommand,
} from '../../../../src/coordination/barrier/cluster-checkpoint-record';

/** The replicated record's rules: what every node applies, in log order, to the same result. */
const ack = (id: number, node: string, at = 10): ClusterCheckpointCommand => ({
  type: 'ack',
  id,
  node,
  checkpointId: id * 10,
  barrierLsn: id * 100,
  manifestKey: `tidemark/${node}/manifests/${id * 10}.json`,
  ackedAt: at,
});

function recordWith(...commands: [ClusterCheckpointCommand, number][]): ClusterCheckpointRecord {
  const record = new ClusterCheckpointRecord();
  for (const [command, term] of commands) record.apply(command, term);
  return record;
}

const begin = (id: number, members = ['n1', 'n2', 'n3'], at = 0): ClusterCheckpointCommand => ({
  type: 'begin',
  id,
  members,
  at,
});

describe('the cluster checkpoint record', () => {
  it('commits N at the ack that completes the set, with each node manifest and barrier', () => {
    const record = recordWith([begin(1), 1], [ack(1, 'n1'), 1], [ack(1, 'n2'), 1]);
    expect(record.apply({ type: 'commit', id: 1, at: 20 }, 1)).toEqual({
      applied: false,
      why: '1 lacks the acks of n3',
    });
    expect(record.get(1)?.state).toBe('pending');
    expect(record.apply(ack(1, 'n3', 30), 2)).toEqual({ applied: true, ended: 'committed' });
    expect(record.get(1)).toMatchObject({ state: 'committed', beganInTerm: 1, endedInTerm: 2, endedAt: 30 });
    // A commit behind it (a leader of the previous version proposed one) changes nothing.
    expect(record.apply({ type: 'commit', id: 1, at: 40 }, 2)).toEqual({
      applied: false,
      why: '1 is committed already',
    });
    expect(record.get(1)?.acks.n2).toEqual({
      checkpointId: 10,
      barrierLsn: 100,
      manifestKey: 'tidemark/n2/manifests/10.json',
      ackedAt: 10,
    });
    expect(record.lastCommittedId).toBe(1);
  });

  it('a decline aborts N; a finished N never changes again (not both committed and aborted)', () => {
    const record = recordWith([begin(1), 1], [ack(1, 'n1'), 1]);
    expect(record.apply({ type: 'decline', id: 1, node: 'n2', reason: 'disk full', at: 5 }, 1).applied).toBe(
      true,
    );
    expect(record.get(1)).toMatchObject({ state: 'aborted', reason: 'declined by n2: disk full' });
    record.apply(ack(1, 'n2'), 1);
    record.apply(ack(1, 'n3'), 1);
    expect(record.apply({ type: 'commit', id: 1, at: 9 }, 1)).toEqual({
      applied: false,
      why: '1 is aborted already',
    });
    expect(record.get(1)?.state).toBe('aborted');
    expect(record.consecutiveFailures).toBe(1);
  });

  it('late acks of an aborted or finished N and repeated acks are ignored, and say why', () => {
    const record = recordWith([begin(1), 1], [{ type: 'abort', id: 1, reason: 'timeout', at: 3 }, 1]);
    expect(record.apply(ack(1, 'n1'), 1)).toEqual({ applied: false, why: '1 is aborted: a late ack' });
    record.apply(begin(2), 1);
    record.apply(ack(2, 'n1'), 1);
    expect(record.apply(ack(2, 'n1'), 1)).toEqual({ applied: false, why: 'n1 acknowledged 2 already' });
    expect(record.apply(ack(2, 'n9'), 1)).toEqual({ applied: false, why: 'n9 is not a member of 2' });
    expect(record.apply(ack(7, 'n1'), 1)).toEqual({ applied: false, why: 'no cluster checkpoint 7' });
  });

  it('ids rise, across failovers too: a begin at or below the last id is refused', () => {
    const record = recordWith([begin(1), 1], [{ type: 'abort', id: 1, reason: 'lost n3', at: 1 }, 1]);
    record.apply({ type: 'leader', node: 'n2', at: 2 }, 2);
    expect(record.apply(begin(1), 2)).toEqual({ applied: false, why: 'ids rise: 1 is not above 1' });
    expect(record.apply(begin(2), 2).applied).toBe(true);
    expect(record.lastId).toBe(2);
  });

  it("a deposed leader's begin and commit are refused by term once a newer leader holds the jobs", () => {
    const record = recordWith([{ type: 'leader', node: 'n1', at: 0 }, 1], [begin(1), 1]);
    for (const node of ['n1', 'n2']) record.apply(ack(1, node), 1);
    record.apply({ type: 'leader', node: 'n2', at: 5 }, 2);
    expect(record.jobs).toEqual({ node: 'n2', term: 2 });
    // A last ack of a deposed term (log order rules it out) is taken, but does not commit: the leader does.
    expect(record.apply(ack(1, 'n3'), 1)).toEqual({ applied: true });
    expect(record.get(1)?.state).toBe('pending');
    expect(record.apply({ type: 'commit', id: 1, at: 6 }, 1)).toEqual({
      applied: false,
      why: 'term 1 is deposed',
    });
    expect(record.apply(begin(2), 1)).toEqual({ applied: false, why: 'term 1 is deposed' });
    expect(record.apply({ type: 'leader', node: 'n1', at: 7 }, 1)).toEqual({
      applied: false,
      why: 'a newer leader holds the jobs',
    });
    expect(record.apply({ type: 'commit', id: 1, at: 6 }, 2)).toEqual({ applied: true, ended: 'committed' });
  });

  it('counts failures in a row until a commit, and keeps a bounded history', () => {
    const record = new ClusterCheckpointRecord();
    for (let id = 1; id <= FINISHED_KEPT + 5; id++) {
      record.apply(begin(id, ['n1']), 1);
      record.apply({ type: 'abort', id, reason: 'timeout', at: id }, 1);
    }
    expect(record.consecutiveFailures).toBe(FINISHED_KEPT + 5);
    expect(record.list()).toHaveLength(FINISHED_KEPT);
    expect(record.get(5)).toBeUndefined();
    const id = record.lastId + 1;
    record.apply(begin(id, ['n1']), 1);
    record.apply(ack(id, 'n1'), 1);
    expect(record.get(id)?.state).toBe('committed');
    expect(record.consecutiveFailures).toBe(0);
  });

  it('survives a snapshot: the same record after toJSON and fromJSON', () => {
    const record = recordWith([{ type: 'leader', node: 'n1', at: 0 }, 3], [begin(4), 3], [ack(4, 'n2'), 3]);
    const copy = ClusterCheckpointRecord.fromJSON(JSON.parse(JSON.stringify(record)));
    expect(JSON.stringify(copy)).toBe(JSON.stringify(record));
    copy.apply(ack(4, 'n1'), 3);
    expect(copy.apply(ack(4, 'n3'), 3)).toEqual({ applied: true, ended: 'committed' });
  });
});

it('a member named like an object property ("toString") is a member like any other, after a snapshot too', () => {
  const record = new ClusterCheckpointRecord();
  record.apply({ type: 'begin', id: 1, members: ['n1', 'toString'], at: 0 }, 1);
  record.apply(
    { type: 'ack', id: 1, node: 'n1', checkpointId: 1, barrierLsn: 1, manifestKey: 'm', ackedAt: 0 },
    1,
  );
  const copy = ClusterCheckpointRecord.fromJSON(JSON.parse(JSON.stringify(record)));
  for (const each of [record, copy]) {
    expect(each.apply({ type: 'commit', id: 1, at: 1 }, 1)).toEqual({
      applied: false,
      why: '1 lacks the acks of toString',
    });
  }
});
