import type { ConfigChange } from '../../../../../src/coordination/raft/core';
import { Network, refusal } from '../../../../support/raft/paper-harness';

/** Dissertation §4: single-server membership changes, new servers joining as learners (non-voting, §4.2.1). */
describe('raft core, membership changes', () => {
  function change(net: Network, c: ConfigChange): void {
    net.raft('n1').proposeConfigChange(c);
    net.flush('n1');
    net.stabilize();
  }

  /** n1 leads n2 and n3; n4 has joined as a learner and caught up. */
  function withLearner(): Network {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.add('n4');
    change(net, { type: 'addLearner', node: 'n4', address: '' });
    expect(net.status('n1').membership).toEqual({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    return net;
  }

  it('§4.2.1: a learner receives the entries but neither campaigns nor counts toward a commit', () => {
    const net = withLearner();
    net.isolate('n2');
    net.isolate('n3');
    const { index } = net.propose('n1', 'x');
    net.stabilize();
    expect(net.node('n4').disk.entries.at(-1)?.index).toBe(index);
    expect(net.status('n1').commit).toBe(index - 1); // n1 and the learner: not a majority of 3 voters
    net.tick('n4', 50);
    expect(net.pending.filter((m) => m.from === 'n4')).toEqual([]);
    // Nor is it needed: n1 and n2 are a majority of the voters without it.
    net.heal();
    net.isolate('n3');
    net.isolate('n4');
    net.tick('n1');
    net.stabilize();
    const y = net.propose('n1', 'y');
    net.stabilize();
    expect(net.status('n1').commit).toBe(y.index);
    expect(y.index).toBe(index + 1);
  });

  it('§4.2.1: a learner is promoted only once it has caught up with the log', () => {
    const net = withLearner();
    net.isolate('n4');
    net.propose('n1', 'x');
    net.stabilize();
    const before = net.status('n1');
    const error = refusal(() => net.raft('n1').proposeConfigChange({ type: 'promote', node: 'n4' }));
    expect(error.code).toBe('PRECONDITION_FAILED'); // retryable: it may catch up
    expect(net.status('n1')).toEqual(before);
    net.heal();
    net.tick('n1');
    net.stabilize();
    change(net, { type: 'promote', node: 'n4' });
    expect(net.status('n1').membership).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
  });

  it('§4.1: a promoted learner is a voter: a majority is now 3 of 4, and it counts', () => {
    const net = withLearner();
    change(net, { type: 'promote', node: 'n4' });
    net.isolate('n2');
    const x = net.propose('n1', 'x');
    net.stabilize();
    expect(net.status('n1').commit).toBe(x.index); // n1, n3 and n4
    net.isolate('n3');
    const y = net.propose('n1', 'y');
    net.stabilize();
    expect(net.status('n1').commit).toBe(x.index); // n1 and n4 only
    expect(y.index).toBe(x.index + 1);
  });

  it('§4.1: a removed follower is sent nothing more, and the majority shrinks to the remaining voters', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    change(net, { type: 'remove', node: 'n3' });
    expect(net.status('n1').membership).toEqual({ voters: ['n1', 'n2'], learners: [] });
    expect([...net.status('n1').progress.keys()]).toEqual(['n1', 'n2']);
    const { index } = net.propose('n1', 'x');
    expect(net.pending.map((m) => m.to)).toEqual(['n2']);
    net.stabilize();
    expect(net.status('n1').commit).toBe(index);
  });

  it('§4.2.2: a leader that removes itself leads until the change commits, then steps down', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    const { index } = net.raft('n1').proposeConfigChange({ type: 'remove', node: 'n1' });
    net.flush('n1');
    net.deliver({ to: 'n2' });
    net.deliver({ from: 'n2' });
    // The new voters are n2 and n3 (the leader no longer counts itself): both are needed.
    expect(net.status('n1')).toMatchObject({ role: 'leader', commit: index - 1 });
    net.deliver({ to: 'n3' });
    net.deliver({ from: 'n3' });
    expect(net.status('n1')).toMatchObject({ role: 'follower', commit: index });
    // Its last words tell the others the change committed.
    expect(net.take({ from: 'n1' }).map((m) => [m.type, m.to, m.commit])).toEqual([
      ['append', 'n2', index],
      ['append', 'n3', index],
    ]);
    net.tick('n1', 50);
    expect(net.pending).toEqual([]); // not a voter: it never campaigns
  });

  it('§4.1: a second membership change is refused while one is uncommitted, and nothing changes', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.raft('n1').proposeConfigChange({ type: 'addLearner', node: 'n4', address: '' });
    net.flush('n1');
    const before = { status: net.status('n1'), log: net.log('n1') };
    const error = refusal(() =>
      net.raft('n1').proposeConfigChange({ type: 'addLearner', node: 'n5', address: '' }),
    );
    expect(error.code).toBe('PRECONDITION_FAILED');
    expect({ status: net.status('n1'), log: net.log('n1') }).toEqual(before);
    expect(net.raft('n1').hasReady()).toBe(false);
  });

  it('§4.1: a new leader refuses a membership change until it has committed an entry of its own term', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.tick('n1', 10);
    net.stabilize({ type: ['preVote', 'preVoteResponse', 'vote', 'voteResponse'] });
    expect(net.status('n1')).toMatchObject({ role: 'leader', commit: 0 });
    const before = net.status('n1');
    const learner: ConfigChange = { type: 'addLearner', node: 'n4', address: '' };
    expect(refusal(() => net.raft('n1').proposeConfigChange(learner)).code).toBe('PRECONDITION_FAILED');
    expect(net.status('n1')).toEqual(before);
    net.stabilize(); // the no-op commits
    expect(net.raft('n1').proposeConfigChange(learner)).toEqual({ index: 2, term: 1 });
  });
});
