import { compress } from '@mongodb-js/zstd';
import { crc32c } from '@node-rs/crc32';
import { FRAME_BODY_OFFSET } from './format';
import { sealFrame, withCompressedBody } from './frame';
import type { SequenceUndo } from './sequence-guard';

/** One append or appendBatch waiting for its flush: its frame is `buf[offset, offset + length)`. */
export class AppendRequest {
  /** False while its body is being compressed; a flush waits for the head request only. */
  ready = true;
  compression?: Promise<void>;

  constructor(
    public buf: Buffer,
    public offset: number,
    public length: number,
    readonly count: number,
    readonly minTimestamp: number,
    readonly maxTimestamp: number,
    readonly undo: SequenceUndo,
    readonly resolve: (firstLsn: number) => void,
    readonly reject: (error: Error) => void,
  ) {}

  /** Replaces the frame's body by a zstd-compressed one if that is smaller; marks the request ready. */
  compressBody(): void {
    this.ready = false;
    this.compression = (async () => {
      try {
        const body = this.buf.subarray(this.offset + FRAME_BODY_OFFSET, this.offset + this.length);
        const compressed = await compress(body, 3);
        if (compressed.length < body.length) {
          this.buf = withCompressedBody(this.buf, this.offset, compressed);
          this.offset = 0;
          this.length = this.buf.length;
        }
      } catch {
        // Compression is an optimisation: on failure the frame goes out uncompressed.
      } finally {
        this.ready = true;
      }
    })();
  }
}

/** What one flush writes: its frames, sealed with their LSNs, and the figures the segment keeps. */
export interface FlushPlan {
  buffers: Buffer[];
  bytes: number;
  count: number;
  bodyCrc: number;
  minTimestamp: number;
  maxTimestamp: number;
}

/**
 * Seals each frame of `group` with its first LSN (from `firstLsn` on) and gathers the frames into as
 * few buffers as possible: frames encoded back to back in one arena go out as one buffer.
 */
export function planFlush(group: readonly AppendRequest[], firstLsn: number, bodyCrc: number): FlushPlan {
  const plan: FlushPlan = {
    buffers: [],
    bytes: 0,
    count: 0,
    bodyCrc,
    minTimestamp: Number.MAX_SAFE_INTEGER,
    maxTimestamp: 0,
  };
  let lsn = firstLsn;
  let runBuf: Buffer | undefined;
  let runStart = 0;
  let runEnd = 0;
  for (const request of group) {
    sealFrame(request.buf, request.offset, request.length, lsn);
    lsn += request.count;
    plan.bytes += request.length;
    plan.count += request.count;
    if (request.minTimestamp < plan.minTimestamp) plan.minTimestamp = request.minTimestamp;
    if (request.maxTimestamp > plan.maxTimestamp) plan.maxTimestamp = request.maxTimestamp;
    if (request.buf === runBuf && request.offset === runEnd) {
      runEnd += request.length;
      continue;
    }
    if (runBuf) plan.buffers.push(runBuf.subarray(runStart, runEnd));
    runBuf = request.buf;
    runStart = request.offset;
    runEnd = request.offset + request.length;
  }
  if (runBuf) plan.buffers.push(runBuf.subarray(runStart, runEnd));
  for (const buffer of plan.buffers) plan.bodyCrc = crc32c(buffer, plan.bodyCrc);
  return plan;
}
