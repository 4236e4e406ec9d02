import { mapLimited } from '../../lib/bounded-concurrency';
import { TidemarkError } from '../../lib/errors';
import { blockKey, type ObjectStore } from '../../storage';
import { encodeBlock, type BlockOptions } from '../block/block-codec';
import { chunkRecords, type ChunkOptions } from '../block/chunker';
import type { BlockRecord } from '../block/record-codec';

/** What a manifest says of one block. */
export interface BlockRef {
  hash: string;
  recordCount: number;
  rawBytes: number;
  storedBytes: number;
}

/**
 * Which blocks the store already holds, and the size of each stored object: the catalog answers, so
 * deduplication costs no LIST or HEAD. `addBlock` is called only once a block is durable in the store.
 */
export interface BlockIndex {
  storedBytesOf(hash: string): number | undefined;
  addBlock(hash: string, storedBytes: number): void;
}

export interface BlockWriteOptions extends BlockOptions, ChunkOptions {
  /** Skip blocks the index knows; off: every block's object is created again unless it exists. */
  enableDeduplication: boolean;
  /** Blocks encoded and uploaded at once. */
  concurrency: number;
}

export interface BlockWriteResult {
  blocks: BlockRef[];
  /** Raw bytes of every block named (the logical size of what was written). */
  logicalBytes: number;
  /** Bytes of the stored objects of every block named, new or reused. */
  storedBytes: number;
  /** Stored bytes actually PUT. */
  newBytes: number;
  newBlocks: number;
  reusedBlocks: number;
}

/**
 * Cuts sorted records into content-defined blocks and stores the ones the store does not hold yet,
 * under the hash of their raw content, created only if absent. Returns when every block it names is
 * durable in the store — the manifest that names them may be written after that, never before.
 *
 * A block object is never rewritten: the same content may have been stored before in another encoding
 * (another codec, or raw below a compression threshold), and manifests already name that object with its
 * size. So a reused block's `storedBytes` is the stored object's (from the index, or a HEAD when the
 * create lost to an object the index did not know), never this writer's own encoding's.
 */
export async function writeRecordBlocks(
  store: ObjectStore,
  prefix: string,
  index: BlockIndex,
  records: readonly BlockRecord[],
  options: BlockWriteOptions,
): Promise<BlockWriteResult> {
  const ends = chunkRecords(records, options);
  const blocks = new Array<BlockRef>(ends.length);
  const result: BlockWriteResult = {
    blocks,
    logicalBytes: 0,
    storedBytes: 0,
    newBytes: 0,
    newBlocks: 0,
    reusedBlocks: 0,
  };
  /** Blocks this call is creating: the size of their stored object once the create settles. */
  const creating = new Map<string, Promise<number>>();
  const writeBlock = async (end: number, i: number): Promise<void> => {
    const start = i === 0 ? 0 : (ends[i - 1] as number);
    const block = await encodeBlock(records, options, start, end);
    const known = options.enableDeduplication ? index.storedBytesOf(block.hash) : undefined;
    const pending = creating.get(block.hash);
    let storedBytes: number;
    if (known !== undefined || pending !== undefined) {
      storedBytes = known ?? (await pending!);
      result.reusedBlocks++;
    } else {
      const created = createBlock(store, blockKey(prefix, block.hash), block.bytes);
      const size = created.then((c) => c.storedBytes);
      // Awaited only by a duplicate of this block, if any; a failure is thrown by the await below.
      size.catch(() => undefined);
      creating.set(block.hash, size);
      const outcome = await created;
      storedBytes = outcome.storedBytes;
      if (outcome.created) {
        result.newBytes += storedBytes;
        result.newBlocks++;
      } else result.reusedBlocks++;
      index.addBlock(block.hash, storedBytes);
    }
    blocks[i] = { hash: block.hash, recordCount: block.recordCount, rawBytes: block.rawBytes, storedBytes };
    result.logicalBytes += block.rawBytes;
    result.storedBytes += storedBytes;
  };
  await mapLimited(ends, options.concurrency, writeBlock);
  return result;
}

/**
 * Creates the block's object if absent. Losing the create to an object already there (content-addressed:
 * the same records) is a reuse, and that object's size is what manifests must say.
 */
async function createBlock(
  store: ObjectStore,
  key: string,
  bytes: Buffer,
): Promise<{ created: boolean; storedBytes: number }> {
  try {
    await store.put(key, bytes, { ifNoneMatch: '*' });
    return { created: true, storedBytes: bytes.length };
  } catch (error) {
    if (!TidemarkError.is(error, 'PRECONDITION_FAILED')) throw error;
  }
  const info = await store.head(key);
  if (info === undefined) {
    // Deleted between the create and the HEAD (a GC sweep of a block it thought unused): create it again.
    await store.put(key, bytes, { ifNoneMatch: '*' });
    return { created: true, storedBytes: bytes.length };
  }
  return { created: false, storedBytes: info.size };
}
