import { message, type ConfigChange } from '../../../../../src/coordination/raft/core';
import { Network, refusal, text } from '../../../../support/raft/paper-harness';

/** What the core refuses, and how: a refusal changes nothing. */
describe('raft core, bad input and flow control', () => {
  it('a proposal to a follower is refused with NOT_LEADER naming the leader it knows', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    const none = refusal(() => net.propose('n2', 'x'));
    expect([none.code, none.details]).toEqual(['NOT_LEADER', { leader: '' }]);
    net.elect('n1');
    const known = refusal(() => net.propose('n2', 'x'));
    expect([known.code, known.details]).toEqual(['NOT_LEADER', { leader: 'n1' }]);
    expect(net.status('n2').lastIndex).toBe(1);
    expect(net.raft('n2').hasReady()).toBe(false);
  });

  it('a message addressed to another node is ignored', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    const before = net.status('n2');
    net
      .raft('n2')
      .step(message({ type: 'vote', from: 'n3', to: 'n1', term: 9, index: 9, logTerm: 9, force: true }));
    net.raft('n2').step(message({ type: 'append', from: 'n3', to: 'n1', term: 9, entries: [] }));
    expect(net.status('n2')).toEqual(before);
    expect(net.raft('n2').hasReady()).toBe(false);
  });

  it('a membership change naming an unknown node or an existing member is refused with INVALID_ARGUMENT, and nothing changes', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    const bad: ConfigChange[] = [
      { type: 'remove', node: 'n9' },
      { type: 'promote', node: 'n9' },
      { type: 'promote', node: 'n2' },
      { type: 'addLearner', node: 'n2', address: '' },
      { type: 'addLearner', node: '', address: '' },
    ];
    const before = { status: net.status('n1'), log: net.log('n1') };
    for (const change of bad) {
      const error = refusal(() => net.raft('n1').proposeConfigChange(change));
      expect({ change, code: error.code }).toEqual({ change, code: 'INVALID_ARGUMENT' });
    }
    expect({ status: net.status('n1'), log: net.log('n1') }).toEqual(before);
    expect(net.raft('n1').hasReady()).toBe(false);
  });

  it('flow control: proposals beyond maxUncommittedEntries are refused with COORDINATION_UNAVAILABLE', () => {
    const net = new Network(['n1', 'n2', 'n3'], { maxUncommittedEntries: 3 });
    net.elect('n1');
    net.isolate('n1');
    net.propose('n1', 'a');
    net.propose('n1', 'b', 'c');
    for (const data of [['d'], ['d', 'e']]) {
      const error = refusal(() => net.raft('n1').propose(data.map(text)));
      expect(error.code).toBe('COORDINATION_UNAVAILABLE');
    }
    expect(net.status('n1')).toMatchObject({ lastIndex: 4, commit: 1 });
    net.heal();
    net.tick('n1');
    net.stabilize();
    expect(net.status('n1').commit).toBe(4);
    expect(net.propose('n1', 'd').index).toBe(5);
  });
});
