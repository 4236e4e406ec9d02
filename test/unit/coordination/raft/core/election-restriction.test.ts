import { message } from '../../../../../src/coordination/raft/core';
import { Network } from '../../../../support/raft/paper-harness';

/** §5.4.1: a vote goes only to a candidate whose log is at least as up to date as the voter's. */
describe('raft core, §5.4.1 election restriction', () => {
  /** n3 holds 1@1 2@2 and knows no leader; n1 asks for its vote in term 3 with the given last entry. */
  function answerTo(lastIndex: number, lastTerm: number) {
    const net = new Network(['n1', 'n2', 'n3'], {}, { n3: { terms: [1, 2] } });
    net.step(message({ type: 'vote', from: 'n1', to: 'n3', term: 3, index: lastIndex, logTerm: lastTerm }));
    const [answer] = net.take({ from: 'n3' });
    return { granted: answer?.reject === false, vote: net.status('n3').vote, term: net.status('n3').term };
  }

  it('§5.4.1: a voter denies its vote to a candidate whose last entry has a lower term, however long its log', () => {
    expect(answerTo(9, 1)).toEqual({ granted: false, vote: '', term: 3 });
  });

  it('§5.4.1: a voter denies its vote to a candidate whose last term is the same but whose log is shorter', () => {
    expect(answerTo(1, 2)).toEqual({ granted: false, vote: '', term: 3 });
  });

  it('§5.4.1: a voter grants its vote to a candidate whose log is at least as up to date', () => {
    expect([answerTo(2, 2), answerTo(3, 2), answerTo(1, 3)]).toEqual([
      { granted: true, vote: 'n1', term: 3 },
      { granted: true, vote: 'n1', term: 3 },
      { granted: true, vote: 'n1', term: 3 },
    ]);
  });

  it('§5.4.1: a candidate whose log lacks a committed entry cannot win an election', () => {
    const net = new Network(
      ['n1', 'n2', 'n3'],
      { preVote: false },
      {
        n1: { terms: [1], commit: 1 },
        n2: { terms: [1, 1], commit: 2 },
        n3: { terms: [1, 1], commit: 2, random: () => 0.5 },
      },
    );
    for (let election = 0; election < 3; election++) {
      net.tick('n1', 10);
      net.stabilize();
      expect(net.status('n1').role).toBe('follower');
    }
    expect(net.status('n1').term).toBe(4);
    net.elect('n2');
    net.stabilize();
    expect(net.log('n1')).toBe('1@1 2@1 3@5');
  });
});
