import Redis from 'ioredis';
import * as path from 'node:path';
import { LocalFileStore, manifestKey } from '../../../../src/storage';
import { RedisLeaseProvider } from '../../../../src/tiering/lease/redis-lease-provider';
import { startRedis, type TestRedis } from '../../../support/redis-server';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import {
  appendEntries,
  eventually,
  openTestNode,
  type TestNode,
} from '../../../support/tiering/tiering-node-fixture';
import { GatedStore } from '../../../support/tiering/faults/gated-store';

/**
 * A lease holder that stops renewing (a frozen process: its work sits at a gate, its keeper stops without
 * releasing) loses the lease to a standby for the same node id; when it wakes, its late commit is refused
 * (FENCED) and nothing it wrote becomes visible. Real redis-server, real store.
 */
describe('maintenance lease and fencing (Redis)', () => {
  let redis: TestRedis;
  let root: string;
  const nodes: TestNode[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis.dispose();
  });

  beforeEach(() => {
    root = tempDir('tidemark-fencing-');
  });

  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close();
    removeDir(root);
  });

  it('refuses the commit of a holder whose lease ran out while it was frozen', async () => {
    const shared = new LocalFileStore({ basePath: path.join(root, 'store') });
    const frozen = new GatedStore(shared, (key) => key.includes('/blocks/'));
    const lease = { ttlMs: 600, renewIntervalMs: 150 };
    const primary = await openTestNode(path.join(root, 'primary'), frozen, {
      leases: new RedisLeaseProvider({ url: redis.url }),
      tiering: { lease },
    });
    nodes.push(primary);
    await eventually('the primary holds the lease', () => primary.tiering.tenure() !== undefined);
    const primaryToken = primary.tiering.tenure()!.token;
    await appendEntries(primary.wal, 1, 200);

    frozen.close();
    const late = primary.system.checkpoint({ kind: 'full' });
    late.catch(() => undefined);
    await eventually('the checkpoint is stuck writing blocks', () => frozen.waiting > 0);
    await primary.tiering.keeper.stop({ release: false }); // the process freezes: no more renewals

    const standby = await openTestNode(path.join(root, 'standby'), shared, {
      leases: new RedisLeaseProvider({ url: redis.url }),
      tiering: { lease },
    });
    nodes.push(standby);
    await eventually(
      'the standby takes over once the TTL ran out',
      () => standby.tiering.tenure() !== undefined,
    );
    expect(standby.tiering.tenure()!.token).toBeGreaterThan(primaryToken);
    expect(primary.tiering.tenure()).toBeUndefined();

    frozen.open(); // the primary wakes up and finishes its work
    await expect(late).rejects.toMatchObject({ code: 'FENCED' });
    const id = primary.catalog.highestAllocatedId;
    expect(await shared.head(manifestKey('tidemark', id))).toBeUndefined(); // never published
    expect(primary.catalog.list()).toEqual([]);

    // Its maintenance jobs do nothing either: it no longer holds the lease.
    const job = await primary.tiering.scheduler.trigger('retention');
    await primary.queue.drain();
    expect((await primary.queue.get(job.id))?.result).toEqual({
      skipped: 'this node does not hold the maintenance lease',
    });
  });

  it('refuses a commit when the provider says someone else holds the lease, whatever the holder believes', async () => {
    const shared = new LocalFileStore({ basePath: path.join(root, 'store') });
    const gated = new GatedStore(shared, (key) => key.includes('/blocks/'));
    const lease = { ttlMs: 30_000, renewIntervalMs: 10_000 }; // the primary's local deadline stays far off
    const primary = await openTestNode(path.join(root, 'primary'), gated, {
      leases: new RedisLeaseProvider({ url: redis.url }),
      tiering: { lease },
    });
    nodes.push(primary);
    await eventually('the primary holds the lease', () => primary.tiering.tenure() !== undefined);
    await appendEntries(primary.wal, 1, 200);
    gated.close();
    const late = primary.system.checkpoint({ kind: 'full' });
    late.catch(() => undefined);
    await eventually('the checkpoint is stuck writing blocks', () => gated.waiting > 0);

    // Redis loses the lease key (a failover, an operator): the standby takes it with a higher token at once.
    const admin = new Redis(redis.url);
    await admin.del('tidemark:lease:maintenance.node-1');
    admin.disconnect();
    const standby = await openTestNode(path.join(root, 'standby'), shared, {
      leases: new RedisLeaseProvider({ url: redis.url }),
      tiering: { lease },
    });
    nodes.push(standby);
    await eventually('the standby holds the lease', () => standby.tiering.tenure() !== undefined);
    expect(primary.tiering.keeper.current()).toBeDefined(); // the primary still believes it leads

    gated.open();
    await expect(late).rejects.toMatchObject({ code: 'FENCED' });
    expect(await shared.head(manifestKey('tidemark', primary.catalog.highestAllocatedId))).toBeUndefined();
  });
});
