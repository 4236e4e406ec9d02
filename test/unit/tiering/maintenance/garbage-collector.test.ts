import type { Snapshot } from '../../../../src/checkpoint/state/state-types';
import { MemoryStore, blockKey, blocksPrefix, parseBlockKey } from '../../../../src/storage';
import { GarbageCollector } from '../../../../src/tiering/maintenance/garbage-collector';
import { ManualClock } from '../../../support/manual-clock';
import {
  appendEntries,
  fenced,
  openParts,
  PREFIX,
  type Parts,
} from '../../../support/tiering/tiering-fixtures';

const GRACE = 60_000;
const ok = async () => undefined;
const ORPHAN = 'ab'.repeat(32);

describe('GarbageCollector', () => {
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  let node: Parts;
  let gc: GarbageCollector;
  /** Blocks only checkpoint 1 named (deleted), and blocks checkpoints 1 and 2 share. */
  let exclusive: string[];
  let shared: string[];
  let kept: Snapshot;

  async function blocksInStore(): Promise<string[]> {
    const hashes: string[] = [];
    for await (const object of node.inner.list(blocksPrefix(PREFIX))) {
      const hash = parseBlockKey(PREFIX, object.key);
      if (hash !== undefined) hashes.push(hash);
    }
    return hashes.sort();
  }

  const present = async (hash: string) => (await node.inner.head(blockKey(PREFIX, hash))) !== undefined;
  const deletes = () => node.store.snapshot().operations.DELETE.objects;

  /** Full checkpoint 1 of c0..c2; then only c0 changes; full checkpoint 2; checkpoint 1 deleted. */
  beforeEach(async () => {
    node = await openParts({ store: () => new MemoryStore({ clock }) });
    gc = new GarbageCollector(node.system, node.catalog, node.store, {
      prefix: PREFIX,
      graceMs: GRACE,
      clock,
    });
    const next = await appendEntries(node.wal, 1, 900);
    const first = await node.system.checkpoint({ kind: 'full' });
    await appendEntries(node.wal, next, 300, 'c0');
    const second = await node.system.checkpoint({ kind: 'full' });
    const all = await blocksInStore();
    exclusive = all.filter((h) => node.catalog.blockRefs(h)!.join() === `${first.id}`);
    shared = all.filter((h) => node.catalog.blockRefs(h)!.join() === `${first.id},${second.id}`);
    expect(exclusive.length).toBeGreaterThan(0);
    expect(shared.length).toBeGreaterThan(0);
    kept = await node.system.loadCheckpoint(second.id);
    await node.system.delete(first.id);
    expect(node.catalog.unreferencedBlocks()).toEqual(exclusive);
  });

  afterEach(() => node.close());

  it('deletes unreferenced blocks only once they have been unreferenced for the grace period', async () => {
    const deletesBefore = deletes();
    expect(await gc.collect({ fence: ok })).toEqual({
      deletedBlocks: 0,
      waitingBlocks: exclusive.length,
      deletedOrphans: 0,
      fullSweep: false,
    });
    clock.advance(GRACE - 1);
    expect((await gc.collect({ fence: ok })).deletedBlocks).toBe(0);
    for (const hash of exclusive) expect(await present(hash)).toBe(true);
    expect(deletes()).toBe(deletesBefore);

    clock.advance(1);
    expect(await gc.collect({ fence: ok })).toEqual({
      deletedBlocks: exclusive.length,
      waitingBlocks: 0,
      deletedOrphans: 0,
      fullSweep: false,
    });
    for (const hash of exclusive) {
      expect(await present(hash)).toBe(false);
      expect(node.catalog.hasBlock(hash)).toBe(false);
    }
    for (const hash of shared) expect(await present(hash)).toBe(true);
    expect(await node.system.loadCheckpoint(node.catalog.latestRestorable()!.id)).toEqual(kept);
    expect((await gc.collect({ fence: ok })).deletedBlocks).toBe(0);
    // Mark and sweep from the catalog alone: no LIST without a full sweep.
    expect(node.store.snapshot().operations.LIST.calls).toBe(0);
  });

  it('never deletes a block a kept checkpoint names, even with no grace at all', async () => {
    const eager = new GarbageCollector(node.system, node.catalog, node.store, {
      prefix: PREFIX,
      graceMs: 0,
      clock,
    });
    const result = await eager.collect({ fence: ok, fullSweep: true });
    expect(result).toMatchObject({ deletedBlocks: exclusive.length, deletedOrphans: 0, fullSweep: true });
    const left = await blocksInStore();
    expect(left).toEqual(left.filter((h) => (node.catalog.blockRefs(h) ?? []).length > 0));
    for (const hash of shared) expect(left).toContain(hash);
    expect(await node.system.loadCheckpoint(node.catalog.latestRestorable()!.id)).toEqual(kept);
  });

  it('a full sweep deletes objects under blocks/ the catalog does not know, once older than the grace', async () => {
    await node.inner.put(blockKey(PREFIX, ORPHAN), Buffer.from('left by a crash'));
    await node.inner.put(`${blocksPrefix(PREFIX)}README`, Buffer.from('not a block key'));
    const first = await gc.collect({ fence: ok, fullSweep: true });
    expect(first).toMatchObject({ deletedBlocks: 0, deletedOrphans: 0, fullSweep: true });
    expect(await present(ORPHAN)).toBe(true);

    clock.advance(GRACE);
    const young = 'cd'.repeat(32);
    await node.inner.put(blockKey(PREFIX, young), Buffer.from('a writer elsewhere, just now'));
    const second = await gc.collect({ fence: ok, fullSweep: true });
    expect(second).toEqual({
      deletedBlocks: exclusive.length,
      waitingBlocks: 0,
      deletedOrphans: 1,
      fullSweep: true,
    });
    expect(await present(ORPHAN)).toBe(false);
    expect(await present(young)).toBe(true);
    expect(await node.inner.head(`${blocksPrefix(PREFIX)}README`)).toBeDefined();
    for (const hash of shared) expect(await present(hash)).toBe(true);
    expect(node.store.snapshot().operations.LIST.calls).toBe(2);
  });

  it('deletes nothing when the fence rejects', async () => {
    await node.inner.put(blockKey(PREFIX, ORPHAN), Buffer.from('left by a crash'));
    await gc.collect({ fence: ok });
    clock.advance(GRACE);
    const deletesBefore = deletes();
    const reject = () => Promise.reject(fenced());
    await expect(gc.collect({ fence: reject, fullSweep: true })).rejects.toMatchObject({ code: 'FENCED' });
    expect(deletes()).toBe(deletesBefore);
    for (const hash of [...exclusive, ORPHAN]) expect(await present(hash)).toBe(true);
    for (const hash of exclusive) expect(node.catalog.hasBlock(hash)).toBe(true);

    // The lease back: the due blocks go.
    expect((await gc.collect({ fence: ok })).deletedBlocks).toBe(exclusive.length);
  });
});
