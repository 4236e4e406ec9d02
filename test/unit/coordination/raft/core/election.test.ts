import { message } from '../../../../../src/coordination/raft/core';
import { Network } from '../../../../support/raft/paper-harness';

/** §5.2 leader election, and Figure 2 "Rules for Servers: Followers / Candidates". */
describe('raft core, §5.2 leader election', () => {
  it('§5.2: a follower that hears nothing for an election timeout starts an election, with a pre-vote first that does not raise its term', () => {
    const net = new Network(['n1', 'n2', 'n3'], {}, { n1: { terms: [1, 1], term: 1 } });
    net.tick('n1', 9);
    expect(net.pending).toEqual([]);
    net.tick('n1');
    expect(net.take()).toEqual(
      ['n2', 'n3'].map((to) => message({ type: 'preVote', from: 'n1', to, term: 2, index: 2, logTerm: 1 })),
    );
    expect(net.status('n1')).toMatchObject({ role: 'preCandidate', term: 1, vote: '' });
    const last = net.node('n1').readies.at(-1);
    expect(last?.hardState).toBeUndefined();
    // Granting a pre-vote costs the voter nothing either: no term, no vote to persist.
    net.deliver({ type: 'preVote', to: 'n2' });
    expect(net.node('n2').readies.map((rd) => rd.hardState)).toEqual([undefined]);
    expect(net.status('n2')).toMatchObject({ term: 0, vote: '' });
  });

  it('§5.2: a follower starts its election timeout over when it hears from the leader or grants a vote', () => {
    const net = new Network(['n1', 'n2', 'n3'], { preVote: false, checkQuorum: false });
    net.elect('n1');
    net.tick('n3', 9);
    net.tick('n1'); // a heartbeat
    net.stabilize();
    net.tick('n3', 9);
    expect(net.status('n3').role).toBe('follower');
    // Term 2 from a candidate n3 refuses (its log is behind), then n3 grants n2's vote in that term.
    net.step(message({ type: 'vote', from: 'n1', to: 'n3', term: 2, index: 0, logTerm: 0 }));
    net.tick('n3', 9);
    net.step(message({ type: 'vote', from: 'n2', to: 'n3', term: 2, index: 1, logTerm: 1 }));
    expect(net.take({ from: 'n3' }).map((m) => [m.to, m.reject])).toEqual([
      ['n1', true],
      ['n2', false],
    ]);
    net.tick('n3', 9);
    expect(net.status('n3')).toMatchObject({ role: 'follower', term: 2, vote: 'n2' });
    net.tick('n3');
    expect(net.status('n3')).toMatchObject({ role: 'candidate', term: 3 });
  });

  it('§5.2: a candidate increments its term, votes for itself and asks every voter for its vote', () => {
    const net = new Network(['n1', 'n2', 'n3'], {}, { n1: { terms: [1, 1], term: 1 } });
    net.tick('n1', 10);
    net.deliver({ type: 'preVote', to: 'n2' });
    net.deliver({ type: 'preVoteResponse' }); // n2's grant: with n1's own, a majority of the pre-vote
    const rd = net.node('n1').readies.at(-1);
    expect(rd?.hardState).toEqual({ term: 2, vote: 'n1', commit: 0 });
    expect(rd?.messages).toEqual(
      ['n2', 'n3'].map((to) => message({ type: 'vote', from: 'n1', to, term: 2, index: 2, logTerm: 1 })),
    );
    expect(net.status('n1')).toMatchObject({ role: 'candidate', term: 2, vote: 'n1' });
  });

  it('§5.2: a candidate that wins votes from a majority becomes leader and sends every follower an append with its no-op', () => {
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const net = new Network(ids, { preVote: false });
    net.tick('n1', 10);
    net.deliver({ type: 'vote', to: 'n2' });
    net.deliver({ type: 'voteResponse' });
    expect(net.status('n1').role).toBe('candidate'); // 2 of 5
    net.deliver({ type: 'vote', to: 'n3' });
    net.deliver({ type: 'voteResponse' });
    expect(net.status('n1').role).toBe('leader'); // 3 of 5
    const rd = net.node('n1').readies.at(-1);
    expect(rd?.softState).toEqual({ role: 'leader', leader: 'n1' });
    expect(rd?.entries).toEqual([{ term: 1, index: 1, kind: 'normal', data: new Uint8Array() }]);
    const appends = ids
      .slice(1)
      .map((to) => message({ type: 'append', from: 'n1', to, term: 1, entries: rd?.entries }));
    expect(rd?.messages).toEqual(appends);
    // Then heartbeats, every heartbeatTicks, to keep the others from starting elections.
    net.drop();
    net.tick('n1');
    expect(net.take().map((m) => `${m.type}->${m.to}`)).toEqual(ids.slice(1).map((to) => `heartbeat->${to}`));
  });

  it('§5.2: a candidate that receives an append from a leader of its term becomes its follower', () => {
    const net = new Network(['n1', 'n2', 'n3'], { preVote: false });
    net.tick('n1', 10);
    net.tick('n2', 10); // two candidates of term 1
    net.deliver({ type: 'vote', from: 'n2', to: 'n3' });
    net.deliver({ type: 'voteResponse', to: 'n2' });
    expect(net.status('n2').role).toBe('leader');
    expect(net.status('n1')).toMatchObject({ role: 'candidate', term: 1 });
    net.deliver({ type: 'append', from: 'n2', to: 'n1' });
    expect(net.status('n1')).toMatchObject({ role: 'follower', term: 1, leader: 'n2', vote: 'n1' });
  });

  it('§5.2: election timeouts are chosen at random in [n, 2n) ticks, from the injected random source', () => {
    const timeoutWith = (r: number) => {
      const net = new Network(['n1', 'n2', 'n3'], { electionTicks: 10 }, { n1: { random: () => r } });
      let ticks = 0;
      while (net.status('n1').role === 'follower') {
        net.tick('n1');
        ticks++;
      }
      return ticks;
    };
    expect([0, 0.25, 0.5, 0.999].map(timeoutWith)).toEqual([10, 12, 15, 19]);
  });

  it('§5.2: each server votes for at most one candidate in a term, first come first served', () => {
    const net = new Network(['n1', 'n2', 'n3'], { preVote: false });
    net.tick('n1', 10);
    net.tick('n2', 10);
    const [fromN1] = net.take({ type: 'vote', from: 'n1', to: 'n3' });
    const [fromN2] = net.take({ type: 'vote', from: 'n2', to: 'n3' });
    if (fromN1 === undefined || fromN2 === undefined) throw new Error('no vote requests');
    net.step(fromN2);
    net.step(fromN1);
    net.step(fromN2); // asked again (a duplicate): the same answer
    expect(net.take({ from: 'n3' })).toEqual([
      message({ type: 'voteResponse', from: 'n3', to: 'n2', term: 1 }),
      message({ type: 'voteResponse', from: 'n3', to: 'n1', term: 1, reject: true }),
      message({ type: 'voteResponse', from: 'n3', to: 'n2', term: 1 }),
    ]);
    expect(net.status('n3')).toMatchObject({ term: 1, vote: 'n2' });
  });

  it('§5.2: a granted vote is in the hard state of the Ready that carries the vote response', () => {
    const net = new Network(['n1', 'n2', 'n3'], { preVote: false });
    net.tick('n1', 10);
    net.deliver({ type: 'vote', to: 'n2' });
    const readies = net.node('n2').readies;
    expect(readies).toHaveLength(1);
    expect(readies[0]?.hardState).toEqual({ term: 1, vote: 'n1', commit: 0 });
    expect(readies[0]?.messages).toEqual([message({ type: 'voteResponse', from: 'n2', to: 'n1', term: 1 })]);
  });
});
