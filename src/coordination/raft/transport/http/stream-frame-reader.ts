import { FRAME_HEADER_BYTES } from './raft-http-protocol';

/** One frame of a stream: the signature and the batch it covers (views into the bytes read). */
export interface StreamFrame {
  readonly signature: Buffer;
  readonly batch: Buffer;
}

/**
 * Cuts a stream's body, as it arrives in chunks of any size, into frames (raft-http-protocol.ts). It checks
 * framing only — the length against `maxBatchBytes`; signatures and batches are the caller's to check.
 */
export class StreamFrameReader {
  /** Bytes read but not yet part of a whole frame. */
  private rest: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBatchBytes: number) {}

  /** Bytes held back for a frame not yet whole. */
  get buffered(): number {
    return this.rest.length;
  }

  /**
   * The frames `chunk` completes, in order; `tooLarge` when a frame announces a batch over the limit (the
   * stream cannot be read past it).
   */
  push(chunk: Buffer): { frames: StreamFrame[]; tooLarge?: number } {
    const bytes = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    const frames: StreamFrame[] = [];
    let at = 0;
    while (bytes.length - at >= FRAME_HEADER_BYTES) {
      const length = bytes.readUInt32LE(at);
      if (length > this.maxBatchBytes) {
        this.rest = Buffer.alloc(0);
        return { frames, tooLarge: length };
      }
      const end = at + FRAME_HEADER_BYTES + length;
      if (end > bytes.length) break;
      frames.push({
        signature: bytes.subarray(at + 4, at + FRAME_HEADER_BYTES),
        batch: bytes.subarray(at + FRAME_HEADER_BYTES, end),
      });
      at = end;
    }
    // What is left is copied: a view would pin the whole chunk until the frame completes.
    this.rest = at === bytes.length ? Buffer.alloc(0) : Buffer.from(bytes.subarray(at));
    return { frames };
  }
}
