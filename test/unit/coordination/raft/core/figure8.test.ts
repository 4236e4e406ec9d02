import { describeLog, Network } from '../../../../support/raft/paper-harness';

/**
 * §5.4.2 and Figure 8: a leader may not conclude that an entry of an earlier term is committed because it is
 * stored on a majority; only entries of its own term commit by counting replicas. The paper's algorithm
 * (no pre-vote, no check-quorum), five servers, one entry per append so that a follower can be given 2@2
 * without 3@4. Each leader also appends its no-op, so index 1 is term 1's no-op and each new leader's no-op is
 * "its entry" of the figure.
 */
const servers = ['s1', 's2', 's3', 's4', 's5'];

/** Elects `id` in the next term with the votes of `voters` only (their vote requests; the rest are lost). */
function electWith(net: Network, id: string, voters: string[]): void {
  net.tick(id, 10);
  net.drop((m) => m.type === 'vote' && !voters.includes(m.to));
  net.stabilize({ type: ['vote', 'voteResponse'] });
}

/** Figure 8 (a) to (c): s1, leader of term 4, has sent 2@2 to s3 and s4 but not yet its own 3@4. */
function figure8c(): Network {
  const net = new Network(servers, { preVote: false, checkQuorum: false, maxMessageBytes: 1 });
  net.elect('s1');
  net.stabilize();
  // (a) s1 leads term 2 (after a restart) and replicates its 2@2 to s2 only.
  net.crash('s1');
  net.restart('s1');
  electWith(net, 's1', ['s2', 's3', 's4', 's5']);
  expect(net.status('s1')).toMatchObject({ role: 'leader', term: 2 });
  net.deliver({ type: 'append', to: 's2' });
  net.stabilize({ type: 'appendResponse' });
  net.drop();
  // (b) s1 crashes; s5 is elected for term 3 by s3, s4 and itself, and appends 2@3 alone.
  net.crash('s1');
  electWith(net, 's5', ['s3', 's4']);
  expect(net.status('s5')).toMatchObject({ role: 'leader', term: 3 });
  net.drop();
  net.crash('s5');
  // (c) s5 crashes; s1 restarts, loses term 3 (s3 and s4 voted for s5) and wins term 4.
  net.restart('s1');
  electWith(net, 's1', ['s2', 's3', 's4']);
  expect(net.status('s1')).toMatchObject({ role: 'candidate', term: 3 });
  electWith(net, 's1', ['s2', 's3', 's4']);
  expect(net.status('s1')).toMatchObject({ role: 'leader', term: 4 });
  net.drop({ type: 'append', to: 's2' }); // s2 keeps 1@1 2@2
  // s3 and s4 reject 3@4's append (they lack 2), are sent 2@2 alone and acknowledge it; 3@4 is held.
  net.deliver({ type: 'append' });
  net.deliver({ type: 'appendResponse' });
  net.deliver({ type: 'append' });
  net.deliver({ type: 'appendResponse' });
  return net;
}

describe('raft core, §5.4.2 committing entries from previous terms (Figure 8)', () => {
  it('§5.4.2: a leader does not commit an entry of an earlier term by counting replicas, even on a majority', () => {
    const net = figure8c();
    expect(servers.map((id) => net.log(id))).toEqual([
      '1@1 2@2 3@4',
      '1@1 2@2',
      '1@1 2@2',
      '1@1 2@2',
      '1@1 2@3',
    ]);
    const progress = net.status('s1').progress;
    expect(['s1', 's3', 's4'].map((id) => progress.get(id)?.match)).toEqual([3, 2, 2]);
    expect(net.status('s1').commit).toBe(1);
  });

  it('§5.4.2 (Figure 8 d): such an entry can still be overwritten by a leader of a later term — which is why it is not committed', () => {
    const net = figure8c();
    net.drop();
    net.crash('s1');
    net.restart('s5');
    electWith(net, 's5', ['s2', 's3', 's4']); // term 4: they voted for s1 already
    electWith(net, 's5', ['s2', 's3', 's4']); // term 5: 2@3 is more up to date than 2@2
    expect(net.status('s5')).toMatchObject({ role: 'leader', term: 5 });
    net.stabilize();
    expect(['s2', 's3', 's4', 's5'].map((id) => net.log(id))).toEqual(Array(4).fill('1@1 2@3 3@5'));
    // Nobody ever applied 2@2: it was never committed.
    const appliedAt2 = servers.flatMap((id) =>
      net.node(id).readies.flatMap((rd) => rd.committed.filter((entry) => entry.index === 2)),
    );
    expect(appliedAt2.map((entry) => entry.term)).toEqual([3, 3, 3, 3]);
  });

  it('§5.4.2 (Figure 8 e): the earlier entry commits together with one of the leader’s term, and then no stale log can win', () => {
    const net = figure8c();
    const readies = net.node('s1').readies.length;
    net.stabilize(); // 3@4 reaches s3 and s4
    expect(net.status('s1').commit).toBe(3);
    // One Ready applies both: commit goes from 1 to 3 at once.
    const applied = net
      .node('s1')
      .readies.slice(readies)
      .filter((rd) => rd.committed.length > 0);
    expect(applied.map((rd) => describeLog(rd.committed))).toEqual(['2@2 3@4']);
    net.drop();
    net.crash('s1');
    net.restart('s5');
    for (let election = 0; election < 3; election++) {
      electWith(net, 's5', ['s2', 's3', 's4']);
      expect(net.status('s5').role).not.toBe('leader');
    }
    net.elect('s3');
    net.stabilize();
    expect(['s2', 's3', 's4', 's5'].map((id) => net.log(id))).toEqual(Array(4).fill('1@1 2@2 3@4 4@7'));
  });
});
