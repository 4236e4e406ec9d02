import { message } from '../../../../../src/coordination/raft/core';
import { Network, refusal, text, textOf } from '../../../../support/raft/paper-harness';

/** Proposal forwarding (etcd's MsgProp): a follower hands its proposals to the leader it knows. */
describe('raft core, forwarded proposals', () => {
  it('a follower forwards to its leader, which appends them as its own entries and commits them', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    expect(net.raft('n2').proposeAnywhere([text('ack'), text('more')])).toBeUndefined();
    const forwarded = net.ready('n2').messages;
    expect(forwarded).toEqual([
      message({
        type: 'propose',
        from: 'n2',
        to: 'n1',
        term: 0,
        entries: [
          { term: 0, index: 0, kind: 'normal', data: text('ack') },
          { term: 0, index: 0, kind: 'normal', data: text('more') },
        ],
      }),
    ]);
    net.advance('n2');
    net.stabilize();
    for (const id of ['n1', 'n2', 'n3']) {
      const committed = net.node(id).applied.filter((e) => e.data.length > 0);
      expect(committed.map((e) => [e.term, textOf(e)])).toEqual([
        [1, 'ack'],
        [1, 'more'],
      ]);
    }
  });

  it('on the leader it is a proposal; with no leader known it is refused NOT_LEADER', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    expect(refusal(() => net.raft('n2').proposeAnywhere([text('x')])).code).toBe('NOT_LEADER');
    net.elect('n1');
    expect(net.raft('n1').proposeAnywhere([text('x')])).toEqual({ index: 2, term: 1 });
  });

  it('a forwarded proposal changes no term, and only the leader takes it (no second hop)', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    const before = [net.status('n1').term, net.status('n3').term];
    // Delivered to a follower (its sender thought n3 led): dropped, not passed on.
    net.step(message({ type: 'propose', from: 'n2', to: 'n3', term: 0, entries: [entry('stray')] }));
    expect(net.ready('n3').messages).toEqual([]);
    net.advance('n3');
    // From a node of a higher term, to the leader: appended in the leader's term, which stays.
    net.step(message({ type: 'propose', from: 'n2', to: 'n1', term: 0, entries: [entry('kept')] }));
    net.stabilize();
    expect([net.status('n1').term, net.status('n3').term]).toEqual(before);
    expect(
      net
        .node('n3')
        .applied.filter((e) => e.data.length > 0)
        .map((e) => textOf(e)),
    ).toEqual(['kept']);
  });

  it('the leader drops what a non-member forwards, and empty or config entries', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    const last = net.status('n1').lastIndex;
    net.step(message({ type: 'propose', from: 'n9', to: 'n1', term: 0, entries: [entry('x')] }));
    net.step(message({ type: 'propose', from: 'n2', to: 'n1', term: 0, entries: [entry('')] }));
    net.step(
      message({
        type: 'propose',
        from: 'n2',
        to: 'n1',
        term: 0,
        entries: [{ term: 0, index: 0, kind: 'config', data: text('c') }],
      }),
    );
    expect(net.status('n1').lastIndex).toBe(last);
  });
});

function entry(data: string) {
  return { term: 0, index: 0, kind: 'normal' as const, data: text(data) };
}
