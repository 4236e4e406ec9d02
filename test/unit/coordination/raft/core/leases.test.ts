import { message } from '../../../../../src/coordination/raft/core';
import { Network } from '../../../../support/raft/paper-harness';

/**
 * The dissertation's guards against disruptive servers (§9.6 pre-vote, §6.2 check-quorum, §4.2.3 the lease on
 * votes), which the core turns on by default.
 */
describe('raft core, pre-vote, check-quorum and the vote lease', () => {
  it('§9.6: a node rejoining after a partition does not raise its term and does not depose the leader', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.isolate('n3');
    const hardStates = () => net.node('n3').readies.filter((rd) => rd.hardState !== undefined).length;
    const before = hardStates();
    for (let tick = 0; tick < 50; tick++) {
      net.tick('n1');
      net.tick('n3'); // five election timeouts: five pre-votes, all lost
      net.stabilize();
    }
    expect(net.status('n3')).toMatchObject({ term: 1, role: 'preCandidate' });
    expect(hardStates()).toBe(before); // nothing new to persist: no term, no vote
    net.heal();
    net.tick('n3', 10); // another pre-vote, now heard: n1 leads and n2 hears from it, so both ignore it
    expect(net.deliver({ from: 'n3' }).map((m) => m.type)).toEqual(['preVote', 'preVote']);
    expect(net.pending).toEqual([]);
    net.tick('n1');
    net.stabilize();
    expect(['n1', 'n2', 'n3'].map((id) => net.status(id))).toMatchObject([
      { role: 'leader', term: 1 },
      { role: 'follower', term: 1, leader: 'n1' },
      { role: 'follower', term: 1, leader: 'n1' },
    ]);
  });

  it('§6.2 check-quorum: a leader that hears from no majority for an election timeout steps down', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    for (let tick = 0; tick < 9; tick++) {
      net.tick('n1'); // the heartbeats are answered: the window that ends at the 10th tick saw a majority
      net.stabilize();
    }
    net.tick('n1');
    expect(net.status('n1').role).toBe('leader');
    // From here on a whole window passes without an answer (the last heartbeats are lost too).
    net.isolate('n1');
    net.drop();
    net.tick('n1', 9);
    expect(net.status('n1').role).toBe('leader');
    net.tick('n1');
    expect(net.status('n1')).toMatchObject({ role: 'follower', term: 1, leader: '' });
  });

  it('§4.2.3: a follower that heard from its leader within the election timeout ignores (pre-)vote requests', () => {
    const net = new Network(['n1', 'n2', 'n3'], {}, { n2: { random: () => 0.5 } });
    net.elect('n1');
    const ask = (type: 'vote' | 'preVote') =>
      net.step(message({ type, from: 'n3', to: 'n2', term: 2, index: 1, logTerm: 1 }));
    ask('preVote');
    ask('vote');
    expect(net.pending).toEqual([]);
    expect(net.status('n2')).toMatchObject({ term: 1, vote: 'n1', leader: 'n1' });
    // An election timeout without the leader (n2's own timeout is 15 ticks): the lease is over.
    net.tick('n2', 10);
    ask('vote');
    expect(net.take()).toEqual([message({ type: 'voteResponse', from: 'n2', to: 'n3', term: 2 })]);
  });

  it('§4.2.3: a vote request of a leadership transfer (force) is granted within the lease', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.step(message({ type: 'vote', from: 'n3', to: 'n2', term: 2, index: 1, logTerm: 1, force: true }));
    expect(net.take()).toEqual([message({ type: 'voteResponse', from: 'n2', to: 'n3', term: 2 })]);
    expect(net.status('n2')).toMatchObject({ term: 2, vote: 'n3' });
  });

  it('§4.2.3: the vote request that follows a won pre-vote does not pass the lease (only a transfer’s does)', () => {
    // n3 cannot reach the leader n1; n2 has just restarted (it knows no leader) and grants n3's pre-vote.
    const net = new Network(['n1', 'n2', 'n3', 'n4', 'n5'], {}, { n4: { random: () => 0.5 } });
    net.elect('n1');
    net.cut('n1', 'n3');
    net.crash('n2');
    net.restart('n2');
    net.tick('n4', 5); // n4 still hears n1: within its lease
    net.tick('n5', 10); // n5 does not (and campaigns: its pre-vote is lost)
    net.drop();
    net.tick('n3', 10);
    net.stabilize({ type: ['preVote', 'preVoteResponse'] });
    expect(net.status('n3')).toMatchObject({ role: 'candidate', term: 2 });
    net.deliver({ type: 'vote', to: 'n4' });
    expect(net.take({ from: 'n4' })).toEqual([]);
    expect(net.status('n4')).toMatchObject({ term: 1, vote: 'n1', leader: 'n1' });
  });
});
