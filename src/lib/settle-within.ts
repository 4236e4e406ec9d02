import { systemClock, type Clock, type Timer } from './clock';

/**
 * Waits for `work` to settle, but no longer than `ms` on `clock`: 'settled' when it did (resolved or
 * rejected — the caller only needs to know it is over), 'timed-out' when the time ran out first. The work
 * goes on; a caller that gives up on it cuts it off by other means (a forced close, an abort).
 */
export async function settleWithin(
  work: Promise<unknown>,
  ms: number,
  clock: Clock = systemClock,
): Promise<'settled' | 'timed-out'> {
  let timer: Timer | undefined;
  const timeout = new Promise<'timed-out'>((resolve) => {
    timer = clock.setTimeout(() => resolve('timed-out'), ms);
  });
  try {
    return await Promise.race([work.then(settled, settled), timeout]);
  } finally {
    timer?.cancel();
  }
}

const settled = () => 'settled' as const;
