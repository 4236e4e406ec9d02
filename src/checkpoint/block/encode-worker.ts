/**
 * The block encode worker (run by piscina, block-encoder.ts): one block's body encoded, hashed, checksummed
 * and compressed off the calling thread. The run arrives moved in one buffer (run-transfer.ts); the block
 * leaves moved in one buffer too: its sha256 (32 bytes), then its stored bytes — the header says the rest.
 * Errors come back as values: a thrown TidemarkError would lose its code crossing the thread boundary.
 * piscina loads this file by name: dist/checkpoint/block/encode-worker.js in a build.
 */
import { move } from 'piscina';
import { TidemarkError } from '../../lib/errors';
import { unpackRun } from '../run/run-transfer';
import { encodeRunBlockSync, type BlockOptions } from './block-codec';

export interface EncodeTask {
  run: ArrayBuffer;
  options: BlockOptions;
}

export type EncodeTaskResult = ArrayBuffer | { code: string; message: string };

export const HASH_BYTES = 32;

export default function encodeBlockTask(task: EncodeTask): EncodeTaskResult {
  try {
    const block = encodeRunBlockSync(unpackRun(task.run), task.options);
    const out = Buffer.allocUnsafeSlow(HASH_BYTES + block.bytes.length);
    out.write(block.hash, 0, 'hex');
    block.bytes.copy(out, HASH_BYTES);
    return move(out.buffer as ArrayBuffer) as ArrayBuffer;
  } catch (error) {
    const code = error instanceof TidemarkError ? error.code : 'INTERNAL';
    return { code, message: error instanceof Error ? error.message : String(error) };
  }
}
