import { Redis } from 'ioredis';
import * as path from 'node:path';
import { InProcessJobQueue } from '../../../../src/jobs/in-process-job-queue';
import { openNode } from '../../../../src/node/open-node';
import { LocalLeaseProvider } from '../../../../src/tiering/lease/local-lease-provider';
import { MemoryStore } from '../../../../src/storage';
import { eventually } from '../../../support/eventually';
import { startRedis, type TestRedis } from '../../../support/redis-server';
import { testNodeSettings } from '../../../support/tiering/tiering-node-fixture';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';

/**
 * A node with Redis keeps the leader hint while it leads (here: a cluster of one, so at once): `{term,
 * nodeId, address}` under `{redisKeyPrefix}:leader`; it takes the hint back when it closes; Redis down
 * changes nothing Raft decided, and the hint comes back with Redis.
 */
let redis: TestRedis;
let client: Redis;
let root: string;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
});

afterAll(async () => {
  await client.quit().catch(() => client.disconnect());
  await redis.dispose();
});

beforeEach(() => {
  root = tempDir('tidemark-hint-');
});

afterEach(() => removeDir(root));

const hint = async () => {
  const text = await client.get('tidemark:leader');
  return text === null ? undefined : (JSON.parse(text) as Record<string, unknown>);
};

it('publishes the hint while leading, keeps leading with Redis gone, publishes again when Redis is back, clears it on close', async () => {
  const settings = testNodeSettings(path.join(root, 'node'), { nodeId: 'n1' });
  const node = await openNode(
    {
      ...settings,
      tiering: { ...settings.tiering, redisUrl: redis.url },
      cluster: { ...settings.cluster, apiUrl: 'http://n1.example:7070', leaderHintTtlMs: 1_000 },
    },
    // Only the hint on Redis: jobs in process and a local lease, so what this test sees is the hint's.
    {
      store: new MemoryStore(),
      queue: (runner) => new InProcessJobQueue(runner),
      leases: new LocalLeaseProvider(),
    },
  );
  try {
    await node.start();
    const term = node.coordinator.raft.status().term;
    await eventually('the hint is published', async () => (await hint())?.nodeId === 'n1');
    expect(await hint()).toEqual({ term, nodeId: 'n1', address: 'http://n1.example:7070' });

    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(node.coordinator.raft.status()).toMatchObject({ role: 'leader', term });
    await redis.start();
    await client.connect().catch(() => undefined);
    // The keeper republishes at its next renewal (Redis came back empty: no persistence here).
    await eventually('the hint is back', async () => (await hint().catch(() => undefined))?.nodeId === 'n1');
  } finally {
    await node.close();
  }
  expect(await hint()).toBeUndefined();
});
