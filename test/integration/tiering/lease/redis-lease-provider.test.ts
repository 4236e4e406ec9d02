import { Redis } from 'ioredis';
import type { LeaseProvider } from '../../../../src/tiering/lease';
import { RedisLeaseProvider } from '../../../../src/tiering/lease/redis-lease-provider';
import { startRedis, type TestRedis } from '../../../support/redis-server';
import {
  defined,
  eventually,
  expectCode,
  type KeeperBackend,
} from '../../../support/tiering/lease/lease-backend';
import { runLeaseKeeperContract } from '../../../support/tiering/lease/lease-keeper.contract';
import { runLeaseProviderContract } from '../../../support/tiering/lease/lease-provider.contract';

let redis: TestRedis;
let redisDown = false;
let prefixCount = 0;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.dispose();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function stopRedis(): Promise<void> {
  redisDown = true;
  await redis.stop();
}

async function startRedisAgain(): Promise<void> {
  if (!redisDown) return;
  await redis.start();
  redisDown = false;
}

/** Real Redis, real time; a key prefix of its own per test. */
async function redisBackend(): Promise<KeeperBackend & { keyPrefix: string }> {
  const keyPrefix = `test-${++prefixCount}:`;
  const providers: LeaseProvider[] = [];
  return {
    keyPrefix,
    connect: () => {
      const provider = new RedisLeaseProvider({ url: redis.url, keyPrefix });
      providers.push(provider);
      return provider;
    },
    sleep,
    outage: { begin: stopRedis, end: startRedisAgain },
    teardown: async () => {
      await startRedisAgain(); // a failed outage test must not take Redis from the tests after it
      await Promise.all(providers.map((provider) => provider.close()));
    },
  };
}

runLeaseProviderContract('Redis', redisBackend);
runLeaseKeeperContract('Redis', redisBackend);

describe('RedisLeaseProvider against a real redis-server', () => {
  let backend: Awaited<ReturnType<typeof redisBackend>>;
  let raw: Redis;

  beforeEach(async () => {
    backend = await redisBackend();
    raw = new Redis(redis.url, { lazyConnect: true });
    await raw.connect();
  });

  afterEach(async () => {
    await backend.teardown();
    raw.disconnect();
  });

  /** Settles `promise`, failing the test if it takes absurdly long (a hang, not a slow answer). */
  async function settlesSoon<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer: the call hung instead of failing fast')), 10_000);
    });
    try {
      return await Promise.race([promise, hung]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('stores {token}:{holderId} with the TTL, and the highest token in a key without expiry', async () => {
    const provider = backend.connect();
    const grant = defined(await provider.acquire('scheduler', 'node-a', 60_000, 7), 'a grant');
    const leaseKey = `${backend.keyPrefix}lease:scheduler`;
    expect(await raw.get(leaseKey)).toBe('7:node-a');
    const ttl = await raw.pttl(leaseKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await raw.get(`${leaseKey}:token`)).toBe('7');
    expect(await raw.pttl(`${leaseKey}:token`)).toBe(-1);
    await provider.release(grant);
    expect(await raw.exists(leaseKey)).toBe(0);
    expect(await raw.get(`${leaseKey}:token`)).toBe('7');
  });

  it('runs its scripts again after Redis forgot them (NOSCRIPT → EVAL)', async () => {
    const provider = backend.connect();
    const first = defined(await provider.acquire('scheduler', 'node-a', 60_000), 'a grant');
    await raw.script('FLUSH');
    expect(await provider.renew(first, 60_000)).toBe(true);
    await raw.script('FLUSH');
    await provider.release(first);
    await raw.script('FLUSH');
    expect(defined(await provider.acquire('scheduler', 'node-a', 60_000), 'a grant').token).toBe(2);
  });

  it('rejects promptly with COORDINATION_UNAVAILABLE while Redis is down, and works again after it returns', async () => {
    const provider = backend.connect();
    const grant = defined(await provider.acquire('scheduler', 'node-a', 60_000), 'a grant');
    await stopRedis();
    const calls: Array<() => Promise<unknown>> = [
      () => provider.acquire('scheduler', 'node-b', 60_000),
      () => provider.renew(grant, 60_000),
      () => provider.release(grant),
      () => provider.holder('scheduler'),
    ];
    for (const call of calls) {
      const error = await settlesSoon(expectCode(call(), 'COORDINATION_UNAVAILABLE'));
      expect(error.message).toMatch(/Redis unavailable for lease/);
      expect(error.cause).toBeDefined();
    }
    await startRedisAgain();
    await eventually(
      backend,
      async () =>
        (await provider.acquire('scheduler', 'node-b', 60_000).catch(() => undefined)) !== undefined,
      'acquire to work again',
    );
  });

  it('after Redis restarts empty, tokens keep rising when the caller passes minToken', async () => {
    const provider = backend.connect();
    let highest = 0;
    for (let i = 0; i < 3; i++) {
      const grant = defined(await provider.acquire('scheduler', 'node-a', 60_000), 'a grant');
      highest = grant.token;
      await provider.release(grant);
    }
    await stopRedis();
    await startRedisAgain();
    let grant: Awaited<ReturnType<LeaseProvider['acquire']>>;
    await eventually(
      backend,
      async () =>
        (grant = await provider
          .acquire('scheduler', 'node-b', 60_000, highest + 1)
          .catch(() => undefined)) !== undefined,
      'acquire after the restart',
    );
    const after = defined(grant, 'a grant after the restart');
    expect(after.token).toBe(highest + 1);
    await provider.release(after);
    // Redis alone would have started over at 1 — why the node passes its catalog's highest token.
    expect(defined(await provider.acquire('scheduler', 'node-b', 60_000), 'a grant').token).toBe(highest + 2);
  });

  it('a provider made while Redis is down fails fast, then works once Redis is up', async () => {
    await stopRedis();
    const provider = backend.connect();
    await settlesSoon(expectCode(provider.holder('scheduler'), 'COORDINATION_UNAVAILABLE'));
    await startRedisAgain();
    await eventually(
      backend,
      async () =>
        (await provider.acquire('scheduler', 'node-a', 60_000).catch(() => undefined)) !== undefined,
      'acquire once Redis is up',
    );
  });

  it("uses a caller's client and leaves it open on close", async () => {
    const client = new Redis(redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    try {
      const provider = new RedisLeaseProvider({ client, keyPrefix: backend.keyPrefix });
      const grant = defined(await provider.acquire('scheduler', 'node-a', 60_000), 'a grant'); // connects it
      expect(await provider.holder('scheduler')).toEqual({ holderId: 'node-a', token: grant.token });
      await provider.close();
      expect(await client.get(`${backend.keyPrefix}lease:scheduler`)).toBe(`${grant.token}:node-a`);
    } finally {
      client.disconnect();
    }
  });

  it('reports a lease key it did not write as INTERNAL rather than guessing a holder', async () => {
    const provider = backend.connect();
    await raw.set(`${backend.keyPrefix}lease:scheduler`, 'not-a-token');
    await expectCode(provider.holder('scheduler'), 'INTERNAL');
  });

  it('needs exactly one of url and client', () => {
    expect(() => new RedisLeaseProvider({})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new RedisLeaseProvider({ url: redis.url, client: raw })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
