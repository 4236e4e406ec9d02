import { ManualClock } from '../../support/manual-clock';

describe('ManualClock', () => {
  it('stands still until advanced, then moves wall and monotonic time together', () => {
    const clock = new ManualClock(5_000);
    expect([clock.now(), clock.monotonic()]).toEqual([5_000, 0]);
    clock.advance(250);
    expect([clock.now(), clock.monotonic()]).toEqual([5_250, 250]);
    clock.setNow(1_000);
    expect([clock.now(), clock.monotonic()]).toEqual([1_000, 250]);
  });

  it('fires due timers in time order, each at its own time; cancelled ones never', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.monotonic()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.monotonic()}`), 10);
    const tick = clock.setInterval(() => fired.push(`tick@${clock.monotonic()}`), 15);
    clock.setTimeout(() => fired.push('cancelled'), 5).cancel();
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(21);
    expect(fired).toEqual(['a@10', 'tick@15', 'b@20', 'tick@30']);
    expect(clock.now()).toBe(30);
    tick.cancel();
    clock.advance(100);
    expect(fired).toHaveLength(4);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires a timer a callback arms when it falls due within the same advance', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.monotonic()), 5).unref(), 5);
    clock.advance(10);
    expect(fired).toEqual([10]);
  });
});
