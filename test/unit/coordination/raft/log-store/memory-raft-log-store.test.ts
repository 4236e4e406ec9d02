import { MemoryRaftLogStore, type RaftLogStore } from '../../../../../src/coordination/raft/log-store';
import { entries, hardState, plain } from './log-store-fixtures';
import { describeRaftLogStoreContract } from './raft-log-store-contract';

describeRaftLogStoreContract('MemoryRaftLogStore', () => ({
  create: async () => new MemoryRaftLogStore(),
  restart: async (store: RaftLogStore) => (store as MemoryRaftLogStore).crash(),
  cleanup: async () => undefined,
}));

describe('MemoryRaftLogStore crash model', () => {
  it('keeps every save made before crash(); the crashed instance refuses everything and changes nothing', async () => {
    const store = new MemoryRaftLogStore();
    await store.load();
    await store.save({ entries: entries(1, 5, 1), hardState: hardState(1, 2) });
    // Called, not yet awaited: a save is applied whole when called, so it is kept (as a real save whose
    // fdatasync finished just before the process died).
    const inFlight = store.save({ entries: entries(6, 6, 1) });
    const restarted = store.crash();
    await inFlight;
    await expect(store.save({ entries: entries(7, 7, 1) })).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(store.load()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(plain(await restarted.load())).toEqual(
      plain({ hardState: hardState(1, 2), snapshot: undefined, entries: entries(1, 6, 1) }),
    );
  });

  it('a refused save changes nothing (a save is all or nothing)', async () => {
    const store = new MemoryRaftLogStore();
    await store.load();
    await store.save({ entries: entries(1, 3, 1) });
    await expect(
      store.save({ entries: [...entries(4, 4, 1), ...entries(6, 6, 1)], hardState: hardState(5, 4) }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(plain(await store.crash().load())).toEqual(
      plain({ hardState: { term: 0, vote: '', commit: 0 }, snapshot: undefined, entries: entries(1, 3, 1) }),
    );
  });
});
