import type { SortedRun } from '../run/run-types';
import { decodeBlockRun } from './block-codec';

/**
 * Where stored blocks are checked (checksums, the sha256 that names them), decompressed and decoded into
 * runs: the calling thread by default; a node hands in a pool of worker threads (the recovery's BlockPool)
 * so that loading a checkpoint leaves only the merge and the load to the calling thread.
 */
export interface BlockDecoder {
  /**
   * The run block `hash` holds, after every check (CHECKSUM_MISMATCH, DESERIALIZATION_ERROR). The run is
   * the caller's: a node's open takes its bytes over, so the decoder must keep no reference to it.
   */
  decodeRun(bytes: Buffer, hash: string): Promise<SortedRun>;
}

/** On the calling thread (decompression on libuv's pool). */
export const inlineBlockDecoder: BlockDecoder = { decodeRun: (bytes, hash) => decodeBlockRun(bytes, hash) };
