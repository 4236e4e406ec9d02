import { message } from '../../../../../src/coordination/raft/core';
import { Network } from '../../../../support/raft/paper-harness';

/**
 * Dissertation §6.4 (ReadIndex): a leader serves a linearizable read at its commit index once a heartbeat
 * round shows a majority still follows it, and only after it has committed an entry of its own term.
 */
describe('raft core, ReadIndex (§6.4)', () => {
  it('§6.4: on a single-voter cluster a read is confirmed at once, at the commit index', () => {
    const net = new Network(['n1']);
    net.elect('n1');
    net.raft('n1').readIndex(1);
    net.flush('n1');
    expect(net.node('n1').readStates).toEqual([{ index: 1, requestId: 1 }]);
    expect(net.pending).toEqual([]);
  });

  it('§6.4: a read is confirmed only once a majority has answered the heartbeat carrying its request', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.propose('n1', 'x');
    net.stabilize();
    net.raft('n1').readIndex(7);
    net.flush('n1');
    expect(net.pending).toEqual(
      ['n2', 'n3'].map((to) =>
        message({ type: 'heartbeat', from: 'n1', to, term: 1, commit: 2, context: 7 }),
      ),
    );
    net.deliver({ to: 'n2' });
    expect(net.node('n1').readStates).toEqual([]); // the answer is on its way: only the leader so far
    net.deliver({ from: 'n2' });
    expect(net.node('n1').readStates).toEqual([{ index: 2, requestId: 7 }]);
  });

  it('§6.4: a deposed leader never confirms a read', () => {
    const slow = { random: () => 0.5 }; // a 15-tick timeout: their lease on n1 runs out first
    const net = new Network(['n1', 'n2', 'n3', 'n4', 'n5'], {}, { n3: slow, n4: slow });
    net.elect('n1');
    // n2, n3 and n4 elect n2 in term 2 while n1 and n5 cannot hear them.
    for (const outside of ['n1', 'n5']) for (const inside of ['n2', 'n3', 'n4']) net.cut(outside, inside);
    net.tick('n3', 10);
    net.tick('n4', 10);
    net.elect('n2');
    net.heal();
    net.raft('n1').readIndex(1); // n1 still believes it leads term 1
    net.flush('n1');
    expect(net.pending.map((m) => [m.type, m.to, m.context])).toEqual(
      ['n2', 'n3', 'n4', 'n5'].map((to) => ['heartbeat', to, 1]),
    );
    // n5, still in term 1, confirms: with n1 that is 2 of 5. The others answer with term 2.
    net.deliver({ to: 'n5' });
    net.deliver({ from: 'n5' });
    expect(net.node('n1').readStates).toEqual([]);
    net.stabilize();
    expect(net.status('n1')).toMatchObject({ role: 'follower', term: 2 });
    net.tick('n2');
    net.stabilize();
    expect(net.node('n1').readStates).toEqual([]);
  });

  it('§6.4: a new leader takes a read’s index only once its no-op has committed', () => {
    const net = new Network(['n1', 'n2', 'n3'], {}, { n3: { random: () => 0.5 } });
    net.elect('n1');
    // n1 commits x with n2's copy, and dies before anyone learns that x committed.
    net.propose('n1', 'x');
    net.deliver({ type: 'append', to: 'n2' });
    net.deliver({ from: 'n2' });
    expect(net.status('n1').commit).toBe(2);
    net.drop();
    net.crash('n1');
    net.tick('n3', 10);
    net.tick('n2', 10);
    net.stabilize({ type: ['preVote', 'preVoteResponse', 'vote', 'voteResponse'] });
    expect(net.status('n2')).toMatchObject({ role: 'leader', term: 2, commit: 1 });
    // Answering now with commit 1 would miss x, which a client may have seen applied.
    net.raft('n2').readIndex(5);
    net.flush('n2');
    expect(net.pending.filter((m) => m.context === 5)).toEqual([]);
    net.stabilize();
    expect(net.status('n2').commit).toBe(3);
    expect(net.node('n2').readStates).toEqual([{ index: 3, requestId: 5 }]);
  });
});
