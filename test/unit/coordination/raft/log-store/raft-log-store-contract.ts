import { EMPTY_HARD_STATE } from '../../../../../src/coordination/raft/core';
import type { RaftLogStore } from '../../../../../src/coordination/raft/log-store';
import { entries, hardState, plain, snapshot } from './log-store-fixtures';

/** How a contract run gets at a store: a fresh one, and the same storage opened again after a restart. */
export interface LogStoreHarness {
  create(): Promise<RaftLogStore>;
  /** Ends `store` (closed, or crashed) and opens the same storage anew, not yet loaded. */
  restart(store: RaftLogStore): Promise<RaftLogStore>;
  cleanup(): Promise<void>;
}

/** What both RaftLogStores must do alike (docs/raft-log-store.md). */
export function describeRaftLogStoreContract(name: string, makeHarness: () => LogStoreHarness): void {
  describe(`${name}: the RaftLogStore contract`, () => {
    let harness: LogStoreHarness;
    let store: RaftLogStore;

    beforeEach(async () => {
      harness = makeHarness();
      store = await harness.create();
      await store.load();
    });
    afterEach(async () => {
      await store.close();
      await harness.cleanup();
    });

    async function reloaded(): Promise<unknown> {
      store = await harness.restart(store);
      return plain(await store.load());
    }

    it('starts empty', async () => {
      expect(plain(await store.load())).toEqual({
        hardState: EMPTY_HARD_STATE,
        snapshot: undefined,
        entries: [],
      });
    });

    it('round trip: entries, hard state and a snapshot read back after a restart', async () => {
      await store.save({ entries: entries(1, 10, 1), hardState: hardState(1, 3) });
      await store.save({ entries: entries(11, 12, 2), hardState: hardState(2, 11, '') });
      await store.save({ entries: [], hardState: hardState(3, 12, 'n3') });
      await store.compact(snapshot(4, 1));
      await store.save({ entries: entries(13, 13, 3) });
      expect(await reloaded()).toEqual(
        plain({
          hardState: hardState(3, 12, 'n3'),
          snapshot: snapshot(4, 1),
          entries: [...entries(5, 10, 1), ...entries(11, 12, 2), ...entries(13, 13, 3)],
        }),
      );
    });

    it('a save from the middle of the log replaces the conflicting suffix', async () => {
      await store.save({ entries: entries(1, 10, 1) });
      await store.save({ entries: entries(6, 8, 2) });
      const expected = {
        hardState: EMPTY_HARD_STATE,
        snapshot: undefined,
        entries: [...entries(1, 5, 1), ...entries(6, 8, 2)],
      };
      expect(plain(await store.load())).toEqual(plain(expected));
      expect(await reloaded()).toEqual(plain(expected));
      // And the log goes on from the new end.
      await store.save({ entries: entries(9, 9, 2) });
      expect(await reloaded()).toEqual(
        plain({ ...expected, entries: [...expected.entries, ...entries(9, 9, 2)] }),
      );
    });

    it("a leader's snapshot over a prefix of the log drops the entries it covers and keeps the rest", async () => {
      await store.save({ entries: entries(1, 10, 1) });
      await store.save({ snapshot: snapshot(6, 1), entries: [], hardState: hardState(2, 6) });
      const expected = plain({
        hardState: hardState(2, 6),
        snapshot: snapshot(6, 1),
        entries: entries(7, 10, 1),
      });
      expect(plain(await store.load())).toEqual(expected);
      expect(await reloaded()).toEqual(expected);
    });

    it("a leader's snapshot the log disagrees with (other term at its index) drops the whole log", async () => {
      await store.save({ entries: entries(1, 10, 1) });
      await store.save({ snapshot: snapshot(8, 2), entries: [], hardState: hardState(2, 8) });
      const dropped = plain({ hardState: hardState(2, 8), snapshot: snapshot(8, 2), entries: [] });
      expect(plain(await store.load())).toEqual(dropped);
      expect(await reloaded()).toEqual(dropped);
      await store.save({ entries: entries(9, 10, 2) });
      expect(await reloaded()).toEqual(
        plain({ hardState: hardState(2, 8), snapshot: snapshot(8, 2), entries: entries(9, 10, 2) }),
      );
    });

    it("a leader's snapshot with entries after it in one save", async () => {
      await store.save({ entries: entries(1, 10, 1) });
      await store.save({ snapshot: snapshot(8, 2), entries: entries(9, 9, 2), hardState: hardState(2, 8) });
      expect(await reloaded()).toEqual(
        plain({ hardState: hardState(2, 8), snapshot: snapshot(8, 2), entries: entries(9, 9, 2) }),
      );
    });

    it("a leader's snapshot past the log's end drops the whole log", async () => {
      await store.save({ entries: entries(1, 5, 1) });
      await store.save({ snapshot: snapshot(20, 3), entries: [] });
      expect(await reloaded()).toEqual(
        plain({ hardState: EMPTY_HARD_STATE, snapshot: snapshot(20, 3), entries: [] }),
      );
      await store.save({ entries: entries(21, 22, 3) });
      expect(await reloaded()).toEqual(
        plain({ hardState: EMPTY_HARD_STATE, snapshot: snapshot(20, 3), entries: entries(21, 22, 3) }),
      );
    });

    it('compact keeps the entries after the index, the hard state, and replaces an older snapshot', async () => {
      await store.save({ entries: entries(1, 20, 1), hardState: hardState(1, 15) });
      await store.compact(snapshot(5, 1));
      await store.compact(snapshot(12, 1));
      const expected = plain({
        hardState: hardState(1, 15),
        snapshot: snapshot(12, 1),
        entries: entries(13, 20, 1),
      });
      expect(plain(await store.load())).toEqual(expected);
      expect(await reloaded()).toEqual(expected);
      await store.compact(snapshot(20, 1));
      expect(await reloaded()).toEqual(
        plain({ hardState: hardState(1, 15), snapshot: snapshot(20, 1), entries: [] }),
      );
    });

    it('refuses saves that do not fit the log (INVALID_ARGUMENT) and keeps what it had', async () => {
      await store.save({ entries: entries(1, 10, 2) });
      await store.compact(snapshot(3, 2));
      const refusals = [
        { entries: entries(12, 12, 2) }, // a gap after the end
        { entries: entries(3, 4, 2) }, // inside the snapshot
        { entries: [...entries(11, 11, 2), ...entries(13, 13, 2)] }, // not contiguous
        { entries: entries(11, 11, 1) }, // a term below the one before it
        { entries: [], snapshot: snapshot(2, 2) }, // older than the stored snapshot
        { entries: [], hardState: { term: -1, vote: '', commit: 0 } },
        { entries: [], hardState: { term: 1, vote: 'x'.repeat(256), commit: 0 } },
      ];
      for (const update of refusals) {
        await expect(store.save(update)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
      await expect(store.compact(snapshot(11, 2))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' }); // past the end
      await expect(store.compact(snapshot(8, 1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' }); // wrong term
      await expect(store.compact(snapshot(3, 2))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' }); // not newer
      const expected = plain({
        hardState: EMPTY_HARD_STATE,
        snapshot: snapshot(3, 2),
        entries: entries(4, 10, 2),
      });
      expect(plain(await store.load())).toEqual(expected);
      // Refusals are not failures: the store goes on saving.
      await store.save({ entries: entries(11, 11, 2) });
      expect(await reloaded()).toEqual(
        plain({ hardState: EMPTY_HARD_STATE, snapshot: snapshot(3, 2), entries: entries(4, 11, 2) }),
      );
    });

    it('hands out copies: changing what load returned changes nothing stored', async () => {
      await store.save({ entries: entries(1, 3, 1) });
      const first = await store.load();
      first.entries.length = 0;
      expect((await store.load()).entries).toHaveLength(3);
    });

    it('refuses calls before load and after close with CLOSED', async () => {
      const fresh = await harness.restart(store);
      await expect(fresh.save({ entries: entries(1, 1, 1) })).rejects.toMatchObject({ code: 'CLOSED' });
      await fresh.load();
      await fresh.close();
      await expect(fresh.save({ entries: entries(1, 1, 1) })).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(fresh.compact(snapshot(1, 1))).rejects.toMatchObject({ code: 'CLOSED' });
      store = fresh;
    });
  });
}
