import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Piscina } from 'piscina';
import { openBlock, type OpenedBlock } from '../checkpoint/block/block-codec';
import { TidemarkError, type ErrorCode } from '../lib/errors';
import type { BlockTask, BlockTaskResult } from './block-worker';

export const DEFAULT_BLOCK_WORKER = path.join(__dirname, 'block-worker.js');

/**
 * Where recovered blocks are checked and decompressed: a piscina pool of `threads` worker threads, or the
 * calling thread when `threads` is 1 or the worker file is missing (running from TypeScript sources; the
 * tests point `filename` at the build's copy). Same checks, same result either way.
 */
export class BlockPool {
  private pool: Piscina | undefined;
  readonly inline: boolean;

  constructor(
    private readonly threads: number,
    readonly filename: string = DEFAULT_BLOCK_WORKER,
  ) {
    this.inline = threads <= 1 || !existsSync(filename);
  }

  async open(bytes: Buffer, hash: string): Promise<Pick<OpenedBlock, 'raw' | 'recordCount' | 'version'>> {
    if (this.inline) return openBlock(bytes, hash);
    this.pool ??= new Piscina({
      filename: this.filename,
      minThreads: this.threads,
      maxThreads: this.threads,
    });
    // The fetched bytes are moved to the worker; a Buffer from a pool slab is copied out first.
    const own = (
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? bytes.buffer
        : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    ) as ArrayBuffer;
    const task: BlockTask = { bytes: own, hash };
    const result = (await this.pool.run(task, { transferList: [own] })) as BlockTaskResult;
    if (!(result instanceof ArrayBuffer)) {
      throw new TidemarkError(result.code as ErrorCode, result.message, { details: { hash } });
    }
    const out = Buffer.from(result);
    return { raw: out.subarray(5), recordCount: out.readUInt32LE(1), version: out[0]! };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.destroy();
  }
}
