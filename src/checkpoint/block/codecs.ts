import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import {
  compress as lz4Compress,
  compressSync as lz4CompressSync,
  uncompress as lz4Uncompress,
  uncompressSync as lz4UncompressSync,
} from 'lz4-napi';
import {
  compress as snappyCompress,
  compressSync as snappyCompressSync,
  uncompress as snappyUncompress,
  uncompressSync as snappyUncompressSync,
} from 'snappy';
import { compress as zstdCompressSync, decompress as zstdDecompressSync } from 'zstd-napi';
import { invalidArgument } from '../../lib/errors';

type ZstdCompress = (data: Buffer, level: number) => Promise<Buffer>;

/**
 * @mongodb-js/zstd 1.2.2's JS wrapper drops the level argument (every level compresses at 3); its
 * native binding takes it. Use the binding when it loads, else the wrapper (level then ignored).
 */
function loadZstdCompress(): ZstdCompress {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bindings = require('@mongodb-js/zstd/bindings') as { compress?: unknown };
    if (typeof bindings.compress === 'function') {
      const compress = bindings.compress as ZstdCompress;
      return async (data, level) => {
        try {
          return await compress(data, level);
        } catch (error) {
          throw new Error(`zstd: ${(error as Error).message}`);
        }
      };
    }
  } catch {
    // fall through to the public API
  }
  return (data) => zstdCompress(data);
}

const zstdCompressLevel = loadZstdCompress();

/**
 * Block compression codecs. Each call is one async native call (off the event loop thread).
 * Body formats: zstd frame; lz4 block with its u32 LE uncompressed size prepended (lz4-napi
 * `compress`); snappy raw format (varint uncompressed length first); none = the raw bytes.
 */
export type BlockCodec = 'zstd' | 'lz4' | 'snappy' | 'none';

export const BLOCK_CODECS: readonly BlockCodec[] = ['none', 'zstd', 'lz4', 'snappy'];

/** The codec byte of a block header. Never renumber: blocks on disk carry these. */
export const CODEC_IDS: Readonly<Record<BlockCodec, number>> = { none: 0, zstd: 1, lz4: 2, snappy: 3 };

export const DEFAULT_ZSTD_LEVEL = 3;

export function codecOfId(id: number): BlockCodec | undefined {
  return BLOCK_CODECS[id];
}

export function isBlockCodec(value: unknown): value is BlockCodec {
  return typeof value === 'string' && (BLOCK_CODECS as readonly string[]).includes(value);
}

export async function compressBody(
  codec: BlockCodec,
  raw: Buffer,
  zstdLevel = DEFAULT_ZSTD_LEVEL,
): Promise<Buffer> {
  switch (codec) {
    case 'zstd':
      if (!Number.isInteger(zstdLevel) || zstdLevel < -7 || zstdLevel > 22) {
        throw invalidArgument(`zstd level must be an integer in [-7, 22], got ${zstdLevel}`);
      }
      return zstdCompressLevel(raw, zstdLevel);
    case 'lz4':
      return lz4Compress(raw);
    case 'snappy':
      return snappyCompress(raw);
    case 'none':
      return raw;
    default:
      throw invalidArgument(`unknown block codec ${JSON.stringify(codec)}`);
  }
}

/**
 * compressBody on the calling thread, for worker threads (encode-worker.ts): the same formats. zstd through
 * zstd-napi, whose frames any zstd decoder reads (the bytes may differ from @mongodb-js/zstd's: a block's
 * name is the hash of its raw body, so that changes nothing but its stored size).
 */
export function compressBodySync(codec: BlockCodec, raw: Buffer, zstdLevel = DEFAULT_ZSTD_LEVEL): Buffer {
  switch (codec) {
    case 'zstd':
      if (!Number.isInteger(zstdLevel) || zstdLevel < -7 || zstdLevel > 22) {
        throw invalidArgument(`zstd level must be an integer in [-7, 22], got ${zstdLevel}`);
      }
      return zstdCompressSync(raw, { compressionLevel: zstdLevel });
    case 'lz4':
      return lz4CompressSync(raw);
    case 'snappy':
      return asBuffer(snappyCompressSync(raw));
    case 'none':
      return raw;
    default:
      throw invalidArgument(`unknown block codec ${JSON.stringify(codec)}`);
  }
}

/**
 * Decompresses a body that should hold `rawLength` bytes. Where the format states its own length
 * (lz4, snappy), that length is checked against `rawLength` first, so a corrupt length never makes
 * the native library allocate a huge buffer. Errors are the libraries' own; the block codec maps them.
 */
export async function decompressBody(codec: BlockCodec, body: Buffer, rawLength: number): Promise<Buffer> {
  checkStatedLength(codec, body, rawLength);
  switch (codec) {
    case 'zstd':
      return zstdDecompress(body);
    case 'lz4':
      return lz4Uncompress(body);
    case 'snappy':
      return asBuffer(await snappyUncompress(body));
    case 'none':
      return body;
  }
}

/** Where the format states its own length (lz4, snappy), it must be `rawLength`: checked before the library allocates. */
function checkStatedLength(codec: BlockCodec, body: Buffer, rawLength: number): void {
  if (codec === 'lz4' && (body.length < 4 || body.readUInt32LE(0) !== rawLength)) {
    throw new Error('lz4 size prefix mismatch');
  }
  if (codec === 'snappy' && snappyLength(body) !== rawLength)
    throw new Error('snappy length preamble mismatch');
}

function asBuffer(out: string | Buffer): Buffer {
  return typeof out === 'string' ? Buffer.from(out, 'latin1') : out;
}

/**
 * `decompressBody` on the calling thread, for worker threads: the async calls decompress on libuv's pool,
 * which the process shares — its reads wait behind the decompressions there, and a worker's own thread
 * sits idle meanwhile (measured: 241 → 342 MB/s of recovery on 2 threads). zstd through zstd-napi
 * (@mongodb-js/zstd has no synchronous call); the same length checks first (checkStatedLength).
 */
export function decompressBodySync(codec: BlockCodec, body: Buffer, rawLength: number): Buffer {
  checkStatedLength(codec, body, rawLength);
  switch (codec) {
    case 'zstd':
      return zstdDecompressSync(body);
    case 'lz4':
      return lz4UncompressSync(body);
    case 'snappy':
      return asBuffer(snappyUncompressSync(body));
    case 'none':
      return body;
  }
}

/** The uncompressed length a snappy raw body starts with, or -1. */
function snappyLength(body: Buffer): number {
  let length = 0;
  let shift = 1;
  for (let i = 0; i < 5 && i < body.length; i++) {
    const byte = body[i]!;
    length += (byte & 0x7f) * shift;
    if (byte < 0x80) return length;
    shift *= 128;
  }
  return -1;
}
