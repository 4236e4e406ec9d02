import { message } from '../../../../../src/coordination/raft/core';
import { Network, refusal } from '../../../../support/raft/paper-harness';

/** Dissertation §3.10: leadership transfer — catch the target up, then tell it to campaign at once. */
describe('raft core, leadership transfer', () => {
  /** n1 leads; n3 missed two entries while cut off. */
  function withLaggingN3(): Network {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.isolate('n3');
    net.propose('n1', 'a', 'b');
    net.stabilize();
    net.heal();
    return net;
  }

  it('§3.10: the leader first brings the target up to date, then sends it timeoutNow, and the target wins at once', () => {
    const net = withLaggingN3();
    net.raft('n1').transferLeadership('n3');
    net.flush('n1');
    expect(net.pending.map((m) => [m.type, m.to])).toEqual([['append', 'n3']]);
    // Until n3 holds the whole log, no timeoutNow.
    for (let trip = 0; !net.pending.some((m) => m.type === 'timeoutNow'); trip++) {
      if (trip > 5) throw new Error('no timeoutNow');
      net.deliver();
    }
    expect(net.status('n3').lastIndex).toBe(3);
    expect(net.take()).toEqual([message({ type: 'timeoutNow', from: 'n1', to: 'n3', term: 1 })]);
    net.step(message({ type: 'timeoutNow', from: 'n1', to: 'n3', term: 1 }));
    // A real vote at once (no pre-vote), marked so that n2's lease on n1 does not stop it.
    expect(net.pending.map((m) => [m.type, m.to, m.term, m.force])).toEqual([
      ['vote', 'n1', 2, true],
      ['vote', 'n2', 2, true],
    ]);
    net.stabilize();
    expect(net.status('n3')).toMatchObject({ role: 'leader', term: 2 });
    expect(net.status('n1')).toMatchObject({ role: 'follower', term: 2, leader: 'n3' });
  });

  it('§3.10: proposals are refused while a transfer is in progress', () => {
    const net = withLaggingN3();
    net.raft('n1').transferLeadership('n3');
    const before = net.status('n1').lastIndex;
    const error = refusal(() => net.propose('n1', 'c'));
    expect([error.code, error.details]).toEqual(['NOT_LEADER', { leader: 'n3' }]);
    const change = refusal(() => net.raft('n1').proposeConfigChange({ type: 'remove', node: 'n2' }));
    expect(change.code).toBe('PRECONDITION_FAILED');
    expect(net.status('n1')).toMatchObject({ lastIndex: before, leadTransferee: 'n3' });
  });

  it('§3.10: a transfer that has not completed within an election timeout is abandoned', () => {
    const net = withLaggingN3();
    net.isolate('n3');
    net.raft('n1').transferLeadership('n3');
    for (let tick = 1; tick < 10; tick++) {
      net.tick('n1');
      net.stabilize(); // n2 answers: the leader keeps its quorum
    }
    expect(net.status('n1')).toMatchObject({ role: 'leader', leadTransferee: 'n3' });
    net.tick('n1');
    expect(net.status('n1')).toMatchObject({ role: 'leader', leadTransferee: '' });
    expect(net.propose('n1', 'c').index).toBe(4);
  });
});
