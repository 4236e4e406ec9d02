import { Readable } from 'node:stream';

/** The first bytes of a stream, read ahead, and the whole stream again from its beginning. */
export interface StreamStart {
  /** The bytes read ahead: at least `limit` of them, unless the stream ended first. */
  head: Buffer;
  /** True when the stream ended within the read-ahead: `head` is the whole body. */
  ended: boolean;
  /** The whole body (the head, then the rest); a byte stream. Destroying it destroys the source. */
  stream: Readable;
}

function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`a body stream must yield bytes, not ${typeof chunk}`);
}

/**
 * Reads up to about `limit` bytes of `source`, so a short stream of unknown length can be sent in one request
 * once it is known to be short, and a long one continues from where the read-ahead stopped. A failure of the
 * source rejects with the source's own error, here or later on `stream`.
 */
export async function readStart(source: Readable, limit: number): Promise<StreamStart> {
  const iterator: AsyncIterator<unknown> = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < limit) {
    const next = await iterator.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    const chunk = asBuffer(next.value);
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  async function* whole(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      if (ended) return;
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        yield asBuffer(next.value);
      }
    } finally {
      await iterator.return?.(); // the consumer stopped early: release the source
    }
  }
  return { head, ended, stream: Readable.from(whole(), { objectMode: false }) };
}
