import { forEachLimited, mapLimited } from '../../../src/lib/bounded-concurrency';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** An async task that records how many of its kind run at once, and in which order they start. */
function tracker() {
  let running = 0;
  const state = { peak: 0, started: [] as number[], finished: [] as number[] };
  const task = async (item: number, index: number): Promise<number> => {
    state.started.push(index);
    running++;
    state.peak = Math.max(state.peak, running);
    for (let i = 0; i < item; i++) await tick();
    running--;
    state.finished.push(index);
    return item * 10;
  };
  return { state, task };
}

describe('mapLimited', () => {
  it('runs at most `concurrency` at once, starts in list order and returns results in item order', async () => {
    const { state, task } = tracker();
    const items = [5, 1, 4, 1, 3, 2, 1, 1];
    expect(await mapLimited(items, 3, task)).toEqual(items.map((item) => item * 10));
    expect(state.peak).toBe(3);
    expect(state.started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(state.finished).not.toEqual(state.started); // they did overlap
  });

  it('treats a limit below one as one, and an empty list as nothing to do', async () => {
    const { state, task } = tracker();
    expect(await mapLimited([1, 1, 1], 0, task)).toEqual([10, 10, 10]);
    expect(state.peak).toBe(1);
    expect(await mapLimited([], 4, task)).toEqual([]);
  });

  it('rejects with the first failure at once; the other items still run', async () => {
    const seen: number[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const result = mapLimited([0, 1, 2, 3], 2, async (item) => {
      if (item === 0) await slow;
      if (item === 1) throw new Error('item 1 failed');
      seen.push(item);
      return item;
    });
    await expect(result).rejects.toThrow('item 1 failed');
    expect(seen).toEqual([2, 3]); // 0 is still in flight: the rejection did not wait for it
    release();
    for (let i = 0; i < 5 && seen.length < 3; i++) await tick();
    expect(seen).toEqual([2, 3, 0]);
  });
});

describe('forEachLimited', () => {
  it('runs at most `concurrency` at once, in list order', async () => {
    const { state, task } = tracker();
    await forEachLimited([3, 1, 2, 1, 1], 2, async (item, index) => {
      await task(item, index);
    });
    expect(state.peak).toBe(2);
    expect(state.started).toEqual([0, 1, 2, 3, 4]);
  });

  it('starts nothing after a failure, lets the calls in flight finish, then throws the first failure', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const result = forEachLimited([0, 1, 2, 3, 4, 5], 3, async (item) => {
      started.push(item);
      if (item === 1) throw new Error('item 1 failed');
      if (item === 2) throw new Error('item 2 failed later');
      for (let i = 0; i < (item === 0 ? 5 : 1); i++) await tick();
      finished.push(item);
    });
    await expect(result).rejects.toThrow('item 1 failed');
    expect(started).toEqual([0, 1, 2]);
    expect(finished).toEqual([0]); // awaited before the rejection
  });
});
