import { forEachLimited } from '../../lib/bounded-concurrency';
import { blockKey, getBuffer, type ObjectStore } from '../../storage';
import { inlineBlockDecoder, type BlockDecoder } from '../block/block-decoder';
import type { SortedRun } from '../run/run-types';
import type { ManifestBlockRef } from '../manifest/manifest';

/**
 * Fetches blocks (with bounded concurrency), checks each against its content hash and checksums
 * (CHECKSUM_MISMATCH naming the block) and decodes it into a sorted run (by `decoder`), in block order.
 * After the first failure no further block is fetched; the reads under way finish before it is thrown.
 */
export async function readRunBlocks(
  store: ObjectStore,
  prefix: string,
  refs: readonly Pick<ManifestBlockRef, 'hash'>[],
  concurrency = 4,
  decoder: BlockDecoder = inlineBlockDecoder,
): Promise<SortedRun[]> {
  const runs = new Array<SortedRun>(refs.length);
  await forEachLimited(refs, concurrency, async (ref, i) => {
    runs[i] = await decoder.decodeRun(await getBuffer(store, blockKey(prefix, ref.hash)), ref.hash);
  });
  return runs;
}
