import { Redis } from 'ioredis';
import {
  LeaderHintKeeper,
  LeaderHintWatcher,
  type LeaderHintValue,
} from '../../../../src/coordination/lease';
import { RedisLeaderHint } from '../../../../src/coordination/lease/redis-leader-hint';
import { TidemarkError, type ErrorCode } from '../../../../src/lib/errors';
import type { Logger } from '../../../../src/lib/logger';
import { eventually } from '../../../support/eventually';
import { startRedis, type TestRedis } from '../../../support/redis-server';

/** Long enough that nothing in a test runs out unless the test waits for it. */
const LONG_TTL = 60_000;
/** Short enough to wait out. */
const SHORT_TTL = 200;

let redis: TestRedis;
let redisDown = false;
let prefixCount = 0;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.dispose();
});

async function stopRedis(): Promise<void> {
  redisDown = true;
  await redis.stop();
}

/** Starts Redis again if a test stopped it; true if it did. */
async function startRedisAgain(): Promise<boolean> {
  if (!redisDown) return false;
  await redis.start();
  redisDown = false;
  return true;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<TidemarkError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof TidemarkError)) throw error;
    expect(error.code).toBe(code);
    return error;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

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

function countingLogger(): Logger & { count(level: string, pattern: RegExp): number } {
  const lines: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (_obj: object, msg?: string) => void lines.push({ level, msg: msg ?? '' });
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    count: (level, pattern) => lines.filter((line) => line.level === level && pattern.test(line.msg)).length,
  };
}

describe('RedisLeaderHint against a real redis-server', () => {
  let keyPrefix: string;
  let hintKey: string;
  let termKey: string;
  let raw: Redis;
  const closing: Array<{ close(): Promise<void> }> = [];
  const hints: RedisLeaderHint[] = [];

  /** Another process's view of the same Redis: a hint with a client of its own. */
  function connect(): RedisLeaderHint {
    const hint = new RedisLeaderHint({ url: redis.url, keyPrefix });
    closing.push(hint);
    hints.push(hint);
    return hint;
  }

  beforeEach(async () => {
    keyPrefix = `test-${++prefixCount}:`;
    hintKey = `${keyPrefix}leader`;
    termKey = `${keyPrefix}leader:term`;
    raw = new Redis(redis.url, { lazyConnect: true });
    await raw.connect();
  });

  afterEach(async () => {
    // A failed outage test must not take Redis from the tests after it. Clients closed while still
    // reconnecting leave ioredis's disconnect timer behind (Jest would wait for it): let them reconnect.
    if (await startRedisAgain()) {
      await eventually('the clients reconnected', async () => {
        const reads = await Promise.all(
          hints.map((hint) =>
            hint.read().then(
              () => true,
              () => false,
            ),
          ),
        );
        return raw.status === 'ready' && reads.every(Boolean);
      });
    }
    hints.length = 0;
    for (const item of closing.splice(0).reverse()) await item.close();
    raw.disconnect();
  });

  it('stores the hint as JSON with a TTL, and the highest term in a key without expiry', async () => {
    const hint = connect();
    expect(await hint.publish({ term: 3, nodeId: 'n1', address: '10.0.0.1:7400' }, LONG_TTL)).toBe('stored');
    expect(JSON.parse((await raw.get(hintKey)) ?? '')).toEqual({
      term: 3,
      nodeId: 'n1',
      address: '10.0.0.1:7400',
    });
    const ttl = await raw.pttl(hintKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(LONG_TTL);
    expect(JSON.parse((await raw.get(termKey)) ?? '')).toEqual({ term: 3, nodeId: 'n1' });
    expect(await raw.pttl(termKey)).toBe(-1);

    const value = await connect().read();
    expect(value).toEqual({
      term: 3,
      nodeId: 'n1',
      address: '10.0.0.1:7400',
      expiresAt: expect.any(Number),
    });
  });

  it('uses tidemark:leader by default', async () => {
    const hint = new RedisLeaderHint({ url: redis.url });
    closing.push(hint);
    await raw.del('tidemark:leader', 'tidemark:leader:term'); // this test's own redis-server: nobody else's keys
    try {
      expect(await hint.publish({ term: 1, nodeId: 'n1' }, LONG_TTL)).toBe('stored');
      expect(await raw.exists('tidemark:leader', 'tidemark:leader:term')).toBe(2);
    } finally {
      await raw.del('tidemark:leader', 'tidemark:leader:term');
    }
  });

  it('compare-and-set: lower term refused, same term same node renews, same term other node refused, higher replaces', async () => {
    const a = connect();
    const b = connect();
    expect(await a.publish({ term: 5, nodeId: 'n1' }, LONG_TTL)).toBe('stored');
    expect(await b.publish({ term: 4, nodeId: 'n2' }, LONG_TTL)).toBe('refused');
    expect(await b.publish({ term: 5, nodeId: 'n2' }, LONG_TTL)).toBe('refused');
    expect(await a.read()).toMatchObject({ term: 5, nodeId: 'n1' });

    await raw.pexpire(hintKey, 10_000);
    expect(await a.publish({ term: 5, nodeId: 'n1', address: 'a:1' }, LONG_TTL)).toBe('stored');
    expect(await raw.pttl(hintKey)).toBeGreaterThan(10_000); // renewed
    expect(await b.read()).toMatchObject({ term: 5, nodeId: 'n1', address: 'a:1' });

    expect(await b.publish({ term: 6, nodeId: 'n2' }, LONG_TTL)).toBe('stored');
    expect(await a.read()).toEqual({ term: 6, nodeId: 'n2', expiresAt: expect.any(Number) });
    expect(await a.publish({ term: 5, nodeId: 'n1' }, LONG_TTL)).toBe('refused');
  });

  it('the hint runs out after its TTL; the highest term survives and still refuses a stale leader', async () => {
    const hint = connect();
    expect(await hint.publish({ term: 7, nodeId: 'n1' }, SHORT_TTL)).toBe('stored');
    await eventually('the hint ran out', async () => (await hint.read()) === undefined);
    expect(await raw.exists(hintKey)).toBe(0);
    expect(JSON.parse((await raw.get(termKey)) ?? '')).toEqual({ term: 7, nodeId: 'n1' });

    expect(await hint.publish({ term: 6, nodeId: 'n2' }, LONG_TTL)).toBe('refused');
    expect(await hint.publish({ term: 7, nodeId: 'n2' }, LONG_TTL)).toBe('refused');
    expect(await hint.read()).toBeUndefined();
    expect(await hint.publish({ term: 7, nodeId: 'n1' }, LONG_TTL)).toBe('stored'); // it was only cut off
  });

  it('terms compare exactly up to 2^53 - 1', async () => {
    const hint = connect();
    const top = Number.MAX_SAFE_INTEGER;
    expect(await hint.publish({ term: top - 1, nodeId: 'n1' }, LONG_TTL)).toBe('stored');
    expect(await hint.publish({ term: top - 2, nodeId: 'n2' }, LONG_TTL)).toBe('refused');
    expect(await hint.publish({ term: top - 1, nodeId: 'n1' }, LONG_TTL)).toBe('stored');
    expect(await hint.publish({ term: top, nodeId: 'n2' }, LONG_TTL)).toBe('stored');
    expect(await hint.read()).toMatchObject({ term: top, nodeId: 'n2' });
    await hint.clear({ term: top - 1, nodeId: 'n2' });
    expect(await hint.read()).toMatchObject({ term: top });
    await hint.clear({ term: top, nodeId: 'n2' });
    expect(await hint.read()).toBeUndefined();
  });

  it('a lost term key still leaves a live higher hint protected', async () => {
    const hint = connect();
    await hint.publish({ term: 9, nodeId: 'n1' }, LONG_TTL);
    await raw.del(termKey);
    expect(await hint.publish({ term: 8, nodeId: 'n2' }, LONG_TTL)).toBe('refused');
    expect(await hint.publish({ term: 9, nodeId: 'n2' }, LONG_TTL)).toBe('refused');
  });

  it('clear removes only its own hint and keeps the highest term', async () => {
    const hint = connect();
    await hint.publish({ term: 2, nodeId: 'n1' }, LONG_TTL);
    await hint.clear({ term: 2, nodeId: 'n2' });
    await hint.clear({ term: 1, nodeId: 'n1' });
    expect(await hint.read()).toMatchObject({ term: 2, nodeId: 'n1' });

    await hint.publish({ term: 3, nodeId: 'n2' }, LONG_TTL);
    await hint.clear({ term: 2, nodeId: 'n1' }); // the old leader stepping down late
    expect(await hint.read()).toMatchObject({ term: 3, nodeId: 'n2' });

    await hint.clear({ term: 3, nodeId: 'n2' });
    expect(await raw.exists(hintKey)).toBe(0);
    expect(await raw.exists(termKey)).toBe(1);
    expect(await hint.publish({ term: 2, nodeId: 'n1' }, LONG_TTL)).toBe('refused');
  });

  it('node ids with any characters survive the round trip and the compare', async () => {
    const hint = connect();
    const odd = 'nœud|1:"x"\\\u0001 ✓';
    expect(await hint.publish({ term: 1, nodeId: odd }, LONG_TTL)).toBe('stored');
    expect(await hint.read()).toMatchObject({ term: 1, nodeId: odd });
    expect(await hint.publish({ term: 1, nodeId: odd }, LONG_TTL)).toBe('stored'); // recognised as itself
    await hint.clear({ term: 1, nodeId: odd });
    expect(await hint.read()).toBeUndefined();
  });

  it('a malformed value reads as no hint, and the next publish overwrites it', async () => {
    const hint = connect();
    const malformed: Array<() => Promise<unknown>> = [
      () => raw.set(hintKey, 'garbage'),
      () => raw.set(hintKey, '{"term":"7","nodeId":"n1"}'),
      () => raw.set(hintKey, '{"term":0,"nodeId":"n1"}'),
      () => raw.set(hintKey, '{"term":7}'),
      () => raw.set(hintKey, '[7,"n1"]'),
      () => raw.hset(hintKey, 'term', '7'), // another type entirely (WRONGTYPE for GET)
    ];
    for (const write of malformed) {
      await raw.del(hintKey);
      await write();
      expect(await hint.read()).toBeUndefined();
    }
    expect(await hint.publish({ term: 1, nodeId: 'n1' }, LONG_TTL)).toBe('stored');
    expect(await hint.read()).toMatchObject({ term: 1, nodeId: 'n1' });

    await raw.set(termKey, 'not json');
    expect(await hint.publish({ term: 1, nodeId: 'n1' }, LONG_TTL)).toBe('stored');
    expect(JSON.parse((await raw.get(termKey)) ?? '')).toEqual({ term: 1, nodeId: 'n1' });

    await raw.persist(hintKey); // a hint without expiry (written by hand) reads without expiresAt
    expect(await hint.read()).toEqual({ term: 1, nodeId: 'n1' });
  });

  it('runs its scripts again after Redis forgot them (NOSCRIPT → EVAL)', async () => {
    const hint = connect();
    await raw.script('FLUSH');
    expect(await hint.publish({ term: 1, nodeId: 'n1' }, LONG_TTL)).toBe('stored');
    await raw.script('FLUSH');
    expect(await hint.read()).toMatchObject({ term: 1 });
    await raw.script('FLUSH');
    await hint.clear({ term: 1, nodeId: 'n1' });
    expect(await raw.exists(hintKey)).toBe(0);
  });

  it('rejects promptly with COORDINATION_UNAVAILABLE while Redis is down, and works again after it returns', async () => {
    const hint = connect();
    await hint.publish({ term: 1, nodeId: 'n1' }, LONG_TTL);
    await stopRedis();
    const calls: Array<() => Promise<unknown>> = [
      () => hint.publish({ term: 1, nodeId: 'n1' }, LONG_TTL),
      () => hint.read(),
      () => hint.clear({ term: 1, nodeId: 'n1' }),
    ];
    for (const call of calls) {
      const error = await settlesSoon(expectCode(call(), 'COORDINATION_UNAVAILABLE'));
      expect(error.message).toMatch(/Redis unavailable for leader hint/);
      expect(error.cause).toBeDefined();
    }
    await startRedisAgain();
    await eventually('publish to work again', async () =>
      hint.publish({ term: 1, nodeId: 'n1' }, LONG_TTL).then(
        (outcome) => outcome === 'stored',
        () => false,
      ),
    );
  });

  it('a hint made while Redis is down fails fast, then works once Redis is up', async () => {
    await stopRedis();
    const hint = connect();
    await settlesSoon(expectCode(hint.read(), 'COORDINATION_UNAVAILABLE'));
    await startRedisAgain();
    await eventually('read to work', async () =>
      hint.read().then(
        () => true,
        () => false,
      ),
    );
  });

  it("uses a caller's client and leaves it open on close", async () => {
    const client = new Redis(redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    try {
      const hint = new RedisLeaderHint({ client, keyPrefix });
      expect(await hint.publish({ term: 1, nodeId: 'n1' }, LONG_TTL)).toBe('stored'); // connects it
      await hint.close();
      await expectCode(hint.read(), 'CLOSED');
      expect(await client.exists(hintKey)).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  describe('with a keeper and a watcher in another process', () => {
    function keeperAndWatcher(ttlMs: number) {
      const logger = countingLogger();
      const keeper = new LeaderHintKeeper({
        hint: connect(),
        nodeId: 'n1',
        address: '10.0.0.1:7400',
        ttlMs,
        renewIntervalMs: Math.floor(ttlMs / 10),
        logger,
      });
      closing.push(keeper);
      const changes: Array<LeaderHintValue | undefined> = [];
      const watcher = new LeaderHintWatcher({
        hint: connect(),
        pollIntervalMs: 50,
        onChange: (value) => changes.push(value),
      });
      closing.push(watcher);
      return { keeper, watcher, changes, logger };
    }

    it('the watcher sees leadership taken and given up (cleared, not left to run out)', async () => {
      const { keeper, watcher, changes } = keeperAndWatcher(LONG_TTL);
      await watcher.start();
      keeper.leadershipChanged('leader', 4);
      await eventually('the watcher sees n1 lead', () => watcher.current()?.nodeId === 'n1');
      expect(watcher.current()).toMatchObject({ term: 4, nodeId: 'n1', address: '10.0.0.1:7400' });
      keeper.leadershipChanged('follower', 5);
      await eventually('the watcher sees no leader', () => watcher.current() === undefined);
      expect(changes.map((value) => value?.term)).toStrictEqual([4, undefined]);
    });

    it('Redis stopped: nothing throws, the watcher stops trusting the leader; Redis back (empty): the hint comes back', async () => {
      const { keeper, watcher, changes, logger } = keeperAndWatcher(1_000);
      await watcher.start();
      keeper.leadershipChanged('leader', 4);
      await eventually('the watcher sees n1 lead', () => watcher.current()?.nodeId === 'n1');

      await stopRedis();
      // The last hint seen runs out, and cannot be confirmed: the worker must stop.
      // (current() says so as soon as the expiry passes; onChange on the next timer or poll, just after.)
      await eventually('the watcher reports n1 gone', () => changes.length === 2);
      expect(changes.at(-1)).toBeUndefined();
      expect(watcher.current()).toBeUndefined();
      expect(() => keeper.leadershipChanged('leader', 4)).not.toThrow();
      await eventually('the keeper saw publishing fail', () => logger.count('warn', /publish failed/) === 1);

      await startRedisAgain(); // without persistence: Redis comes back empty
      await eventually('the watcher sees n1 lead again', () => watcher.current()?.nodeId === 'n1');
      expect(changes.map((value) => value?.nodeId)).toStrictEqual(['n1', undefined, 'n1']);
      expect(logger.count('warn', /publish failed/)).toBe(1); // once for the outage, not once per renewal
      expect(logger.count('info', /works again/)).toBe(1);
      expect(JSON.parse((await raw.get(termKey)) ?? '')).toEqual({ term: 4, nodeId: 'n1' });

      await keeper.close();
      await eventually('the watcher sees the hint cleared', () => watcher.current() === undefined);
    });

    it('close is prompt while Redis is down', async () => {
      const { keeper } = keeperAndWatcher(LONG_TTL);
      keeper.leadershipChanged('leader', 4);
      await eventually('the hint is stored', async () => (await raw.exists(hintKey)) === 1);
      await stopRedis();
      await settlesSoon(keeper.close());
    });
  });
});
