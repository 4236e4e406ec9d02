import pLimit from 'p-limit';

/**
 * Work over a list with at most `concurrency` calls in flight, started in list order (p-limit). The two
 * differ in what a failure does to the items not started yet.
 */

/**
 * `fn` over every item; the results in item order. Rejects with the first failure as soon as it comes, as
 * Promise.all does; the other items still run (none is cut off halfway).
 */
export function mapLimited<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const limit = pLimit(atLeastOne(concurrency));
  return Promise.all(items.map((item, index) => limit(fn, item, index)));
}

/**
 * `fn` over the items until one fails: then no further item starts, the calls in flight are let finish
 * (nothing is left running when it returns), and the first failure is thrown.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const limit = pLimit(atLeastOne(concurrency));
  let failure: { error: unknown } | undefined;
  const guarded = async (item: T, index: number): Promise<void> => {
    if (failure !== undefined) return;
    try {
      await fn(item, index);
    } catch (error) {
      failure ??= { error };
    }
  };
  await Promise.all(items.map((item, index) => limit(guarded, item, index)));
  if (failure !== undefined) throw failure.error;
}

/** As the hand-written pools did: a limit below one still makes progress, one at a time. */
function atLeastOne(concurrency: number): number {
  return Math.max(1, Math.floor(concurrency));
}
