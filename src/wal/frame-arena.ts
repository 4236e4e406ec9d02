/**
 * Append-time encoding target: frames are written back to back into large buffers, so a flush of
 * many small appends is one contiguous write instead of hundreds of small buffers, and an append
 * costs no allocation of its own. A full arena is simply left to the garbage collector once the
 * requests in it are flushed.
 */
export class FrameArena {
  /** The buffer the last `reserve` placed its bytes in. */
  buffer: Buffer;
  private used = 0;

  constructor(private readonly size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /**
   * Room for `bytes` bytes in `this.buffer`, at the returned offset (no object per call: this is the
   * append path). A frame larger than a quarter arena gets a buffer of its own, at offset 0.
   */
  reserve(bytes: number): number {
    if (bytes > this.size / 4) {
      this.buffer = Buffer.allocUnsafe(bytes);
      this.used = bytes;
      return 0;
    }
    if (this.used + bytes > this.buffer.length) {
      this.buffer = Buffer.allocUnsafe(this.size);
      this.used = 0;
    }
    const offset = this.used;
    this.used += bytes;
    return offset;
  }
}
