import { crc32c } from '@node-rs/crc32';
import { createReadStream, promises as fs } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { TidemarkError } from '../../lib/errors';
import { HEADER_SIZE, KIND_FOOTER, TRAILER_SIZE } from '../format';
import { checkFrame } from '../frame';
import { decodeHeader } from '../segment-header';
import { readTrailer } from '../segment-footer';
import type { SegmentInfo } from '..';

/** crc32c of everything that passes through, chained chunk by chunk (no copies). */
export class Crc32cTap extends Transform {
  crc = 0;
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.crc = crc32c(chunk, this.crc);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** Size and crc32c of a byte stream, read to its end. */
export async function checksumStream(stream: Readable): Promise<{ size: number; crc32c: number }> {
  let crc = 0;
  let size = 0;
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    crc = crc32c(bytes, crc);
    size += bytes.length;
  }
  return { size, crc32c: crc };
}

/** The segment files one after another, as one stream (the pack's body). */
export function openPackStream(segments: readonly SegmentInfo[]): Readable {
  return Readable.from(
    (async function* () {
      for (const segment of segments) yield* createReadStream(segment.path, { highWaterMark: 1 << 20 });
    })(),
    { objectMode: false },
  );
}

/** Bytes read at a time when a sealed segment is checked. */
const CHECK_READ_BYTES = 1 << 20;

/**
 * Reads a sealed segment file and checks it before it is shipped as the durable copy: its size is what the
 * WAL recorded, its header checks (magic, version, CRC, first LSN), its footer frame's CRC checks and the
 * footer is last, and the crc32c of its frames matches the footer's (SegmentInfo.bodyCrc). A file that
 * fails is CHECKSUM_MISMATCH (the upload fails for good: shipping it would replace good data with bad).
 * Returns the crc32c of the whole file, chained from `crc`, for the pack's checksum.
 */
export async function checkSealedSegment(segment: SegmentInfo, crc: number): Promise<number> {
  const handle = await fs.open(segment.path, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(TRAILER_SIZE);
    await handle.read(tail, 0, TRAILER_SIZE, Math.max(0, size - TRAILER_SIZE));
    const footerFrameLength = readTrailer(tail);
    if (size !== segment.sizeBytes || footerFrameLength === undefined || segment.bodyCrc === undefined) {
      throw corruptSegment(segment, `not a sealed segment of ${segment.sizeBytes} bytes`);
    }
    const bodyEnd = size - TRAILER_SIZE - footerFrameLength;
    if (bodyEnd < HEADER_SIZE) throw corruptSegment(segment, 'its trailer points before the header');
    const header = Buffer.alloc(HEADER_SIZE);
    await handle.read(header, 0, HEADER_SIZE, 0);
    if (decodeHeader(header, segment.path).firstLsn !== segment.firstLsn) {
      throw corruptSegment(segment, `its header names another first LSN than ${segment.firstLsn}`);
    }
    const footer = Buffer.alloc(footerFrameLength);
    await handle.read(footer, 0, footerFrameLength, bodyEnd);
    const footerCheck = checkFrame(footer, 0, footer.length);
    if (
      footerCheck.status !== 'ok' ||
      footerCheck.kind !== KIND_FOOTER ||
      footerCheck.end !== footer.length
    ) {
      throw corruptSegment(segment, 'its footer frame does not check');
    }
    let bodyCrc = 0;
    // One buffer read into again and again: a stream's fresh 1 MiB chunk per read is external memory that,
    // in a process with a small heap, makes V8 run a full GC every few chunks.
    const buffer = Buffer.allocUnsafe(Math.min(CHECK_READ_BYTES, size));
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - at), at);
      if (bytesRead === 0) throw corruptSegment(segment, `it ends at ${at} bytes, before ${size}`);
      const bytes = buffer.subarray(0, bytesRead);
      crc = crc32c(bytes, crc);
      const from = Math.max(HEADER_SIZE - at, 0);
      const to = Math.min(bodyEnd - at, bytesRead);
      if (to > from) bodyCrc = crc32c(bytes.subarray(from, to), bodyCrc);
      at += bytesRead;
    }
    if (bodyCrc !== segment.bodyCrc) {
      throw corruptSegment(
        segment,
        `frames checksum ${bodyCrc} differs from the footer's ${segment.bodyCrc}`,
      );
    }
    return crc;
  } catch (error) {
    // A header that does not decode is corruption of this file, whatever decodeHeader called it.
    if (TidemarkError.is(error) && error.code !== 'CHECKSUM_MISMATCH' && error.kind === 'data') {
      throw corruptSegment(segment, error.message);
    }
    throw error;
  } finally {
    await handle.close();
  }
}

function corruptSegment(segment: SegmentInfo, reason: string): TidemarkError {
  return new TidemarkError('CHECKSUM_MISMATCH', `WAL segment ${segment.path} is corrupt: ${reason}`, {
    details: { file: segment.path, firstLsn: segment.firstLsn },
  });
}
