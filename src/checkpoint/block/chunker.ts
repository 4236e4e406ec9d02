import { mix32 } from '../../lib/mix32';
import { invalidArgument } from '../../lib/errors';
import type { RunSlice } from '../run/run-types';
import { recordSize, recordSizeOf, type BlockRecord } from './record-codec';

/**
 * Content-defined chunking of a component's SORTED records into blocks, at record boundaries.
 *
 * Rule: walk the records adding up their encoded sizes. After record r, with `size` bytes in the block
 * so far, cut when
 *   - size ≥ maxSize, or the next record would take the block past maxSize (and the block is not empty); or
 *   - size ≥ minSize and hash32(key of r) / 2^32 < recordSize(r) / (targetSize − minSize).
 * The second condition makes every byte past minSize a cut point with probability 1/(target − min), so
 * blocks average about targetSize; and it depends only on the record's key (and size), never on its
 * value's bytes or its position, so after a local change the cuts fall back onto the same keys within a
 * block or two. hash32 is FNV-1a with a murmur3 finaliser, in JS (no native call per record).
 *
 * Sizes land in [minSize, maxSize] except for the last block, and next to a single record larger than
 * maxSize − minSize (it gets a block of its own).
 */
export interface ChunkOptions {
  /** Default 1 MiB. */
  targetSize?: number;
  /** Default targetSize / 4. */
  minSize?: number;
  /** Default targetSize * 4. */
  maxSize?: number;
}

export const DEFAULT_TARGET_BLOCK_SIZE = 1 << 20;

interface ChunkSizes {
  min: number;
  max: number;
  span: number;
}

function resolve(options: ChunkOptions): ChunkSizes {
  const target = options.targetSize ?? DEFAULT_TARGET_BLOCK_SIZE;
  const min = options.minSize ?? Math.floor(target / 4);
  const max = options.maxSize ?? target * 4;
  if (!Number.isSafeInteger(target) || !Number.isSafeInteger(min) || !Number.isSafeInteger(max)) {
    throw invalidArgument('chunk sizes must be integers');
  }
  if (!(min >= 0 && min < target && target <= max)) {
    throw invalidArgument(`chunk sizes must satisfy 0 <= minSize < targetSize <= maxSize`, {
      target,
      min,
      max,
    });
  }
  return { min, max, span: target - min };
}

/** 32-bit FNV-1a of the key, finalised (murmur3 fmix32) so that near-equal keys spread out. */
export function keyHash32(key: Uint8Array): number {
  return keyHash32At(key, 0, key.length);
}

/** keyHash32 of `bytes[start, end)`. */
function keyHash32At(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return mix32(h);
}

const TWO_32 = 0x1_0000_0000;

/** The exclusive end index of each block of `records`, in order; the last is `records.length`. */
export function chunkRecords(records: readonly BlockRecord[], options: ChunkOptions = {}): number[] {
  const { min, max, span } = resolve(options);
  const ends: number[] = [];
  let size = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const bytes = recordSize(record);
    if (size > 0 && size + bytes > max) {
      ends.push(i);
      size = 0;
    }
    size += bytes;
    if (size >= max || (size >= min && keyHash32(record.key) < (bytes / span) * TWO_32)) {
      ends.push(i + 1);
      size = 0;
    }
  }
  if (size > 0) ends.push(records.length);
  return ends;
}

/** The blocks of `records` as [start, end) index pairs. */
export function* chunkRanges(
  records: readonly BlockRecord[],
  options: ChunkOptions = {},
): Generator<[start: number, end: number]> {
  let start = 0;
  for (const end of chunkRecords(records, options)) {
    yield [start, end];
    start = end;
  }
}

/** Where chunkSlices cut: record ordinals across the slices. */
export interface SliceCuts {
  /** The exclusive end of each block, in order; the last is the record count. */
  ends: number[];
  /**
   * Where the records after the last content-defined cut start (the record count when the last block
   * ended on a cut): a block that ends only because the input did. A merge that writes part of a
   * component carries them into the next stretch so that cuts fall back onto the old ones.
   */
  tailStart: number;
}

/**
 * chunkRecords over the records of run slices (concatenation sorted): the same rule and sizes, so the
 * same records get the same cuts whichever way they are held.
 */
export function chunkSlices(slices: readonly RunSlice[], options: ChunkOptions = {}): SliceCuts {
  const { min, max, span } = resolve(options);
  const ends: number[] = [];
  let size = 0;
  let ordinal = 0;
  let cutAtEnd = true;
  for (const { run, start, end } of slices) {
    const { keyBytes, keyStarts, valueStarts, deletes } = run;
    for (let i = start; i < end; i++, ordinal++) {
      const keyStart = keyStarts[i]!;
      const keyEnd = keyStarts[i + 1]!;
      const valueLength =
        deletes !== undefined && deletes[i] === 1 ? -1 : valueStarts[i + 1]! - valueStarts[i]!;
      const bytes = recordSizeOf(keyEnd - keyStart, valueLength);
      if (size > 0 && size + bytes > max) {
        ends.push(ordinal);
        size = 0;
      }
      size += bytes;
      if (size >= max || (size >= min && keyHash32At(keyBytes, keyStart, keyEnd) < (bytes / span) * TWO_32)) {
        ends.push(ordinal + 1);
        size = 0;
        cutAtEnd = true;
      } else cutAtEnd = false;
    }
  }
  if (size > 0) ends.push(ordinal);
  const tailStart = cutAtEnd ? ordinal : ends.length > 1 ? ends[ends.length - 2]! : 0;
  return { ends, tailStart };
}
