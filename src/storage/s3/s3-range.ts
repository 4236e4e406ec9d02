import type { ByteRange } from '../object-store';

/**
 * The `Range` header for `range`, or undefined for the whole object. HTTP cannot ask for zero bytes, so the
 * caller handles `length: 0` without a GET.
 */
export function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (range === undefined || (range.offset === 0 && range.length === undefined)) return undefined;
  const last = range.length === undefined ? '' : String(range.offset + range.length - 1);
  return `bytes=${range.offset}-${last}`;
}

/** Which bytes of the object a GET answer holds, and how long the object is. */
export interface ServedPart {
  /** Offset in the object of the answer's first byte. */
  start: number;
  /** Bytes in the answer. */
  length: number;
  /** The object's size. */
  size: number;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/**
 * Reads `Content-Range` (a 206 answer) or, without it, takes the answer for the whole object (a 200: a server
 * may ignore `Range`, HTTP allows it). Undefined when the headers make no sense.
 */
export function servedPart(
  contentRange: string | undefined,
  contentLength: number | undefined,
): ServedPart | undefined {
  if (contentRange === undefined) {
    return contentLength === undefined ? undefined : { start: 0, length: contentLength, size: contentLength };
  }
  const match = CONTENT_RANGE.exec(contentRange.trim());
  if (match === null) return undefined;
  const start = Number(match[1]);
  const length = Number(match[2]) - start + 1;
  const size = match[3] === '*' ? start + length : Number(match[3]);
  if (length < 0 || start + length > size) return undefined;
  return { start, length, size };
}
