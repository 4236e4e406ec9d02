import type { CheckpointSummary } from '../../../../src/checkpoint/catalog/checkpoint-summary';
import { manifestKey } from '../../../../src/storage';
import { systemClock } from '../../../../src/lib/clock';
import { runRetention, type RetentionDeps } from '../../../../src/tiering/maintenance/retention-run';
import type { SegmentShipper } from '../../../../src/tiering/segment-shipper';
import {
  KiB,
  PREFIX,
  appendBytes,
  fenced,
  openParts,
  shipperFor,
  type Parts,
} from '../../../support/tiering/tiering-fixtures';

const POLICY = { keepFullCheckpoints: 1, pitrWindowMs: 0 };

/**
 * full 1 ─ incremental 2, full 3 ─ incremental 4, with ~40 KiB of log before each and the log shipped
 * right before each checkpoint (so packs end at checkpoint LSNs), and ~40 KiB shipped after the last.
 */
async function takeHistory(node: Parts, shipper: SegmentShipper): Promise<CheckpointSummary[]> {
  const checkpoints: CheckpointSummary[] = [];
  let next = 1;
  for (const kind of ['full', 'incremental', 'full', 'incremental'] as const) {
    next = await appendBytes(node.wal, 40 * KiB, next);
    await node.wal.seal();
    await shipper.ship({ flush: true });
    checkpoints.push(await node.system.checkpoint({ kind }));
  }
  await appendBytes(node.wal, 40 * KiB, next);
  await node.wal.seal();
  await shipper.ship({ flush: true });
  return checkpoints;
}

const exists = async (node: Parts, key: string) => (await node.inner.head(key)) !== undefined;

describe('runRetention', () => {
  let node: Parts;
  let deps: RetentionDeps;
  let checkpoints: CheckpointSummary[];

  beforeEach(async () => {
    node = await openParts();
    const shipper = shipperFor(node, { packTargetBytes: 24 * KiB });
    checkpoints = await takeHistory(node, shipper);
    const { system, catalog, store, uploads } = node;
    const clock = { ...systemClock, now: () => Date.now() + 1000 };
    deps = { system, catalog, store, uploads, fence: async () => undefined, clock };
  });

  afterEach(() => node.close());

  it('expires the checkpoints and the WAL packs only they needed, and nothing the kept ones need', async () => {
    const [first, second, third, fourth] = checkpoints.map((c) => c.id) as [number, number, number, number];
    const cutoff = node.catalog.require(third).lsn;
    const packs = node.uploads.list();
    const gone = packs.filter((p) => p.lastLsn <= cutoff);
    const kept = packs.filter((p) => p.lastLsn > cutoff);
    expect(gone.length).toBeGreaterThan(1);
    expect(kept.length).toBeGreaterThan(1);
    expect(gone.at(-1)!.lastLsn).toBe(cutoff);
    const newest = node.catalog.latestRestorable()!;
    expect(newest.id).toBe(fourth);
    const state = await node.system.loadCheckpoint(fourth);

    const result = await runRetention(deps, POLICY);

    expect(result).toEqual({
      expiredCheckpoints: [second, first],
      deletedWalPacks: gone.length,
      deletedWalBytes: gone.reduce((sum, p) => sum + p.size, 0),
    });
    expect(node.catalog.list().map((c) => c.id)).toEqual([third, fourth]);
    for (const id of [first, second]) expect(await exists(node, manifestKey(PREFIX, id))).toBe(false);
    for (const id of [third, fourth]) expect(await exists(node, manifestKey(PREFIX, id))).toBe(true);
    for (const pack of gone) expect(await exists(node, pack.key)).toBe(false);
    for (const pack of kept) expect(await exists(node, pack.key)).toBe(true);
    expect(node.uploads.list()).toEqual(kept);
    expect(node.uploads.retiredThroughLsn).toBe(cutoff);
    // The newest restorable checkpoint is untouched and still loads.
    expect(node.catalog.latestRestorable()).toEqual(newest);
    expect(await node.system.loadCheckpoint(fourth)).toEqual(state);
    expect(node.store.snapshot().operations.LIST.calls).toBe(0);
  });

  it('changes nothing when run a second time', async () => {
    await runRetention(deps, POLICY);
    const before = {
      checkpoints: node.catalog.list(),
      packs: node.uploads.list(),
      retired: node.uploads.retiredThroughLsn,
      ops: node.store.snapshot().operations,
    };
    expect(await runRetention(deps, POLICY)).toEqual({
      expiredCheckpoints: [],
      deletedWalPacks: 0,
      deletedWalBytes: 0,
    });
    const ops = node.store.snapshot().operations;
    expect(ops.DELETE).toEqual(before.ops.DELETE);
    expect(ops.PUT).toEqual(before.ops.PUT);
    expect(node.catalog.list()).toEqual(before.checkpoints);
    expect(node.uploads.list()).toEqual(before.packs);
    expect(node.uploads.retiredThroughLsn).toBe(before.retired);
  });

  it('deletes, expires and retires nothing when the fence rejects', async () => {
    const all = node.catalog.list();
    const packs = node.uploads.list();
    const fence = () => Promise.reject(fenced());
    await expect(runRetention({ ...deps, fence }, POLICY)).rejects.toMatchObject({ code: 'FENCED' });
    expect(node.catalog.list()).toEqual(all);
    expect(node.uploads.list()).toEqual(packs);
    expect(node.uploads.retiredThroughLsn).toBe(0);
    expect(node.store.snapshot().operations.DELETE.calls).toBe(0);
    for (const pack of packs) expect(await exists(node, pack.key)).toBe(true);
  });

  it('deletes and retires no WAL pack when the fence rejects after the checkpoints went', async () => {
    const packs = node.uploads.list();
    let checks = 0;
    const fence = async () => {
      if (++checks > 1) throw fenced(); // lost the lease between the checkpoints and the WAL
    };
    await expect(runRetention({ ...deps, fence }, POLICY)).rejects.toMatchObject({ code: 'FENCED' });
    expect(node.catalog.list().map((c) => c.id)).toEqual([checkpoints[2]!.id, checkpoints[3]!.id]);
    expect(node.uploads.list()).toEqual(packs);
    expect(node.uploads.retiredThroughLsn).toBe(0);
    for (const pack of packs) expect(await exists(node, pack.key)).toBe(true);
  });

  it('deletes nothing at all when the checkpoint system has lost its lease', async () => {
    const all = node.catalog.list();
    await node.system.adoptLease(node.system.currentFencingToken + 1, () => Promise.reject(fenced()));
    const fence = () => Promise.reject(fenced());
    await expect(runRetention({ ...deps, fence }, POLICY)).rejects.toMatchObject({ code: 'FENCED' });
    expect(node.catalog.list()).toEqual(all);
    expect(node.store.snapshot().operations.DELETE.calls).toBe(0);
    for (const checkpoint of all) expect(await exists(node, manifestKey(PREFIX, checkpoint.id))).toBe(true);
  });

  it('keeps every checkpoint, and the WAL after the oldest, when the policy keeps every chain', async () => {
    const before = node.uploads.list().filter((p) => p.lastLsn <= checkpoints[0]!.lsn);
    expect(before.length).toBeGreaterThan(0);
    const result = await runRetention(deps, { keepFullCheckpoints: 2, pitrWindowMs: 0 });
    expect(result).toEqual({
      expiredCheckpoints: [],
      deletedWalPacks: before.length,
      deletedWalBytes: expect.any(Number),
    });
    expect(node.catalog.list()).toHaveLength(4);
    // Only the log before the oldest checkpoint went: every checkpoint is still restorable with its WAL.
    expect(node.uploads.retiredThroughLsn).toBe(checkpoints[0]!.lsn);
    for (const pack of node.uploads.list()) expect(pack.lastLsn).toBeGreaterThan(checkpoints[0]!.lsn);
  });
});
