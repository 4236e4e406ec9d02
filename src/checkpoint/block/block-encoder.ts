/**
 * Where checkpoint blocks are encoded, hashed and compressed: on the calling thread (compression on libuv's
 * pool), or on worker threads (encode-worker.ts), so that the calling thread only cuts runs and stores
 * what comes back. Both give the same block: the same raw body, so the same name.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Piscina } from 'piscina';
import { TidemarkError, type ErrorCode } from '../../lib/errors';
import { packRun } from '../run/run-transfer';
import type { SortedRun } from '../run/run-types';
import { encodeRunBlock, type BlockOptions, type EncodedBlock } from './block-codec';
import { codecOfId } from './codecs';
import { HASH_BYTES, type EncodeTask, type EncodeTaskResult } from './encode-worker';

export interface BlockEncoder {
  /**
   * The block of the whole of `run`. A run built for it (allocatePackedRun, packRecords, runFromSlices)
   * moves to the worker without a copy; the caller must not use it afterwards.
   */
  encode(run: SortedRun, options: BlockOptions): Promise<EncodedBlock>;
  close(): Promise<void>;
}

/** On the calling thread: encodeRunBlock. */
export const inlineBlockEncoder: BlockEncoder = {
  encode: (run, options) => encodeRunBlock(run, options),
  close: async () => undefined,
};

export const DEFAULT_ENCODE_WORKER = path.join(__dirname, 'encode-worker.js');

/** A piscina pool of `threads` worker threads (started on first use). */
export class WorkerBlockEncoder implements BlockEncoder {
  private pool: Piscina | undefined;
  /** Closed: no pool is started again (an encode after close is refused, not a new pool nobody closes). */
  private closed = false;

  constructor(
    private readonly threads: number,
    readonly filename: string = DEFAULT_ENCODE_WORKER,
  ) {}

  /**
   * The pool when its worker file exists (a build), else the calling thread (running from TypeScript
   * sources: tests point `filename` at the build's copy).
   */
  static create(threads: number, filename = DEFAULT_ENCODE_WORKER): BlockEncoder {
    return threads >= 1 && existsSync(filename)
      ? new WorkerBlockEncoder(threads, filename)
      : inlineBlockEncoder;
  }

  async encode(run: SortedRun, options: BlockOptions): Promise<EncodedBlock> {
    if (this.closed) throw new TidemarkError('CLOSED', 'the block encoder is closed');
    this.pool ??= new Piscina({
      filename: this.filename,
      minThreads: this.threads,
      maxThreads: this.threads,
    });
    const buffer = packRun(run);
    // Only what the block format needs crosses (the caller's options may hold more, this encoder included).
    const { codec, compressionThreshold, zstdLevel } = options;
    const task: EncodeTask = { run: buffer, options: { codec, compressionThreshold, zstdLevel } };
    const result = (await this.pool.run(task, { transferList: [buffer] })) as EncodeTaskResult;
    if (!(result instanceof ArrayBuffer)) {
      throw new TidemarkError(result.code as ErrorCode, result.message);
    }
    const out = Buffer.from(result);
    const bytes = out.subarray(HASH_BYTES);
    return {
      hash: out.toString('hex', 0, HASH_BYTES),
      bytes,
      codec: codecOfId(bytes[5]!)!,
      rawBytes: bytes.readUInt32LE(8),
      storedBytes: bytes.length,
      recordCount: bytes.readUInt32LE(12),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.destroy();
  }
}
