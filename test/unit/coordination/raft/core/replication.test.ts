import { message, type Entry } from '../../../../../src/coordination/raft/core';
import { entriesOfTerms, Network, text, textOf } from '../../../../support/raft/paper-harness';

/** §5.3 log replication, and Figure 2 "AppendEntries RPC" / "Rules for Servers: Leaders". */
describe('raft core, §5.3 log replication', () => {
  it("§5.3: a leader appends a client's command to its log and sends it to every follower", () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.raft('n1').propose([text('x')]);
    const rd = net.raft('n1').ready();
    const entry: Entry = { term: 1, index: 2, kind: 'normal', data: text('x') };
    expect(rd.entries).toEqual([entry]);
    expect(rd.messages).toEqual(
      ['n2', 'n3'].map((to) =>
        message({
          type: 'append',
          from: 'n1',
          to,
          term: 1,
          index: 1,
          logTerm: 1,
          entries: [entry],
          commit: 1,
        }),
      ),
    );
  });

  it("§5.3: an entry commits once a majority has persisted it; the leader's own copy counts once advanced", () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.paused.add('n1');
    // x: the leader has persisted it (advanced), no follower has: 1 of 3.
    net.raft('n1').propose([text('x')]);
    net.ready('n1');
    net.advance('n1');
    expect(net.status('n1').commit).toBe(1);
    net.deliver({ type: 'append', to: 'n2' });
    net.deliver({ type: 'appendResponse', from: 'n2' });
    expect(net.status('n1').commit).toBe(2);
    net.ready('n1');
    net.advance('n1');
    // y: n2 has persisted it, the leader has not advanced its Ready yet: 1 of 3 again.
    net.raft('n1').propose([text('y')]);
    net.ready('n1');
    net.deliver({ type: 'append', to: 'n2' });
    net.deliver({ type: 'appendResponse', from: 'n2' });
    expect(net.status('n1').commit).toBe(2);
    net.advance('n1');
    expect(net.status('n1').commit).toBe(3);
  });

  it('§5.3: followers learn the commit index from the leader and apply committed entries in log order', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.propose('n1', 'a');
    net.propose('n1', 'b', 'c');
    net.stabilize();
    for (const id of ['n1', 'n2', 'n3']) {
      const node = net.node(id);
      expect({ id, applied: node.applied.map((e) => `${e.index}:${textOf(e)}`) }).toEqual({
        id,
        applied: ['1:', '2:a', '3:b', '4:c'],
      });
      expect(node.disk.hardState.commit).toBe(4);
    }
  });

  it('§5.3: a follower refuses an append whose previous entry (index and term) it does not hold', () => {
    const net = new Network(['n1', 'n2', 'n3'], {}, { n2: { terms: [1, 1], term: 2 } });
    const append = (index: number, logTerm: number) =>
      message({ type: 'append', from: 'n1', to: 'n2', term: 2, index, logTerm, entries: [] });
    net.step(append(3, 2)); // n2 has no entry 3
    net.step(append(2, 2)); // n2's entry 2 is of term 1
    expect(net.take()).toEqual([
      message({
        type: 'appendResponse',
        from: 'n2',
        to: 'n1',
        term: 2,
        index: 3,
        reject: true,
        rejectHint: 2,
        logTerm: 1,
      }),
      message({
        type: 'appendResponse',
        from: 'n2',
        to: 'n1',
        term: 2,
        index: 2,
        reject: true,
        rejectHint: 2,
        logTerm: 1,
      }),
    ]);
    expect(net.log('n2')).toBe('1@1 2@1');
  });

  it("§5.3: a conflicting entry and all that follow it are deleted, and the leader's entries appended", () => {
    const net = new Network(['n1', 'n2', 'n3'], {}, { n2: { terms: [1, 1, 2, 2], commit: 2 } });
    const entries = entriesOfTerms([3], 3);
    net.step(
      message({ type: 'append', from: 'n1', to: 'n2', term: 3, index: 2, logTerm: 1, entries, commit: 3 }),
    );
    expect(net.node('n2').readies.at(-1)?.entries).toEqual(entries);
    expect(net.log('n2')).toBe('1@1 2@1 3@3');
    expect(net.status('n2')).toMatchObject({ term: 3, leader: 'n1', commit: 3, lastIndex: 3 });
    expect(net.take()).toEqual([
      message({ type: 'appendResponse', from: 'n2', to: 'n1', term: 3, index: 3 }),
    ]);
  });

  it('§5.3: a follower commits no further than the last entry the append gave it, min(leaderCommit, last new)', () => {
    // n2's 3@2 4@2 are stale: the leader's commit index (4) covers its own entries 3 and 4, not these.
    const net = new Network(['n1', 'n2', 'n3'], {}, { n2: { terms: [1, 1, 2, 2], commit: 1 } });
    const entries = entriesOfTerms([1], 2);
    net.step(
      message({ type: 'append', from: 'n1', to: 'n2', term: 3, index: 1, logTerm: 1, entries, commit: 4 }),
    );
    expect(net.log('n2')).toBe('1@1 2@1 3@2 4@2');
    expect(net.status('n2').commit).toBe(2);
  });

  it('§5.3: a heartbeat never carries a commit index beyond what the leader knows the follower holds', () => {
    // n3 holds 2@1 3@1 from term 1, never committed; the leader of term 2 committed its own 2@2 3@2.
    const net = new Network(
      ['n1', 'n2', 'n3'],
      {},
      {
        n1: { terms: [1], commit: 1 },
        n2: { terms: [1], commit: 1 },
        n3: { terms: [1, 1, 1], commit: 1 },
      },
    );
    net.tick('n1', 10);
    net.stabilize((m) => m.to !== 'n3' && m.from !== 'n3');
    net.propose('n1', 'x');
    net.stabilize((m) => m.to !== 'n3' && m.from !== 'n3');
    expect(net.status('n1')).toMatchObject({ role: 'leader', term: 2, commit: 3 });
    net.drop();
    net.tick('n1');
    expect(net.deliver({ type: 'heartbeat', to: 'n3' }).map((m) => m.commit)).toEqual([0]);
    expect(net.status('n3').commit).toBe(1);
    expect(net.node('n3').applied.map((e) => `${e.index}@${e.term}`)).toEqual(['1@1']);
  });

  it('§5.3: a duplicate or reordered append never truncates entries the follower already holds', () => {
    const net = new Network(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.propose('n1', 'a');
    net.propose('n1', 'b');
    const [first, second] = net.take({ type: 'append', to: 'n2' });
    if (first === undefined || second === undefined) throw new Error('expected two appends');
    net.step(first);
    net.step(second);
    expect(net.log('n2')).toBe('1@1 2@1 3@1');
    const readies = net.node('n2').readies.length;
    net.step(first); // late, again
    expect(net.log('n2')).toBe('1@1 2@1 3@1');
    expect(
      net
        .node('n2')
        .readies.slice(readies)
        .flatMap((rd) => rd.entries),
    ).toEqual([]);
    expect(net.take({ from: 'n2' }).map((m) => [m.index, m.reject])).toEqual([
      [2, false],
      [3, false],
      [2, false],
    ]);
  });
});
