import { mapLimited } from '../../lib/bounded-concurrency';
import { TidemarkError } from '../../lib/errors';
import { blockKey, type ObjectStore } from '../../storage';
import { encodeBlock, encodeRunBlock, type BlockOptions, type EncodedBlock } from '../block/block-codec';
import type { BlockEncoder } from '../block/block-encoder';
import { measureRecords } from '../block/record-codec';
import { packRecords, runFromSlices } from '../run/run-transfer';
import type { RunSlice, SortedRun } from '../run/run-types';
import { runKey } from '../run/sorted-run';
import { chunkRecords, chunkSlices, type ChunkOptions } from '../block/chunker';
import type { BlockRecord } from '../block/record-codec';

/** What a manifest (format 2) says of one block written now. */
export interface BlockRef {
  hash: string;
  recordCount: number;
  rawBytes: number;
  storedBytes: number;
  /** The block's first and last key, base64. */
  firstKey: string;
  lastKey: string;
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
  /** Where blocks are encoded and compressed (default: this thread, compression on libuv's pool). */
  encoder?: BlockEncoder;
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

/** Empty totals. */
export function emptyBlockWriteResult(): BlockWriteResult {
  return { blocks: [], logicalBytes: 0, storedBytes: 0, newBytes: 0, newBlocks: 0, reusedBlocks: 0 };
}

/**
 * Stores encoded blocks the store does not hold yet, under the hash of their raw content, created only if
 * absent, and counts what it stored and what it found there already. One per checkpoint write: two
 * equal blocks within it are created once.
 *
 * A block object is never rewritten: the same content may have been stored before in another encoding
 * (another codec, or raw below a compression threshold), and manifests already name that object with its
 * size. So a reused block's `storedBytes` is the stored object's (from the index, or a HEAD when the
 * create lost to an object the index did not know), never this writer's own encoding's.
 */
export class BlockSink {
  readonly totals: BlockWriteResult = emptyBlockWriteResult();
  /** Blocks this sink is creating: the size of their stored object once the create settles. */
  private readonly creating = new Map<string, Promise<number>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    private readonly index: BlockIndex,
    private readonly deduplicate: boolean,
  ) {}

  /** Resolves once the block is durable in the store (or known to be there). */
  async put(block: EncodedBlock, firstKey: Uint8Array, lastKey: Uint8Array): Promise<BlockRef> {
    const known = this.deduplicate ? this.index.storedBytesOf(block.hash) : undefined;
    const pending = this.creating.get(block.hash);
    let storedBytes: number;
    if (known !== undefined || pending !== undefined) {
      storedBytes = known ?? (await pending!);
      this.totals.reusedBlocks++;
    } else {
      const created = createBlock(this.store, blockKey(this.prefix, block.hash), block.bytes);
      const size = created.then((c) => c.storedBytes);
      // Awaited only by a duplicate of this block, if any; a failure is thrown by the await below.
      size.catch(() => undefined);
      this.creating.set(block.hash, size);
      const outcome = await created;
      storedBytes = outcome.storedBytes;
      if (outcome.created) {
        this.totals.newBytes += storedBytes;
        this.totals.newBlocks++;
      } else this.totals.reusedBlocks++;
      this.index.addBlock(block.hash, storedBytes);
    }
    this.totals.logicalBytes += block.rawBytes;
    this.totals.storedBytes += storedBytes;
    return {
      hash: block.hash,
      recordCount: block.recordCount,
      rawBytes: block.rawBytes,
      storedBytes,
      firstKey: base64(firstKey),
      lastKey: base64(lastKey),
    };
  }

  /** A block an earlier checkpoint stored, named again without reading or writing it. */
  reuse(ref: BlockRef): BlockRef {
    this.totals.reusedBlocks++;
    this.totals.logicalBytes += ref.rawBytes;
    this.totals.storedBytes += ref.storedBytes;
    return ref;
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Cuts sorted records into content-defined blocks and stores the ones the store does not hold yet
 * (BlockSink). Returns when every block it names is durable in the store — the manifest that names them
 * may be written after that, never before. `onBlock(start, end)` is called for each block, in order, as
 * its encoding starts.
 */
export async function writeRecordBlocks(
  store: ObjectStore,
  prefix: string,
  index: BlockIndex,
  records: readonly BlockRecord[],
  options: BlockWriteOptions,
  onBlock?: (start: number, end: number) => void,
): Promise<BlockWriteResult> {
  const ends = chunkRecords(records, options);
  const sink = new BlockSink(store, prefix, index, options.enableDeduplication);
  // mapLimited starts the blocks in list order, so onBlock sees them in key order.
  const blocks = await mapLimited(ends, options.concurrency, async (end, i) => {
    const start = i === 0 ? 0 : (ends[i - 1] as number);
    let block: EncodedBlock;
    if (options.encoder === undefined) {
      const encoding = encodeBlock(records, options, start, end);
      encoding.catch(() => undefined); // awaited below, unless onBlock throws first
      onBlock?.(start, end);
      block = await encoding;
    } else {
      // Checks every record first (SERIALIZATION_ERROR names the bad one), as encodeBlock does.
      measureRecords(records, start, end);
      const encoding = options.encoder.encode(packRecords(records, start, end), options);
      encoding.catch(() => undefined); // awaited below, unless onBlock throws first
      onBlock?.(start, end);
      block = await encoding;
    }
    return sink.put(block, records[start]!.key, records[end - 1]!.key);
  });
  return { ...sink.totals, blocks };
}

/**
 * writeRecordBlocks for a state held as one sorted run (a materialiser's snapshot): the same cuts and the
 * same block bytes as its records would give, read from the run's columns — no object per record.
 */
export async function writeRunBlocks(
  store: ObjectStore,
  prefix: string,
  index: BlockIndex,
  run: SortedRun,
  options: BlockWriteOptions,
  onBlock?: (start: number, end: number) => void,
): Promise<BlockWriteResult> {
  const { ends } = chunkSlices([{ run, start: 0, end: run.count }], options);
  const sink = new BlockSink(store, prefix, index, options.enableDeduplication);
  const blocks = await mapLimited(ends, options.concurrency, async (end, i) => {
    const start = i === 0 ? 0 : (ends[i - 1] as number);
    const encoding = encodeSliceBlock([{ run, start, end }], options);
    encoding.catch(() => undefined); // awaited below, unless onBlock throws first
    onBlock?.(start, end);
    const block = await encoding;
    return sink.put(block, runKey(run, start), runKey(run, end - 1));
  });
  return { ...sink.totals, blocks };
}

/**
 * One block of the records of `slices` (concatenated, sorted): on the encoder's threads (a run handed there
 * is moved, so it gets a copy), or here — from a single slice in place.
 */
export function encodeSliceBlock(
  slices: readonly RunSlice[],
  options: BlockWriteOptions,
): Promise<EncodedBlock> {
  if (options.encoder !== undefined) return options.encoder.encode(runFromSlices(slices), options);
  const first = slices[0]!;
  if (slices.length === 1) return encodeRunBlock(first.run, options, first.start, first.end);
  return encodeRunBlock(runFromSlices(slices), options);
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
