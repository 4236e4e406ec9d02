import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Parts are gathered into writes of about this size. */
const BATCH_BYTES = 64 * 1024;

/**
 * Gathers `source`'s parts into larger chunks; when `source` fails, yields what it had, then `onError`'s
 * frame, and ends (the error has been told to the reader inside the stream: see ndjson.ts, binary-stream.ts).
 */
export async function* batched(
  source: AsyncIterable<string | Buffer>,
  onError: (error: unknown) => string | Buffer,
): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const part of source) {
      const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
      parts.push(bytes);
      size += bytes.length;
      if (size >= BATCH_BYTES) {
        yield Buffer.concat(parts, size);
        parts = [];
        size = 0;
      }
    }
  } catch (error) {
    const frame = onError(error);
    parts.push(typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame);
    size += parts[parts.length - 1]!.length;
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

/**
 * Writes `chunks` to `sink` with back-pressure. Resolves `false` (instead of rejecting) when the sink went
 * away first: the client disconnected, and nobody is left to tell.
 */
export async function streamTo(chunks: AsyncIterable<Buffer>, sink: NodeJS.WritableStream): Promise<boolean> {
  try {
    await pipeline(Readable.from(chunks, { objectMode: false }), sink);
    return true;
  } catch {
    return false;
  }
}
