import type { Entry, HardState, Snapshot } from '../../../../../src/coordination/raft/core';
import type { StoredRaftState } from '../../../../../src/coordination/raft/log-store';

/** Entry data that depends on index and term, so a read-back shows which entry it is. */
export function dataFor(index: number, term: number, bytes = 5 + ((index * 7 + term) % 40)): Buffer {
  const data = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (index * 31 + term * 17 + i) & 0xff;
  return data;
}

/** Entries `from..to` of `term`; every fifth a config entry. */
export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let index = from; index <= to; index++) {
    out.push({ term, index, kind: index % 5 === 0 ? 'config' : 'normal', data: dataFor(index, term) });
  }
  return out;
}

export function hardState(term: number, commit: number, vote = 'n2'): HardState {
  return { term, vote, commit };
}

export function snapshot(index: number, term: number, bytes = 300): Snapshot {
  return {
    index,
    term,
    membership: { voters: ['n1', 'n2', 'n3'], learners: ['n4-ünïcode'] },
    data: dataFor(index, term, bytes),
  };
}

/** A state with plain arrays and hex data, for toEqual whatever Uint8Array subclass the store returns. */
export function plain(state: StoredRaftState): unknown {
  return {
    hardState: state.hardState,
    snapshot: state.snapshot && {
      ...state.snapshot,
      membership: {
        voters: [...state.snapshot.membership.voters],
        learners: [...state.snapshot.membership.learners],
      },
      data: Buffer.from(state.snapshot.data).toString('hex'),
    },
    entries: state.entries.map((entry) => ({ ...entry, data: Buffer.from(entry.data).toString('hex') })),
  };
}
