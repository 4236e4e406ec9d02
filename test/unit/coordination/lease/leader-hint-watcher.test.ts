import {
  LeaderHintWatcher,
  LocalLeaderHint,
  type LeaderHint,
  type LeaderHintValue,
  type LeaderHintWatcherOptions,
} from '../../../../src/coordination/lease';
import { TidemarkError } from '../../../../src/lib/errors';
import { ManualClock } from '../../../support/manual-clock';

const TTL = 3_000;
const POLL = 500;

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('LeaderHintWatcher', () => {
  let clock: ManualClock;
  let store: LocalLeaderHint;
  let reads: { mode: 'ok' | 'fail' | 'hang' };
  let hint: LeaderHint;
  let changes: Array<LeaderHintValue | undefined>;
  const watchers: LeaderHintWatcher[] = [];

  function watcher(options: Partial<LeaderHintWatcherOptions> = {}): LeaderHintWatcher {
    const made = new LeaderHintWatcher({
      hint,
      pollIntervalMs: POLL,
      clock,
      onChange: (value) => changes.push(value),
      ...options,
    });
    watchers.push(made);
    return made;
  }

  async function advance(ms: number, step = 100): Promise<void> {
    for (let moved = 0; moved < ms; moved += step) {
      clock.advance(Math.min(step, ms - moved));
      await flush();
    }
  }

  beforeEach(() => {
    clock = new ManualClock(1_700_000_000_000);
    store = new LocalLeaderHint({ clock });
    reads = { mode: 'ok' };
    changes = [];
    hint = {
      publish: (claim, ttl) => store.publish(claim, ttl),
      clear: (claim) => store.clear(claim),
      close: () => store.close(),
      read: () => {
        if (reads.mode === 'fail') throw new TidemarkError('COORDINATION_UNAVAILABLE', 'down (test)');
        if (reads.mode === 'hang') return new Promise(() => undefined);
        return store.read();
      },
    };
  });

  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((made) => made.close()));
  });

  it('reports nothing while there is no leader, then each new leader once', async () => {
    const w = watcher();
    await w.start();
    expect(w.current()).toBeUndefined();
    expect(changes).toEqual([]);

    await store.publish({ term: 1, nodeId: 'n1', address: 'a:1' }, TTL);
    await advance(POLL);
    expect(changes).toEqual([{ term: 1, nodeId: 'n1', address: 'a:1', expiresAt: expect.any(Number) }]);
    expect(w.current()).toMatchObject({ term: 1, nodeId: 'n1', address: 'a:1' });

    for (let i = 0; i < 5; i++) {
      await store.publish({ term: 1, nodeId: 'n1', address: 'a:1' }, TTL); // renewals
      await advance(POLL);
    }
    expect(changes).toHaveLength(1);

    await store.publish({ term: 2, nodeId: 'n2' }, TTL);
    await advance(POLL);
    expect(changes.map((value) => value?.nodeId)).toStrictEqual(['n1', 'n2']);

    await store.clear({ term: 2, nodeId: 'n2' });
    await advance(POLL);
    expect(changes).toHaveLength(3);
    expect(changes[2]).toBeUndefined();
    expect(w.current()).toBeUndefined();
  });

  it('reports the leader gone when its hint runs out', async () => {
    const w = watcher();
    await store.publish({ term: 1, nodeId: 'n1' }, TTL);
    await w.start();
    expect(changes).toHaveLength(1);
    await advance(TTL + POLL);
    expect(changes).toStrictEqual([expect.objectContaining({ nodeId: 'n1' }), undefined]);
  });

  it('keeps the last leader through failed reads until its expiry, then reports it unknown, and back', async () => {
    const w = watcher();
    await store.publish({ term: 1, nodeId: 'n1' }, TTL);
    await w.start();
    const expiresAt = w.current()?.expiresAt ?? 0;
    reads.mode = 'fail';
    await advance(expiresAt - clock.now() - 1);
    expect(w.current()).toMatchObject({ term: 1, nodeId: 'n1' });
    expect(changes).toHaveLength(1);
    await advance(1);
    expect(w.current()).toBeUndefined();
    expect(changes).toStrictEqual([expect.objectContaining({ nodeId: 'n1' }), undefined]);

    await store.publish({ term: 1, nodeId: 'n1' }, TTL); // the keeper got through again
    reads.mode = 'ok';
    await advance(POLL);
    expect(changes.map((value) => value?.nodeId)).toStrictEqual(['n1', undefined, 'n1']);
  });

  it('reports the leader unknown at its expiry even while a read hangs', async () => {
    const w = watcher();
    await store.publish({ term: 1, nodeId: 'n1' }, TTL);
    await w.start();
    reads.mode = 'hang';
    await advance(TTL);
    expect(changes).toStrictEqual([expect.objectContaining({ nodeId: 'n1' }), undefined]);
  });

  it('a hint without expiry is trusted only while reads succeed', async () => {
    const noExpiry: LeaderHint = { ...hint, read: async () => ({ term: 3, nodeId: 'n3' }) };
    const w = watcher({ hint: noExpiry });
    await w.start();
    expect(w.current()).toEqual({ term: 3, nodeId: 'n3' });
    const failing = watcher({
      hint: {
        ...noExpiry,
        read: (() => {
          let calls = 0;
          return async () => {
            if (++calls > 1) throw new TidemarkError('COORDINATION_UNAVAILABLE', 'down (test)');
            return { term: 3, nodeId: 'n3' };
          };
        })(),
      },
    });
    await failing.start();
    expect(failing.current()).toBeDefined();
    await advance(POLL);
    expect(failing.current()).toBeUndefined();
  });

  it('an onChange that throws does not stop the watching', async () => {
    const w = watcher({
      onChange: (value) => {
        changes.push(value);
        throw new Error('worker bug');
      },
    });
    await w.start();
    await store.publish({ term: 1, nodeId: 'n1' }, TTL);
    await advance(POLL);
    await store.publish({ term: 2, nodeId: 'n2' }, TTL);
    await advance(POLL);
    expect(changes.map((value) => value?.nodeId)).toStrictEqual(['n1', 'n2']);
  });

  it('close stops polling; onChange is not called after it', async () => {
    const w = watcher();
    await w.start();
    await w.close();
    expect(clock.pendingTimers).toBe(0);
    await store.publish({ term: 1, nodeId: 'n1' }, TTL);
    await advance(POLL * 3);
    expect(changes).toEqual([]);
  });

  it('refuses a bad poll interval', () => {
    expect(() => watcher({ pollIntervalMs: 0 })).toThrow(TidemarkError);
  });
});
