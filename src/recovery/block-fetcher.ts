import { decodeRecords } from '../checkpoint/block/record-codec';
import type { ManifestBlockRef } from '../checkpoint/manifest/manifest';
import type { DeltaRecord } from '../checkpoint/state/state-types';
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
  /** Called after each block, with its stored bytes. */
  onBlock?: (storedBytes: number) => void;
}

/**
 * Reads a list of blocks in order: fetched from the store with bounded concurrency, checked and
 * decompressed on the block pool's threads, decoded into records on this thread. The prefetch strategy
 * sets how far fetching runs ahead: `none` one block at a time, `sequential` `concurrency` blocks, and
 * `adaptive` starts at two and adds a lane each time a lane waited longer for its fetch than for its
 * decode (the store is the bottleneck), up to `concurrency`. Records come back in block order.
 */
export async function fetchBlocks(
  refs: readonly ManifestBlockRef[],
  options: BlockFetchOptions,
): Promise<DeltaRecord[]> {
  if (refs.length === 0) return [];
  const parts = new Array<DeltaRecord[]>(refs.length);
  const limit = options.strategy === 'none' ? 1 : Math.max(1, Math.min(options.concurrency, refs.length));
  let lanes = options.strategy === 'adaptive' ? Math.min(2, limit) : limit;
  let next = 0;
  const running: Promise<void>[] = [];

  const lane = async (): Promise<void> => {
    while (next < refs.length) {
      options.signal.throwIfAborted();
      const i = next++;
      const ref = refs[i]!;
      const fetchStart = performance.now();
      const bytes = await getBuffer(options.store, blockKey(options.prefix, ref.hash));
      const fetched = performance.now();
      options.signal.throwIfAborted();
      const opened = await options.pool.open(bytes, ref.hash);
      parts[i] = decodeRecords(opened.raw, opened.recordCount);
      options.onBlock?.(ref.storedBytes);
      if (
        options.strategy === 'adaptive' &&
        lanes < limit &&
        fetched - fetchStart > performance.now() - fetched
      ) {
        lanes++;
        running.push(lane());
      }
    }
  };
  for (let i = 0; i < lanes; i++) running.push(lane());
  // Lanes may be added while we wait: wait until no new lane appeared.
  for (let awaited = 0; awaited < running.length;) {
    const count = running.length;
    await Promise.all(running);
    awaited = count;
  }
  return parts.length === 1 ? parts[0]! : parts.flat();
}
