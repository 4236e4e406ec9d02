import {
  LeaderHintKeeper,
  LocalLeaderHint,
  type LeaderClaim,
  type LeaderHint,
  type LeaderHintKeeperOptions,
} from '../../../../src/coordination/lease';
import { TidemarkError } from '../../../../src/lib/errors';
import type { Logger } from '../../../../src/lib/logger';
import { ManualClock } from '../../../support/manual-clock';

const TTL = 3_000;
const RENEW = 1_000;

/** Lets the keeper's background calls (promises, no timers of their own) run to the end. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
}

function recordingLogger(): Logger & { lines: Line[]; count(level: Line['level'], pattern: RegExp): number } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (_obj: object, msg?: string) =>
    void lines.push({ level, msg: msg ?? '' });
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    count: (level, pattern) => lines.filter((line) => line.level === level && pattern.test(line.msg)).length,
  };
}

/** The local hint, made to throw on demand (synchronously: not even a rejected promise). */
class FaultyHint implements LeaderHint {
  down = false;
  publishes = 0;

  constructor(private readonly inner: LeaderHint) {}

  publish(claim: LeaderClaim, ttlMs: number) {
    this.publishes++;
    this.check();
    return this.inner.publish(claim, ttlMs);
  }

  read() {
    this.check();
    return this.inner.read();
  }

  clear(claim: Pick<LeaderClaim, 'term' | 'nodeId'>) {
    this.check();
    return this.inner.clear(claim);
  }

  close() {
    return this.inner.close();
  }

  private check(): void {
    if (this.down) throw new TidemarkError('COORDINATION_UNAVAILABLE', 'Redis is down (test)');
  }
}

describe('LeaderHintKeeper', () => {
  let clock: ManualClock;
  let store: LocalLeaderHint;
  let faulty: FaultyHint;
  let logger: ReturnType<typeof recordingLogger>;
  const keepers: LeaderHintKeeper[] = [];

  function keeper(options: Partial<LeaderHintKeeperOptions> = {}): LeaderHintKeeper {
    const made = new LeaderHintKeeper({
      hint: faulty,
      nodeId: 'n1',
      address: '10.0.0.1:7400',
      ttlMs: TTL,
      renewIntervalMs: RENEW,
      clock,
      logger,
      ...options,
    });
    keepers.push(made);
    return made;
  }

  /** Moves the clock in steps, letting the keeper's calls finish after each timer. */
  async function advance(ms: number, step = 100): Promise<void> {
    for (let moved = 0; moved < ms; moved += step) {
      clock.advance(Math.min(step, ms - moved));
      await flush();
    }
  }

  beforeEach(() => {
    clock = new ManualClock(1_700_000_000_000);
    store = new LocalLeaderHint({ clock });
    faulty = new FaultyHint(store);
    logger = recordingLogger();
  });

  afterEach(async () => {
    faulty.down = false;
    const closing = Promise.all(keepers.splice(0).map((made) => made.close()));
    clock.advance(10_000);
    await closing;
  });

  it('publishes at once when it becomes leader, then renews before the hint runs out', async () => {
    const k = keeper();
    k.leadershipChanged('leader', 4);
    await flush();
    expect(await store.read()).toEqual({
      term: 4,
      nodeId: 'n1',
      address: '10.0.0.1:7400',
      expiresAt: clock.now() + TTL,
    });
    await advance(TTL * 4);
    expect(await store.read()).toMatchObject({ term: 4, nodeId: 'n1' });
    expect(faulty.publishes).toBe(1 + (TTL * 4) / RENEW);
    expect(logger.count('info', /published/)).toBe(1); // not once per renewal
  });

  it('renews every ttl / 3 by default', async () => {
    const k = keeper({ renewIntervalMs: undefined });
    k.leadershipChanged('leader', 1);
    await flush();
    await advance(TTL);
    expect(faulty.publishes).toBe(4);
  });

  it('a repeated notice of the same leadership changes nothing', async () => {
    const k = keeper();
    k.leadershipChanged('leader', 4);
    k.leadershipChanged('leader', 4);
    await flush();
    k.leadershipChanged('leader', 4);
    await flush();
    expect(faulty.publishes).toBe(1);
  });

  it('clears its hint and stops renewing when it is no longer leader', async () => {
    const k = keeper();
    k.leadershipChanged('leader', 4);
    await flush();
    k.leadershipChanged('follower', 5);
    await flush();
    expect(await store.read()).toBeUndefined();
    const publishes = faulty.publishes;
    await advance(TTL * 2);
    expect(faulty.publishes).toBe(publishes);
    expect(clock.pendingTimers).toBe(0);
    // The highest term stays: this node cannot publish term 4 over a newer leader.
    expect(await store.publish({ term: 3, nodeId: 'n2' }, TTL)).toBe('refused');
  });

  it('stepping down while the publish is in flight still ends with the hint cleared', async () => {
    const k = keeper();
    k.leadershipChanged('leader', 4);
    k.leadershipChanged('candidate', 4); // before the publish had a chance to answer
    await flush();
    await flush();
    expect(await store.read()).toBeUndefined();
  });

  it("never clears a successor's hint", async () => {
    const k = keeper();
    k.leadershipChanged('leader', 4);
    await flush();
    expect(await store.publish({ term: 5, nodeId: 'n2' }, TTL)).toBe('stored');
    k.leadershipChanged('follower', 5);
    await flush();
    expect(await store.read()).toMatchObject({ term: 5, nodeId: 'n2' });
  });

  it('a lower term is refused: logged once, nothing else happens, and renewals go on quietly', async () => {
    await store.publish({ term: 9, nodeId: 'n2' }, TTL * 100);
    const k = keeper();
    expect(() => k.leadershipChanged('leader', 4)).not.toThrow();
    await advance(TTL * 2);
    expect(await store.read()).toMatchObject({ term: 9, nodeId: 'n2' });
    expect(logger.count('warn', /refused/)).toBe(1);
    expect(faulty.publishes).toBeGreaterThan(1);
    // Leadership in a later term publishes over it.
    k.leadershipChanged('leader', 10);
    await flush();
    expect(await store.read()).toMatchObject({ term: 10, nodeId: 'n1' });
  });

  it('a failing hint never throws into the caller; logged once, and the hint is republished once it works', async () => {
    const k = keeper();
    faulty.down = true;
    expect(() => k.leadershipChanged('leader', 4)).not.toThrow();
    await advance(TTL * 3);
    expect(await store.read()).toBeUndefined();
    expect(logger.count('warn', /publish failed/)).toBe(1); // the first failure, not every tick
    expect(logger.count('debug', /failed again/)).toBeGreaterThan(1);

    faulty.down = false;
    await advance(RENEW);
    expect(await store.read()).toMatchObject({ term: 4, nodeId: 'n1' });
    expect(logger.count('info', /works again/)).toBe(1);
  });

  it('the hint comes back after the store lost it (Redis restarted empty)', async () => {
    const k = keeper();
    k.leadershipChanged('leader', 4);
    await flush();
    faulty.down = true;
    await advance(TTL * 2); // the hint ran out meanwhile
    expect(await store.read()).toBeUndefined();
    faulty.down = false;
    await advance(RENEW);
    expect(await store.read()).toMatchObject({ term: 4, nodeId: 'n1' });
  });

  it('a failed clear is retried until the hint would have run out anyway', async () => {
    const k = keeper();
    k.leadershipChanged('leader', 4);
    await flush();
    faulty.down = true;
    k.leadershipChanged('follower', 4);
    await advance(RENEW / 2);
    faulty.down = false;
    await advance(RENEW);
    expect(await store.read()).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('bad notices are logged, not thrown', async () => {
    const k = keeper();
    expect(() => k.leadershipChanged('leader', 0)).not.toThrow();
    expect(() => k.leadershipChanged('leader', Number.NaN)).not.toThrow();
    await flush();
    expect(faulty.publishes).toBe(0);
    expect(logger.count('error', /could not take/)).toBe(2);
  });

  it('close stops the timers and clears the hint', async () => {
    const k = keeper();
    k.leadershipChanged('leader', 4);
    await flush();
    await k.close();
    expect(await store.read()).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
    k.leadershipChanged('leader', 5); // after close: ignored
    await flush();
    expect(await store.read()).toBeUndefined();
  });

  it('close is bounded when the hint hangs, and never rejects when it throws', async () => {
    const hanging: LeaderHint = {
      publish: (claim, ttl) => store.publish(claim, ttl),
      read: () => store.read(),
      clear: () => new Promise<void>(() => undefined), // Redis that never answers
      close: () => store.close(),
    };
    const k = keeper({ hint: hanging, closeTimeoutMs: 500 });
    k.leadershipChanged('leader', 4);
    await flush();
    let closed = false;
    const closing = k.close().then(() => (closed = true));
    await flush();
    expect(closed).toBe(false);
    clock.advance(500);
    await closing;
    expect(logger.count('warn', /not cleared in time/)).toBe(1);

    const throwing = keeper();
    throwing.leadershipChanged('leader', 6);
    await flush();
    faulty.down = true;
    await expect(throwing.close()).resolves.toBeUndefined();
    expect(await store.read()).toMatchObject({ term: 6 }); // left to run out by its TTL
  });

  it('refuses bad options at construction', () => {
    expect(() => keeper({ nodeId: '' })).toThrow(TidemarkError);
    expect(() => keeper({ ttlMs: 0 })).toThrow(TidemarkError);
    expect(() => keeper({ renewIntervalMs: TTL })).toThrow(TidemarkError);
    expect(() => keeper({ closeTimeoutMs: -1 })).toThrow(TidemarkError);
  });
});
