import { invalidArgument } from '../lib/errors';
import type { ByteRange } from './object-store';

/** Throws INVALID_ARGUMENT unless `range` is absent or has a non-negative integer offset and length. */
export function checkRange(range: ByteRange | undefined): void {
  if (range === undefined) return;
  const { offset, length } = range;
  const bad = (n: number | undefined) => n !== undefined && (!Number.isSafeInteger(n) || n < 0);
  if (typeof range !== 'object' || offset === undefined || bad(offset) || bad(length)) {
    throw invalidArgument('invalid byte range: expected non-negative integers { offset, length? }', {
      range,
    });
  }
}

/** The bytes [start, end) of an object of `size` that `range` selects, clipped to the object. */
export function clipRange(size: number, range: ByteRange | undefined): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size };
  const start = Math.min(range.offset, size);
  const end = range.length === undefined ? size : Math.min(size, start + range.length);
  return { start, end };
}
