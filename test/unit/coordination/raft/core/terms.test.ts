import { message, type MessageType } from '../../../../../src/coordination/raft/core';
import { Network } from '../../../../support/raft/paper-harness';

/** §5.1 and Figure 2 "Rules for Servers: All Servers" — terms act as a logical clock. */
describe('raft core, §5.1 terms', () => {
  it('§5.1: a server that sees a higher term in any message becomes a follower in that term', () => {
    const types: MessageType[] = [
      'append',
      'heartbeat',
      'appendResponse',
      'heartbeatResponse',
      'voteResponse',
      'preVoteResponse',
    ];
    for (const type of types) {
      const net = new Network(['n1', 'n2', 'n3']);
      net.elect('n1');
      // A rejection: a granted pre-vote response is the one message of a higher term that changes nothing.
      net.step(message({ type, from: 'n2', to: 'n1', term: 5, reject: type.endsWith('Response') }));
      const fromLeader = type === 'append' || type === 'heartbeat';
      expect({ type, ...net.status('n1') }).toMatchObject({
        type,
        role: 'follower',
        term: 5,
        vote: '',
        leader: fromLeader ? 'n2' : '',
      });
      expect(net.node('n1').disk.hardState).toEqual({ term: 5, vote: '', commit: 1 });
    }
  });

  it('§5.1: a candidate that sees a higher term becomes a follower in that term', () => {
    const net = new Network(['n1', 'n2', 'n3'], { preVote: false });
    net.tick('n1', 10);
    expect(net.status('n1')).toMatchObject({ role: 'candidate', term: 1 });
    net.step(message({ type: 'voteResponse', from: 'n2', to: 'n1', term: 3, reject: true }));
    expect(net.status('n1')).toMatchObject({ role: 'follower', term: 3, vote: '' });
  });

  it('§5.1: a server that receives a request with a stale term number rejects it, answering with its term', () => {
    const net = new Network(['n1', 'n2', 'n3'], {}, { n2: { terms: [1, 2], term: 2 } });
    const before = net.log('n2');
    net.step(message({ type: 'append', from: 'n3', to: 'n2', term: 1, index: 2, logTerm: 2 }));
    net.step(message({ type: 'heartbeat', from: 'n3', to: 'n2', term: 1 }));
    net.step(message({ type: 'preVote', from: 'n3', to: 'n2', term: 1, index: 9, logTerm: 9 }));
    expect(net.take()).toEqual([
      message({ type: 'appendResponse', from: 'n2', to: 'n3', term: 2 }),
      message({ type: 'appendResponse', from: 'n2', to: 'n3', term: 2 }),
      message({ type: 'preVoteResponse', from: 'n2', to: 'n3', term: 2, reject: true }),
    ]);
    expect(net.log('n2')).toBe(before);
    expect(net.status('n2')).toMatchObject({ term: 2, vote: '', leader: '' });
  });

  it('§5.1: a vote request of a stale term is not granted (dropped without an answer, as etcd does)', () => {
    const net = new Network(['n1', 'n2', 'n3'], {}, { n2: { terms: [1], term: 2 } });
    net.step(message({ type: 'vote', from: 'n3', to: 'n2', term: 1, index: 9, logTerm: 9 }));
    // The paper answers false with the current term; not answering is what a lost answer looks like, and the
    // candidate learns the term from its next pre-vote, which is answered (see the test above).
    expect(net.take()).toEqual([]);
    expect(net.status('n2')).toMatchObject({ term: 2, vote: '' });
  });

  it('§5.1: a leader that learns of a higher term steps down', () => {
    const net = new Network(['n1', 'n2', 'n3'], {}, { n3: { random: () => 0.5 } });
    net.elect('n1');
    net.isolate('n1');
    // n3's timeout is 15 ticks: after 10 its lease on n1 is over, and it has not campaigned itself.
    net.tick('n3', 10);
    net.elect('n2');
    expect(net.status('n2').term).toBe(2);
    net.heal();
    net.tick('n1'); // a heartbeat of term 1
    net.deliver({ from: 'n1', type: 'heartbeat' });
    expect(net.take({ to: 'n1' })).toEqual([
      message({ type: 'appendResponse', from: 'n2', to: 'n1', term: 2 }),
      message({ type: 'appendResponse', from: 'n3', to: 'n1', term: 2 }),
    ]);
    net.step(message({ type: 'appendResponse', from: 'n2', to: 'n1', term: 2 }));
    expect(net.status('n1')).toMatchObject({ role: 'follower', term: 2, leader: '' });
  });
});
