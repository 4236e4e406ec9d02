/**
 * The recovery worker (run by piscina on `maxParallelThreads` threads): checks and decompresses one block —
 * stored crc32c, decompression, raw crc32c, sha256 against its name — off the main thread, and hands back
 * either its raw body (`raw`: for verification) or the sorted run it decodes to (`run`: for a recovery,
 * so that the calling thread does no per-record work), moved in one buffer, not copied. Errors come back
 * as values: a thrown TidemarkError would lose its code crossing the thread boundary.
 * piscina loads this file by name: dist/recovery/block-worker.js in a build (see block-pool.ts).
 */
import { move } from 'piscina';
import { decodeRun, openBlock } from '../checkpoint/block/block-codec';
import { packRun } from '../checkpoint/run/run-transfer';
import { TidemarkError } from '../lib/errors';

export interface BlockTask {
  bytes: ArrayBuffer;
  hash: string;
  want: 'raw' | 'run';
  /** Recompute the sha256 that names the block (the crc32c checks run always). */
  checkHash: boolean;
}

/**
 * Success: one buffer, moved — `raw`: format u8, recordCount u32 LE, then the raw body; `run`: the run as
 * run-transfer.ts lays it out. Failure: the error as a value.
 */
export type BlockTaskResult = ArrayBuffer | { code: string; message: string };

export default async function openBlockTask(task: BlockTask): Promise<BlockTaskResult> {
  try {
    // This thread is there to work: decompressing here keeps libuv's pool free for the caller's reads.
    const opened = await openBlock(Buffer.from(task.bytes), task.hash, {
      checkHash: task.checkHash,
      syncDecompress: true,
    });
    if (task.want === 'run') return move(packRun(decodeRun(opened))) as ArrayBuffer;
    const { raw, recordCount, version } = opened;
    const out = Buffer.allocUnsafeSlow(5 + raw.length);
    out[0] = version;
    out.writeUInt32LE(recordCount, 1);
    raw.copy(out, 5);
    return move(out.buffer as ArrayBuffer) as ArrayBuffer;
  } catch (error) {
    const code = error instanceof TidemarkError ? error.code : 'INTERNAL';
    return { code, message: error instanceof Error ? error.message : String(error) };
  }
}
