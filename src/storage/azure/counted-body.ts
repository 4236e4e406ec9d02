import type { Readable } from 'node:stream';
import { lengthMismatch } from '../storage-errors';

/**
 * Reads a put's body stream, counting its bytes. It remembers a failure of the stream itself, so the put can
 * reject with that very error (as the port says) rather than with what the SDK made of it; and it fails as
 * soon as the count contradicts `contentLength` — past it at once, short of it at the end — so an upload of a
 * wrong-sized body never gets as far as its commit.
 */
export class CountedBody {
  private readonly chunks: AsyncIterator<unknown>;
  private bytes = 0;
  private sourceFailure: { error: unknown } | undefined;

  constructor(
    source: Readable,
    private readonly key: string,
    private readonly expected: number | undefined,
  ) {
    this.chunks = source[Symbol.asyncIterator]();
  }

  /** Bytes read so far. */
  get size(): number {
    return this.bytes;
  }

  /** The body stream's own error, when it failed. */
  get failure(): { error: unknown } | undefined {
    return this.sourceFailure;
  }

  /** The next chunk, or undefined at the end of the body. */
  async next(): Promise<Buffer | undefined> {
    let result: IteratorResult<unknown>;
    try {
      result = await this.chunks.next();
    } catch (error) {
      this.sourceFailure = { error };
      throw error;
    }
    if (result.done === true) {
      if (this.expected !== undefined && this.bytes !== this.expected) {
        throw lengthMismatch(this.key, this.expected, this.bytes);
      }
      return undefined;
    }
    const chunk = Buffer.isBuffer(result.value) ? result.value : Buffer.from(result.value as string);
    this.bytes += chunk.length;
    if (this.expected !== undefined && this.bytes > this.expected) {
      throw lengthMismatch(this.key, this.expected, this.bytes);
    }
    return chunk;
  }

  /**
   * Reads until more than `limit` bytes have come or the body ended. Returns what was read and whether that
   * is the whole body.
   */
  async readBeyond(limit: number): Promise<{ chunks: Buffer[]; ended: boolean }> {
    const chunks: Buffer[] = [];
    let read = 0;
    while (read <= limit) {
      const chunk = await this.next();
      if (chunk === undefined) return { chunks, ended: true };
      chunks.push(chunk);
      read += chunk.length;
    }
    return { chunks, ended: false };
  }

  /** `first` (emptied as it is handed on, so it is not held to the end), then the rest of the body. */
  async *followedByRest(first: Buffer[]): AsyncGenerator<Buffer> {
    for (let chunk = first.shift(); chunk !== undefined; chunk = first.shift()) yield chunk;
    for (let chunk = await this.next(); chunk !== undefined; chunk = await this.next()) yield chunk;
  }
}
