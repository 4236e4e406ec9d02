import { Network, textOf } from '../../../../support/raft/paper-harness';

/** §7 log compaction: a leader that no longer holds what a follower needs sends its snapshot instead. */
describe('raft core, §7 snapshots', () => {
  it('§7: a follower too far behind gets the snapshot, restores it, then catches up with appends', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.isolate('n3');
    net.propose('n1', 'a', 'b', 'c');
    net.stabilize();
    expect(net.compact('n1', 4)).toMatchObject({ index: 4, term: 1 });
    net.propose('n1', 'd');
    net.stabilize();
    net.heal();
    net.tick('n1'); // a heartbeat: n3 answers, the leader finds it needs what it compacted away
    net.stabilize();
    const snapshots = net
      .node('n1')
      .readies.flatMap((rd) => rd.messages.filter((m) => m.type === 'snapshot'));
    expect(snapshots.map((m) => [m.to, m.snapshot?.index, m.snapshot?.term])).toEqual([['n3', 4, 1]]);
    const n3 = net.node('n3');
    expect(n3.readies.filter((rd) => rd.snapshot !== undefined).map((rd) => rd.snapshot?.index)).toEqual([4]);
    expect(n3.disk.snapshot?.index).toBe(4);
    expect(net.log('n3')).toBe('5@1');
    expect(n3.applied.map(textOf)).toEqual(['d']);
    expect(net.status('n3')).toMatchObject({ commit: 5, applied: 5, snapshotIndex: 4 });
    expect(net.status('n1').progress.get('n3')).toMatchObject({ match: 5, state: 'replicate' });
  });

  it('§7: a node that comes back with a wiped log as a new member is brought up by a snapshot', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.propose('n1', 'a', 'b');
    net.stabilize();
    net.raft('n1').proposeConfigChange({ type: 'remove', node: 'n3' });
    net.flush('n1');
    net.stabilize();
    expect(net.status('n1').membership).toEqual({ voters: ['n1', 'n2'], learners: [] });
    net.compact('n1', net.status('n1').applied);
    // n3's disk is wiped: it starts from nothing and is added back, as a learner.
    net.drop();
    net.add('n3');
    net.raft('n1').proposeConfigChange({ type: 'addLearner', node: 'n3', address: '' });
    net.flush('n1');
    net.stabilize();
    const n3 = net.node('n3');
    expect(n3.readies.filter((rd) => rd.snapshot !== undefined).map((rd) => rd.snapshot?.index)).toEqual([4]);
    expect(net.status('n3')).toMatchObject({
      commit: 5,
      lastIndex: 5,
      snapshotIndex: 4,
      membership: { voters: ['n1', 'n2'], learners: ['n3'] },
    });
  });
});
