import type { ManifestBlockRef } from '../checkpoint/manifest/manifest';
import { runToRecords, type SortedRun } from '../checkpoint/run/sorted-run';
import type { DeltaRecord } from '../checkpoint/state/state-types';
import { systemClock, type Clock } from '../lib/clock';
import { TidemarkError } from '../lib/errors';
import { blockKey, getBuffer, type ObjectStore } from '../storage';
import type { BlockPool } from './block-pool';
import type { PrefetchStrategy } from './recovery-types';

export interface BlockFetchOptions {
  store: ObjectStore;
  prefix: string;
  pool: BlockPool;
  strategy: PrefetchStrategy;
  /** Fetches in flight at most (sequential: always this many; adaptive: grows up to it). */
  concurrency: number;
  signal: AbortSignal;
  /** Called after each block, with its stored bytes and its index in the list. */
  onBlock?: (storedBytes: number, index: number) => void;
  /**
   * Called with each block's run as it arrives (before `onBlock`), for work that can start at once. The
   * run is then the callee's: fetchBlockParts does not keep it (its result holds no parts).
   */
  onPart?: (index: number, run: SortedRun) => void;
  /** Backpressure: while it returns a promise, no lane starts another fetch (until it settles). */
  gate?: () => Promise<void> | undefined;
  /**
   * Adaptive only: the depth learned so far, shared by calls that pass the same object (a later call starts
   * where the previous one got to; a recovery makes one call for its whole chain). Updated in place.
   */
  adaptive?: { lanes: number };
  /** Recompute each block's sha256 against its name (recovery's `full` level); the crc32c checks run always. */
  checkHash?: boolean;
  /** Times fetches against decodes for the adaptive strategy (default: the system clock). */
  clock?: Clock;
}

/**
 * `promise`, or the signal's reason as soon as it aborts — for a store call that takes no signal and may
 * never settle. The promise's own later rejection is handled (dropped), never left unhandled.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

/**
 * Reads a list of blocks in order: fetched from the store with bounded concurrency, checked, decompressed
 * and decoded into sorted runs on the block pool's threads. The prefetch strategy
 * sets how far fetching runs ahead: `none` one block at a time, `sequential` `concurrency` blocks, and
 * `adaptive` starts at two (or where the recovery's previous call got to) and adds a lane each time a lane
 * waited longer for its fetch than for its decode (the store is the bottleneck), up to `concurrency`.
 * Records come back in block order. The first failure stops every lane (no further fetches) and is thrown
 * once the lanes have stopped; an abort rejects at once, even while a fetch hangs.
 */
export async function fetchBlocks(
  refs: readonly ManifestBlockRef[],
  options: BlockFetchOptions,
): Promise<DeltaRecord[]> {
  const parts = await fetchBlockParts(refs, options);
  return (parts as SortedRun[]).flatMap((run) => runToRecords(run));
}

/** What `fetchBlockParts` does when a block fails; without it, the first failure stops every lane. */
export interface PartFailures {
  /** Block `index` failed: keep going (its part stays undefined). */
  onFailure(index: number, error: unknown): void;
  /** Whether block `index` is no longer wanted (another block of its group failed): not fetched. */
  skip(index: number): boolean;
}

/**
 * `fetchBlocks`, one part (a sorted run) per block — so that one pipeline can serve many components and
 * keep every lane and worker busy across their boundaries. With `failures`, a failing block does not stop
 * the others: its part is left undefined and the caller decides what it takes down.
 */
export async function fetchBlockParts(
  refs: readonly ManifestBlockRef[],
  options: BlockFetchOptions,
  failures?: PartFailures,
): Promise<(SortedRun | undefined)[]> {
  if (refs.length === 0) return [];
  const { signal } = options;
  const clock = options.clock ?? systemClock;
  const parts = new Array<SortedRun | undefined>(refs.length);
  const limit = options.strategy === 'none' ? 1 : Math.max(1, Math.min(options.concurrency, refs.length));
  const adaptive = options.strategy === 'adaptive' ? (options.adaptive ?? { lanes: 2 }) : undefined;
  // At least one lane more than the pool decodes at once: its threads stay busy while a lane fetches.
  const floor = Math.max(2, options.pool.parallelism + 1);
  let lanes = adaptive ? Math.min(Math.max(adaptive.lanes, floor), limit) : limit;
  let next = 0;
  let failure: { error: unknown } | undefined;
  const running: Promise<void>[] = [];

  const fetchOne = async (i: number): Promise<number> => {
    const ref = refs[i]!;
    const fetchStart = clock.monotonic();
    const bytes = await untilAborted(getBuffer(options.store, blockKey(options.prefix, ref.hash)), signal);
    const fetched = clock.monotonic();
    if (failure !== undefined) return 0;
    signal.throwIfAborted();
    const run = await options.pool.openRun(bytes, ref.hash, options.checkHash ?? true);
    // Cheap where the sha256 is skipped: another block under this name almost always has another count.
    if (run.count !== ref.recordCount) {
      throw new TidemarkError(
        'CHECKSUM_MISMATCH',
        `block ${ref.hash} holds ${run.count} records, its manifest says ${ref.recordCount}: not the block of that name`,
        { details: { hash: ref.hash } },
      );
    }
    if (options.onPart !== undefined) options.onPart(i, run);
    else parts[i] = run;
    options.onBlock?.(ref.storedBytes, i);
    return fetched - fetchStart - (clock.monotonic() - fetched);
  };

  const lane = async (): Promise<void> => {
    try {
      while (failure === undefined && next < refs.length) {
        signal.throwIfAborted();
        const closed = options.gate?.();
        if (closed !== undefined) {
          await untilAborted(closed, signal);
          continue;
        }
        const i = next++;
        if (failures?.skip(i)) continue;
        let storeWaitedLonger: boolean;
        try {
          storeWaitedLonger = (await fetchOne(i)) > 0;
        } catch (error) {
          if (!failures || signal.aborted) throw error;
          failures.onFailure(i, error);
          continue;
        }
        if (adaptive && lanes < limit && storeWaitedLonger) {
          lanes++;
          adaptive.lanes = Math.max(adaptive.lanes, lanes);
          running.push(lane());
        }
      }
    } catch (error) {
      failure ??= { error };
    }
  };
  for (let i = 0; i < lanes; i++) running.push(lane());
  // Lanes never reject (they record the failure); more may be added while we wait.
  for (let awaited = 0; awaited < running.length;) {
    const count = running.length;
    await untilAborted(Promise.all(running), signal);
    awaited = count;
  }
  if (failure !== undefined) throw failure.error;
  return parts;
}
