import * as path from 'node:path';
import { InstrumentedStore, LocalFileStore, walNodePrefix } from '../../../../src/storage';
import { BullMqJobQueue } from '../../../../src/jobs/bullmq/bullmq-job-queue';
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
 * Redis (BullMQ's queues) stopped and started again while upload jobs are queued and one is running: every
 * upload still completes, a job that runs twice uploads nothing twice, and appends never wait for Redis.
 */
describe('Redis outage with upload jobs queued and running', () => {
  let redis: TestRedis;
  let root: string;
  let node: TestNode | undefined;

  beforeAll(async () => {
    redis = await startRedis({ persistent: true });
  });

  afterAll(async () => {
    await redis.dispose();
  });

  beforeEach(() => {
    root = tempDir('tidemark-redis-outage-');
  });

  afterEach(async () => {
    await node?.close();
    node = undefined;
    removeDir(root);
  });

  it('completes every upload once Redis is back, each pack stored once', async () => {
    const local = new InstrumentedStore(new LocalFileStore({ basePath: path.join(root, 'store') }));
    const store = new GatedStore(local, (key) => key.includes('/wal/'));
    node = await openTestNode(path.join(root, 'node'), store, {
      queue: (runner) => {
        const queue = new BullMqJobQueue({ redisUrl: redis.url, prefix: 'outage' });
        queue.startWorkers(runner, { lockDuration: 2_000, stalledInterval: 1_000 });
        return queue;
      },
      leases: new RedisLeaseProvider({ url: redis.url }),
    });
    const { wal, tiering } = node;

    store.close(); // the first upload job will hang inside its PUT: a job running when Redis goes
    for (let batch = 0; batch < 10; batch++) await appendEntries(wal, 1 + batch * 100, 100);
    await eventually('an upload job is running', () => store.waiting > 0);

    await redis.stop();
    // Appends go on without Redis (seals nudge the reconciler, whose enqueue fails and is retried).
    for (let batch = 10; batch < 20; batch++) await appendEntries(wal, 1 + batch * 100, 100);
    store.open(); // the running job finishes its upload while Redis is down: it cannot report it
    await eventually('the running job has uploaded its pack', () => node!.uploads.list().length > 0);

    await redis.start();
    await eventually(
      'every sealed segment is uploaded',
      () => tiering.shipper.pending().length === 0,
      60_000,
    );
    await node.queue.drain(60_000);

    // One pack per LSN range: no pack uploaded twice, none overlapping, no gap.
    const packs = node.uploads.list();
    for (let i = 1; i < packs.length; i++) expect(packs[i]!.firstLsn).toBe(packs[i - 1]!.lastLsn + 1);
    const stored: string[] = [];
    for await (const object of local.list(walNodePrefix('tidemark', 'node-1'))) stored.push(object.key);
    expect(stored).toEqual(packs.map((pack) => pack.key));

    // A job run again (a redelivery) finds everything recorded and uploads nothing.
    const puts = local.snapshot().operations.PUT.calls;
    const again = await tiering.shipper.ship({ flush: true });
    expect(again.uploaded).toEqual([]);
    expect(local.snapshot().operations.PUT.calls).toBe(puts);
  });
});
