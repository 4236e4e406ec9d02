import { message, Raft, type Entry } from '../../../../../src/coordination/raft/core';

/**
 * A follower that already holds a snapshot's last entry keeps its log and commits up to it; its answer must
 * not claim the entries after that index, which may differ from the leader's.
 */
const entry = (index: number, term: number): Entry => ({
  index,
  term,
  kind: 'normal',
  data: new Uint8Array([index]),
});

function follower(): Raft {
  return new Raft({
    id: 'n2',
    initial: {
      hardState: { term: 2, vote: '', commit: 0 },
      snapshot: undefined,
      entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 2), entry(5, 2)],
      bootstrap: { voters: ['n1', 'n2', 'n3'], learners: [] },
    },
    electionTicks: 10,
    heartbeatTicks: 1,
    random: () => 0,
  });
}

it('answers a snapshot it holds the end of with the snapshot index, not its own last index', () => {
  const raft = follower();
  raft.step(
    message({
      type: 'snapshot',
      from: 'n1',
      to: 'n2',
      term: 3,
      snapshot: {
        index: 3,
        term: 1,
        membership: { voters: ['n1', 'n2', 'n3'], learners: [] },
        data: new Uint8Array(),
      },
    }),
  );
  const rd = raft.ready();
  expect(rd.snapshot).toBeUndefined(); // nothing to restore: the log holds entry 3 of term 1
  expect(rd.messages).toEqual([
    expect.objectContaining({ type: 'appendResponse', to: 'n1', index: 3, reject: false }),
  ]);
  expect(raft.status()).toMatchObject({ commit: 3, lastIndex: 5 });
});

it('answers a snapshot it restored with its index', () => {
  const raft = follower();
  raft.step(
    message({
      type: 'snapshot',
      from: 'n1',
      to: 'n2',
      term: 3,
      snapshot: {
        index: 7,
        term: 3,
        membership: { voters: ['n1', 'n2', 'n3'], learners: [] },
        data: new Uint8Array(),
      },
    }),
  );
  const rd = raft.ready();
  expect(rd.snapshot?.index).toBe(7);
  expect(rd.messages).toEqual([expect.objectContaining({ type: 'appendResponse', index: 7 })]);
});
