import { settleWithin } from '../../../src/lib/settle-within';
import { ManualClock } from '../../support/manual-clock';

describe('settleWithin', () => {
  it('says settled when the work ends first, rejected or not, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    await expect(settleWithin(Promise.resolve(1), 100, clock)).resolves.toBe('settled');
    await expect(settleWithin(Promise.reject(new Error('no')), 100, clock)).resolves.toBe('settled');
    expect(clock.pendingTimers).toBe(0);
  });

  it("says timed-out once the clock's time runs out first", async () => {
    const clock = new ManualClock();
    let outcome: string | undefined;
    const waiting = settleWithin(new Promise(() => undefined), 100, clock).then((o) => (outcome = o));
    clock.advance(99);
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcome).toBeUndefined();
    clock.advance(1);
    await waiting;
    expect(outcome).toBe('timed-out');
  });
});
