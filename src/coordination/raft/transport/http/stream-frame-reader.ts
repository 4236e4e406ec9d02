import { FRAME_HEADER_BYTES } from './raft-http-protocol';

/** One frame of a stream: the signature and the batch it covers. */
export interface StreamFrame {
  readonly signature: Buffer;
  readonly batch: Buffer;
}

/**
 * Cuts a stream's body, as it arrives in chunks of any size, into frames (raft-http-protocol.ts). It checks
 * framing only — the length against `maxBatchBytes`; signatures and batches are the caller's to check. A
 * frame whole within a chunk is a view into it; one spread over chunks is copied once into a buffer of its
 * announced size (never re-copied as chunks come, so a large frame costs its bytes, not their square).
 */
export class StreamFrameReader {
  private readonly head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  private headFill = 0;
  /** The batch of the frame being filled, once its header is whole. */
  private body: Buffer | undefined;
  private bodyFill = 0;

  constructor(private readonly maxBatchBytes: number) {}

  /** Bytes held for a frame not yet whole. */
  get buffered(): number {
    return this.headFill + this.bodyFill;
  }

  /**
   * The frames `chunk` completes, in order; `tooLarge` when a frame announces a batch over the limit (the
   * stream cannot be read past it).
   */
  push(chunk: Buffer): { frames: StreamFrame[]; tooLarge?: number } {
    const frames: StreamFrame[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.body === undefined) {
        if (this.headFill === 0 && chunk.length - at >= FRAME_HEADER_BYTES) {
          const length = chunk.readUInt32LE(at);
          if (length > this.maxBatchBytes) return { frames, tooLarge: length };
          const end = at + FRAME_HEADER_BYTES + length;
          if (end <= chunk.length) {
            frames.push({
              signature: chunk.subarray(at + 4, at + FRAME_HEADER_BYTES),
              batch: chunk.subarray(at + FRAME_HEADER_BYTES, end),
            });
            at = end;
            continue;
          }
        }
        const take = Math.min(FRAME_HEADER_BYTES - this.headFill, chunk.length - at);
        chunk.copy(this.head, this.headFill, at, at + take);
        this.headFill += take;
        at += take;
        if (this.headFill < FRAME_HEADER_BYTES) break;
        const length = this.head.readUInt32LE(0);
        if (length > this.maxBatchBytes) return { frames, tooLarge: length };
        this.body = Buffer.allocUnsafe(length);
        this.bodyFill = 0;
      }
      const take = Math.min(this.body.length - this.bodyFill, chunk.length - at);
      chunk.copy(this.body, this.bodyFill, at, at + take);
      this.bodyFill += take;
      at += take;
      if (this.bodyFill === this.body.length) {
        frames.push({ signature: Buffer.from(this.head.subarray(4)), batch: this.body });
        this.body = undefined;
        this.bodyFill = 0;
        this.headFill = 0;
      }
    }
    return { frames };
  }
}
