import { TidemarkError } from '../../errors';
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
 * Which blocks the store already holds: the catalog answers, so deduplication costs no LIST or HEAD.
 * `addBlock` is called only once a block is durable in the store.
 */
export interface BlockIndex {
  hasBlock(hash: string): boolean;
  addBlock(hash: string, storedBytes: number): void;
}

export interface BlockWriteOptions extends BlockOptions, ChunkOptions {
  /** Skip blocks the index knows; off: every block is written again. */
  enableDeduplication: boolean;
  /** Blocks encoded and uploaded at once. */
  concurrency: number;
}

export interface BlockWriteResult {
  blocks: BlockRef[];
  /** Raw bytes of every block named (the logical size of what was written). */
  logicalBytes: number;
  /** Stored bytes of every block named, new or reused. */
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
  const inFlight = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ends.length) {
      const i = next++;
      const start = i === 0 ? 0 : (ends[i - 1] as number);
      const block = await encodeBlock(records, options, start, ends[i] as number);
      blocks[i] = {
        hash: block.hash,
        recordCount: block.recordCount,
        rawBytes: block.rawBytes,
        storedBytes: block.storedBytes,
      };
      result.logicalBytes += block.rawBytes;
      result.storedBytes += block.storedBytes;
      const known = index.hasBlock(block.hash) || inFlight.has(block.hash);
      if (options.enableDeduplication && known) {
        result.reusedBlocks++;
        continue;
      }
      inFlight.add(block.hash);
      try {
        await store.put(blockKey(prefix, block.hash), block.bytes, {
          ifNoneMatch: options.enableDeduplication ? '*' : undefined,
        });
        result.newBytes += block.storedBytes;
        result.newBlocks++;
      } catch (error) {
        // Create-if-absent lost to an identical block already stored (content-addressed): that is a hit.
        if (!TidemarkError.is(error, 'PRECONDITION_FAILED')) throw error;
        result.reusedBlocks++;
      }
      index.addBlock(block.hash, block.storedBytes);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, ends.length)) }, worker));
  return result;
}
