import { invalidArgument } from '../../lib/errors';
import { readBinaryStream } from './binary-stream';
import type { StreamedRecovery } from './streamed-recovery';

/** A whole TMRS stream, or its chunks as they arrive (an HTTP response body, a file read stream). */
export type RecoveryStreamSource = Uint8Array | AsyncIterable<Uint8Array>;

/**
 * Parses a binary recovery stream (TMRS, docs/formats.md) — what `POST /v1/recovery` with
 * `"format": "binary"` returns and `toBinaryStream` writes. The chunks are gathered first: the result
 * holds the whole state anyway, and its keys and values are views into that one buffer.
 *
 * DESERIALIZATION_ERROR for bytes that are not a TMRS stream or are cut inside a frame, UNSUPPORTED_VERSION
 * for a version this build does not read, INVALID_ARGUMENT for text chunks. A stream cut between frames reads
 * as `complete: false`; one that ended with the server's error frame has `error`. A source that fails (a
 * dropped connection) rejects with its own error.
 */
export async function readRecoveryStream(source: RecoveryStreamSource): Promise<StreamedRecovery> {
  if (source instanceof Uint8Array) return readBinaryStream(asBuffer(source));
  const chunks: Buffer[] = [];
  for await (const chunk of source as AsyncIterable<unknown>) {
    // A stream with an encoding set yields text: the bytes are already lost, so say how to fix it.
    if (!(chunk instanceof Uint8Array)) {
      throw invalidArgument('a recovery stream is bytes: read it without an encoding (no setEncoding)');
    }
    chunks.push(asBuffer(chunk));
  }
  return readBinaryStream(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
