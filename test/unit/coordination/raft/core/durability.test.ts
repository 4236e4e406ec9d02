import { message, type Ready } from '../../../../../src/coordination/raft/core';
import { Network, text, textOf } from '../../../../support/raft/paper-harness';

/**
 * Figure 2 "Persistent state on all servers (updated on stable storage before responding to RPCs)": the
 * driver persists what a Ready hands it before sending its messages, so what survives a crash is what the
 * Ready said, and a message never promises more than the disk holds.
 */
describe('raft core, durability (Figure 2 persistent state)', () => {
  it('Figure 2: a vote survives a crash — the restarted server does not vote for another candidate in that term', () => {
    const net = new Network(['n1', 'n2', 'n3'], { preVote: false });
    net.tick('n1', 10);
    net.deliver({ type: 'vote', to: 'n3' }); // n3 votes for n1 in term 1
    net.drop();
    net.crash('n3');
    net.restart('n3');
    expect(net.status('n3')).toMatchObject({ term: 1, vote: 'n1' });
    net.tick('n2', 10);
    net.deliver({ type: 'vote', to: 'n3' });
    expect(net.take({ from: 'n3' })).toEqual([
      message({ type: 'voteResponse', from: 'n3', to: 'n2', term: 1, reject: true }),
    ]);
  });

  it('Figure 2: the current term and the commit index survive a restart, and the committed entries are applied again', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.propose('n1', 'x');
    net.stabilize();
    for (const id of ['n1', 'n2', 'n3']) {
      net.crash(id);
      net.restart(id);
      const status = net.status(id);
      expect({ id, term: status.term, commit: status.commit, role: status.role }).toEqual({
        id,
        term: 1,
        commit: 2,
        role: 'follower',
      });
      expect(net.node(id).applied.map(textOf)).toEqual(['', 'x']);
    }
  });

  it('Figure 2: entries reach the disk in the same Ready as the messages that carry or acknowledge them, or an earlier one', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.paused.add('n1');
    net.raft('n1').propose([text('a')]);
    const first = net.ready('n1');
    net.raft('n1').propose([text('b')]); // while the first Ready is out: it waits for the next
    net.deliver({ to: 'n2' });
    net.advance('n1');
    const second = net.ready('n1');
    net.advance('n1');
    const carried = (rd: Ready) =>
      rd.messages.filter((m) => m.type === 'append').map((m) => m.entries.map(textOf).join(','));
    expect([first.entries.map(textOf), carried(first)]).toEqual([['a'], ['a', 'a']]);
    expect([second.entries.map(textOf), carried(second)]).toEqual([['b'], ['b', 'b']]);
    // Every node, every Ready: what a message carries or acknowledges is durable once that Ready is persisted.
    net.paused.clear();
    net.stabilize();
    for (const node of net.nodes.values()) {
      let durable = 0;
      for (const rd of node.readies) {
        if (rd.snapshot) durable = rd.snapshot.index;
        durable = rd.entries.at(-1)?.index ?? durable; // the log is replaced from entries[0] on
        for (const m of rd.messages) {
          const promised =
            m.type === 'appendResponse' && !m.reject ? m.index : (m.entries.at(-1)?.index ?? 0);
          expect({ node: node.id, promised: Math.min(promised, durable) }).toEqual({
            node: node.id,
            promised,
          });
        }
      }
    }
  });
});
