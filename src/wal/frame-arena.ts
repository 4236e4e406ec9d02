/**
 * Append-time encoding target: frames are written back to back into large buffers, so a flush of
 * many small appends is one contiguous write instead of hundreds of small buffers, and an append
 * costs no allocation of its own. A full arena is simply left to the garbage collector once the
 * requests in it are flushed.
 */
export class FrameArena {
  private buf: Buffer;
  private used = 0;

  constructor(private readonly size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for `bytes` bytes: a slice of the current arena, or a buffer of its own when larger than an arena. */
  reserve(bytes: number): { buf: Buffer; offset: number } {
    if (bytes > this.size / 4) return { buf: Buffer.allocUnsafe(bytes), offset: 0 };
    if (this.used + bytes > this.buf.length) {
      this.buf = Buffer.allocUnsafe(this.size);
      this.used = 0;
    }
    const offset = this.used;
    this.used += bytes;
    return { buf: this.buf, offset };
  }
}
