import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Piscina } from 'piscina';
import { decodeRun, openBlock, type OpenedBlock } from '../checkpoint/block/block-codec';
import type { BlockDecoder } from '../checkpoint/block/block-decoder';
import { unpackRun } from '../checkpoint/run/run-transfer';
import type { SortedRun } from '../checkpoint/run/sorted-run';
import { TidemarkError, type ErrorCode } from '../lib/errors';
import type { BlockTask, BlockTaskResult } from './block-worker';

export const DEFAULT_BLOCK_WORKER = path.join(__dirname, 'block-worker.js');

/**
 * Where recovered blocks are checked and decompressed: a piscina pool of `threads` worker threads, or the
 * calling thread when `threads` is 1 or the worker file is missing (running from TypeScript sources; the
 * tests point `filename` at the build's copy). Same checks, same result either way.
 */
export class BlockPool implements BlockDecoder {
  private pool: Piscina | undefined;
  /** Closed: no pool is started again (work still arriving — reads of a load that failed — is refused). */
  private closed = false;
  readonly inline: boolean;

  constructor(
    private readonly threads: number,
    readonly filename: string = DEFAULT_BLOCK_WORKER,
  ) {
    this.inline = threads <= 1 || !existsSync(filename);
  }

  /** Blocks checked and decoded at once: the worker threads, or 1 on the calling thread. */
  get parallelism(): number {
    return this.inline ? 1 : this.threads;
  }

  /** The block's raw body, after every check (for verification). */
  async open(bytes: Buffer, hash: string): Promise<Pick<OpenedBlock, 'raw' | 'recordCount' | 'version'>> {
    if (this.inline) return openBlock(bytes, hash);
    const out = Buffer.from(await this.run(bytes, hash, 'raw'));
    return { raw: out.subarray(5), recordCount: out.readUInt32LE(1), version: out[0]! };
  }

  /**
   * The sorted run the block holds, after its checks (the sha256 of its name only with `checkHash`):
   * decoded on a worker thread, nothing to do here.
   */
  async openRun(bytes: Buffer, hash: string, checkHash = true): Promise<SortedRun> {
    if (this.inline) return decodeRun(await openBlock(bytes, hash, { checkHash }));
    return unpackRun(await this.run(bytes, hash, 'run', checkHash));
  }

  /** As a BlockDecoder: openRun with every check. */
  decodeRun(bytes: Buffer, hash: string): Promise<SortedRun> {
    return this.openRun(bytes, hash);
  }

  private async run(
    bytes: Buffer,
    hash: string,
    want: BlockTask['want'],
    checkHash = true,
  ): Promise<ArrayBuffer> {
    if (this.closed) throw new TidemarkError('CLOSED', 'the block worker pool is closed');
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
    const task: BlockTask = { bytes: own, hash, want, checkHash };
    const result = (await this.pool.run(task, { transferList: [own] })) as BlockTaskResult;
    if (!(result instanceof ArrayBuffer)) {
      throw new TidemarkError(result.code as ErrorCode, result.message, { details: { hash } });
    }
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.destroy();
  }
}
