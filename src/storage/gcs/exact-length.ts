import { Transform, type TransformCallback } from 'node:stream';
import { lengthMismatch } from '../storage-errors';

/**
 * Passes a body through while counting it; fails (INVALID_ARGUMENT) as soon as it is longer than `expected`,
 * or at its end when it is shorter — before the upload's last request, so GCS never completes the object.
 */
export function exactLength(key: string, expected: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > expected) callback(lengthMismatch(key, expected, seen));
      else callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      callback(seen === expected ? null : lengthMismatch(key, expected, seen));
    },
  });
}
