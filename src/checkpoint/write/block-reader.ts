import { blockKey, getBuffer, type ObjectStore } from '../../storage';
import { decodeBlock } from '../block/block-codec';
import type { DeltaRecord } from '../state/state-types';
import type { BlockRef } from './block-writer';

/**
 * Fetches blocks (with bounded concurrency), checks each against its content hash and checksums
 * (CHECKSUM_MISMATCH naming the block), and returns their records in block order — so records of a
 * component come back sorted, as they were written.
 */
export async function readRecordBlocks(
  store: ObjectStore,
  prefix: string,
  refs: readonly BlockRef[],
  concurrency = 4,
): Promise<DeltaRecord[]> {
  const parts = new Array<DeltaRecord[]>(refs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < refs.length) {
      const i = next++;
      const ref = refs[i] as BlockRef;
      const bytes = await getBuffer(store, blockKey(prefix, ref.hash));
      parts[i] = await decodeBlock(bytes, ref.hash);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, refs.length)) }, worker));
  return parts.length === 1 ? (parts[0] as DeltaRecord[]) : parts.flat();
}
