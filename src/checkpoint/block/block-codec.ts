import { crc32c } from '@node-rs/crc32';
import { createHash } from 'node:crypto';
import { TidemarkError, invalidArgument } from '../../lib/errors';
import type { DeltaRecord } from '../state/state-types';
import {
  CODEC_IDS,
  DEFAULT_ZSTD_LEVEL,
  codecOfId,
  compressBody,
  compressBodySync,
  decompressBody,
  decompressBodySync,
  isBlockCodec,
} from './codecs';
import type { BlockCodec } from './codecs';
import { countRecords, decodeRecords, measureRecords, type BlockRecord } from './record-codec';
import { decodeRunBody, encodeRunBody } from './run-body-codec';
import { compareRunKeys } from '../run/run-slice';
import { runFromRecords, runToRecords, type SortedRun } from '../run/sorted-run';

/**
 * A block: a 24-byte header, then the body (the raw record bytes, compressed or not).
 *
 *   magic "TMBK" | formatVersion u8 | codec u8 | flags u16 | rawLength u32 | recordCount u32
 *   | rawCrc32c u32 | blockCrc32c u32
 *
 * (integers little-endian). rawCrc32c covers the raw record bytes; blockCrc32c covers the stored bytes:
 * header bytes [0, 20) and the body. The second one is there because many bit flips inside a compressed
 * body still decompress to the very same raw bytes (zstd's unused header bits, lz4 offsets into
 * repeated bytes), so a raw checksum alone cannot notice every flip of what is stored.
 * The block's name is the sha256 of its RAW record bytes, so the same records make the same block
 * whatever the codec, and identical blocks are stored once.
 */
export const BLOCK_MAGIC = 'TMBK';
/**
 * The format written: 2, a sorted run in columns (run-body-codec.ts). Format 1 — records back to back
 * (record-codec.ts) — is still read, so checkpoints written before stay restorable.
 */
export const BLOCK_FORMAT_VERSION = 2;
const READABLE_VERSIONS: readonly number[] = [1, 2];
export const BLOCK_HEADER_SIZE = 24;
const BLOCK_CRC_OFFSET = 20;
/** The largest raw body a block may have, written or read: a corrupt length never allocates more. */
export const MAX_BLOCK_RAW_BYTES = 1 << 30;
export const DEFAULT_COMPRESSION_THRESHOLD = 1024;

export interface BlockOptions {
  /** Default zstd. */
  codec?: BlockCodec;
  /** Bodies with fewer raw bytes than this stay raw (codec byte 'none'). Default 1024. */
  compressionThreshold?: number;
  /** Default 3. */
  zstdLevel?: number;
}

export interface EncodedBlock {
  /** sha256 (hex) of the raw record bytes: the content address. */
  hash: string;
  /** Header + body: what is stored. */
  bytes: Buffer;
  /** The codec actually used ('none' when below the threshold or when compression did not shrink). */
  codec: BlockCodec;
  rawBytes: number;
  storedBytes: number;
  recordCount: number;
}

export interface BlockInfo {
  hash: string;
  codec: BlockCodec;
  rawBytes: number;
  storedBytes: number;
  recordCount: number;
}

export function blockHash(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/** Encodes `records[start, end)` (already sorted by the caller) into one block. */
export async function encodeBlock(
  records: readonly BlockRecord[],
  options: BlockOptions = {},
  start = 0,
  end = records.length,
): Promise<EncodedBlock> {
  // Checks every record (Buffers, safe LSNs and timestamps): SERIALIZATION_ERROR names the bad one.
  measureRecords(records, start, end);
  return encodeRunBlock(runFromRecords(records, start, end), options);
}

/** Encodes records [start, end) of `run` (sorted, keys unique) into one block; compresses on libuv's pool. */
export async function encodeRunBlock(
  run: SortedRun,
  options: BlockOptions = {},
  start = 0,
  end = run.count,
): Promise<EncodedBlock> {
  const body = encodeBody(run, options, start, end);
  const compressed = body.compress ? await compressBody(body.codec, body.raw, body.level) : undefined;
  return finishBlock(body, compressed);
}

/** encodeRunBlock with everything on the calling thread (a worker thread's). */
export function encodeRunBlockSync(
  run: SortedRun,
  options: BlockOptions = {},
  start = 0,
  end = run.count,
): EncodedBlock {
  const body = encodeBody(run, options, start, end);
  return finishBlock(body, body.compress ? compressBodySync(body.codec, body.raw, body.level) : undefined);
}

interface EncodedBody {
  /** Header room, then the raw body. */
  whole: Buffer;
  raw: Buffer;
  codec: BlockCodec;
  level: number;
  compress: boolean;
  recordCount: number;
}

function encodeBody(run: SortedRun, options: BlockOptions, start: number, end: number): EncodedBody {
  const codec = options.codec ?? 'zstd';
  const threshold = options.compressionThreshold ?? DEFAULT_COMPRESSION_THRESHOLD;
  if (!isBlockCodec(codec)) throw invalidArgument(`unknown block codec ${JSON.stringify(codec)}`);
  if (!(threshold >= 0)) throw invalidArgument('compressionThreshold must be a non-negative number');
  // One buffer: header room, then the raw body. Stored as is when it stays raw.
  const whole = encodeRunBody(run, start, end, BLOCK_HEADER_SIZE);
  const raw = whole.subarray(BLOCK_HEADER_SIZE);
  if (raw.length > MAX_BLOCK_RAW_BYTES) {
    throw new TidemarkError(
      'SERIALIZATION_ERROR',
      `block of ${raw.length} raw bytes is over ${MAX_BLOCK_RAW_BYTES}`,
    );
  }
  const compress = codec !== 'none' && raw.length >= threshold;
  return {
    whole,
    raw,
    codec,
    level: options.zstdLevel ?? DEFAULT_ZSTD_LEVEL,
    compress,
    recordCount: end - start,
  };
}

/** Hash, checksums and header around the raw body, or around `compressed` when it came out smaller. */
function finishBlock(body: EncodedBody, compressed: Buffer | undefined): EncodedBlock {
  const { whole, raw, recordCount } = body;
  const rawBytes = raw.length;
  const hash = blockHash(raw);
  const crc = crc32c(raw);
  let bytes = whole;
  let used: BlockCodec = 'none';
  if (compressed !== undefined && compressed.length < rawBytes) {
    bytes = Buffer.allocUnsafe(BLOCK_HEADER_SIZE + compressed.length);
    bytes.set(compressed, BLOCK_HEADER_SIZE);
    used = body.codec;
  }
  bytes.write(BLOCK_MAGIC, 0, 'latin1');
  bytes[4] = BLOCK_FORMAT_VERSION;
  bytes[5] = CODEC_IDS[used];
  bytes.writeUInt16LE(0, 6);
  bytes.writeUInt32LE(rawBytes, 8);
  bytes.writeUInt32LE(recordCount, 12);
  bytes.writeUInt32LE(crc, 16);
  bytes.writeUInt32LE(storedCrc(bytes), BLOCK_CRC_OFFSET);
  return { hash, bytes, codec: used, rawBytes, storedBytes: bytes.length, recordCount };
}

/**
 * Checks and decodes a block. Keys and values are views into the decompressed bytes (for a raw block,
 * into `bytes` itself: keep it unchanged while the records live).
 * DESERIALIZATION_ERROR: not a block, unknown codec, malformed records or record count;
 * UNSUPPORTED_VERSION: a format version or flags this reader does not know;
 * CHECKSUM_MISMATCH: the stored bytes fail blockCrc32c, the body does not decompress to rawLength bytes
 * with the header's rawCrc32c, or the raw bytes' sha256 is not `expectedHash`.
 */
export async function decodeBlock(bytes: Buffer, expectedHash?: string): Promise<DeltaRecord[]> {
  return decodeBody(await openBlock(bytes, expectedHash));
}

/** Checks and decodes a block (either format) into a run. Values are views into the decompressed body. */
export async function decodeBlockRun(bytes: Buffer, expectedHash?: string): Promise<SortedRun> {
  return decodeRun(await openBlock(bytes, expectedHash));
}

/**
 * The run an opened block's raw body holds, whichever format: keys checked to rise strictly in both
 * (DESERIALIZATION_ERROR otherwise — format 1 records are checked here, after the fact).
 */
export function decodeRun(opened: Pick<OpenedBlock, 'raw' | 'recordCount' | 'version'>): SortedRun {
  if (opened.version !== 1) return decodeRunBody(opened.raw, opened.recordCount);
  const run = runFromRecords(decodeRecords(opened.raw, opened.recordCount));
  for (let i = 1; i < run.count; i++) {
    if (compareRunKeys(run, i - 1, run, i) >= 0) {
      throw new TidemarkError(
        'DESERIALIZATION_ERROR',
        `malformed block records: record ${i} is not above the one before`,
      );
    }
  }
  return run;
}

/** The records of an opened block's raw body, whichever format it has. */
export function decodeBody(opened: Pick<OpenedBlock, 'raw' | 'recordCount' | 'version'>): DeltaRecord[] {
  if (opened.version === 1) return decodeRecords(opened.raw, opened.recordCount);
  return runToRecords(decodeRunBody(opened.raw, opened.recordCount));
}

/** How many records an opened block's raw body holds, with every check decoding makes. */
export function countBody(opened: Pick<OpenedBlock, 'raw' | 'recordCount' | 'version'>): number {
  if (opened.version === 1) return countRecords(opened.raw);
  return decodeRunBody(opened.raw, opened.recordCount).count;
}

/** Every check `decodeBlock` makes (sha256 always), without building records. For recovery's verify levels. */
export async function verifyBlock(bytes: Buffer, expectedHash: string): Promise<BlockInfo> {
  const opened = await openBlock(bytes, expectedHash);
  const { raw, recordCount, codec } = opened;
  const counted = countBody(opened);
  if (counted !== recordCount) {
    throw new TidemarkError(
      'DESERIALIZATION_ERROR',
      `block ${expectedHash}: ${counted} records, the header says ${recordCount}`,
      { details: { hash: expectedHash } },
    );
  }
  return { hash: expectedHash, codec, rawBytes: raw.length, storedBytes: bytes.length, recordCount };
}

/** crc32c of header bytes [0, 20) and the body. */
function storedCrc(bytes: Buffer): number {
  return crc32c(bytes.subarray(BLOCK_HEADER_SIZE), crc32c(bytes.subarray(0, BLOCK_CRC_OFFSET)));
}

/**
 * The cheap check (no decompression, no hash): the header is a known one and the stored bytes are
 * intact. Throws like `decodeBlock`. Enough to verify an upload read back.
 */
export function verifyStoredBlock(bytes: Buffer, expectedHash?: string): void {
  checkStored(bytes, `block ${expectedHash ?? '(unnamed)'}`, { hash: expectedHash });
}

function checkStored(bytes: Buffer, name: string, details: Record<string, unknown>): void {
  if (bytes.length < BLOCK_HEADER_SIZE || bytes.toString('latin1', 0, 4) !== BLOCK_MAGIC) {
    throw new TidemarkError(
      'DESERIALIZATION_ERROR',
      `${name} is not a Tidemark block (bad magic or too short)`,
      {
        details,
      },
    );
  }
  // The version before the checksum: a block of a later format gets this clear refusal.
  const version = bytes[4]!;
  if (!READABLE_VERSIONS.includes(version)) {
    throw new TidemarkError(
      'UNSUPPORTED_VERSION',
      `${name} has format version ${version}; this reader knows versions ${READABLE_VERSIONS.join(' and ')}`,
      { details: { ...details, version } },
    );
  }
  if (storedCrc(bytes) !== bytes.readUInt32LE(BLOCK_CRC_OFFSET)) {
    throw new TidemarkError('CHECKSUM_MISMATCH', `${name}: crc32c of the stored bytes does not match`, {
      details,
    });
  }
}

export interface OpenedBlock {
  raw: Buffer;
  codec: BlockCodec;
  recordCount: number;
  /** The block format: 1 (records back to back) or 2 (a run in columns). */
  version: number;
}

/**
 * Checks a stored block whole — magic, version, stored crc32c, decompression, raw crc32c, and (unless
 * `checkHash` is false) the sha256 that names it — and returns its raw body. Without the sha256 every
 * corruption is still caught by the two crc32c; what only the hash catches is a block stored under another
 * block's name (recovery's `full` level checks it).
 */
export interface OpenOptions {
  /** Recompute the sha256 that names the block (default true). */
  checkHash?: boolean;
  /** Decompress on this thread, not libuv's pool (for worker threads; default false). */
  syncDecompress?: boolean;
}

export async function openBlock(
  bytes: Buffer,
  expectedHash: string | undefined,
  options: OpenOptions = {},
): Promise<OpenedBlock> {
  const checkHash = options.checkHash ?? true;
  const name = `block ${expectedHash ?? '(unnamed)'}`;
  const details = { hash: expectedHash };
  checkStored(bytes, name, details);
  const codec = codecOfId(bytes[5]!);
  if (codec === undefined) {
    throw new TidemarkError('DESERIALIZATION_ERROR', `${name} has unknown codec id ${bytes[5]}`, { details });
  }
  const flags = bytes.readUInt16LE(6);
  if (flags !== 0) {
    throw new TidemarkError(
      'UNSUPPORTED_VERSION',
      `${name} has flags 0x${flags.toString(16)} this reader does not know`,
      {
        details,
      },
    );
  }
  const rawLength = bytes.readUInt32LE(8);
  const recordCount = bytes.readUInt32LE(12);
  const crc = bytes.readUInt32LE(16);
  if (rawLength > MAX_BLOCK_RAW_BYTES) {
    throw new TidemarkError('DESERIALIZATION_ERROR', `${name} claims ${rawLength} raw bytes`, { details });
  }
  const body = bytes.subarray(BLOCK_HEADER_SIZE);
  let raw: Buffer;
  try {
    raw = options.syncDecompress
      ? decompressBodySync(codec, body, rawLength)
      : await decompressBody(codec, body, rawLength);
  } catch (error) {
    throw new TidemarkError('CHECKSUM_MISMATCH', `${name}: the ${codec} body does not decompress (corrupt)`, {
      cause: error,
      details,
    });
  }
  if (raw.length !== rawLength) {
    throw new TidemarkError(
      'CHECKSUM_MISMATCH',
      `${name}: body holds ${raw.length} raw bytes, the header says ${rawLength}`,
      { details },
    );
  }
  if (crc32c(raw) !== crc) {
    throw new TidemarkError('CHECKSUM_MISMATCH', `${name}: crc32c of the raw bytes does not match`, {
      details,
    });
  }
  if (checkHash && expectedHash !== undefined && blockHash(raw) !== expectedHash) {
    throw new TidemarkError('CHECKSUM_MISMATCH', `${name}: sha256 of the raw bytes is not the block's name`, {
      details,
    });
  }
  return { raw, codec, recordCount, version: bytes[4]! };
}
