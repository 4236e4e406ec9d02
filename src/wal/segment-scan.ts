import { decompress } from '@mongodb-js/zstd';
import { crc32c } from '@node-rs/crc32';
import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import { decodeEntries } from './entry-decoder';
import { HEADER_SIZE, KIND_FOOTER, TRAILER_SIZE } from './format';
import { checkFrame, findFrameAfter, readEntriesHeader } from './frame';
import { decodeFooterPayload, readTrailer, type SegmentFooter } from './segment-footer';
import { decodeHeader, type SegmentHeader } from './segment-header';

/** Everything a full read of one segment file learns: used by open (active segment) and by inspect. */
export interface SegmentScan {
  file: string;
  header: SegmentHeader;
  fileSize: number;
  frames: number;
  entryCount: number;
  /** `header.firstLsn - 1` when the segment holds no entries. */
  lastLsn: number;
  /** Offset just after the last good ENTRIES frame: where the next frame goes. */
  dataEnd: number;
  bodyCrc: number;
  minTimestamp: number;
  maxTimestamp: number;
  lastSequences: Map<string, number>;
  /** Present when the segment carries a footer; `complete` is false if it was written but the file not yet cut after it. */
  footer?: { value: SegmentFooter; offset: number; end: number; complete: boolean };
  /** A torn tail: bytes from `offset` that are not a whole frame and have no good frame after them. */
  torn?: { offset: number; bytes: number; reason: string };
  /** Corruption that is not a torn tail (never to be skipped): where and why. */
  corruption?: { offset: number; reason: string };
}

function lastNonZero(buf: Buffer, from: number): number {
  for (let at = buf.length - 1; at >= from; at--) if (buf[at] !== 0) return at;
  return -1;
}

export async function scanSegment(path: string): Promise<SegmentScan> {
  const buf = await fs.readFile(path);
  const file = basename(path);
  const header = decodeHeader(buf, file);
  const scan: SegmentScan = {
    file,
    header,
    fileSize: buf.length,
    frames: 0,
    entryCount: 0,
    lastLsn: header.firstLsn - 1,
    dataEnd: HEADER_SIZE,
    bodyCrc: 0,
    minTimestamp: 0,
    maxTimestamp: 0,
    lastSequences: new Map(),
  };
  // A sealed segment ends in a trailer pointing at its footer frame; then nothing may be torn.
  const sealedLimit = hasFooterAtEnd(buf) ? buf.length - TRAILER_SIZE : undefined;
  const limit = sealedLimit ?? buf.length;
  let at = HEADER_SIZE;
  for (;;) {
    const check = checkFrame(buf, at, limit);
    if (check.status === 'ok' && check.kind === KIND_FOOTER) {
      readFooter(scan, buf, at, check.payloadStart, check.end, sealedLimit);
      return scan;
    }
    if (check.status !== 'ok') {
      classifyTail(
        scan,
        buf,
        at,
        limit,
        check.status === 'end' ? 'junk after the end of the log' : check.reason,
      );
      if (sealedLimit !== undefined && !scan.corruption) {
        scan.corruption = { offset: at, reason: `sealed segment: ${scan.torn?.reason ?? 'no footer frame'}` };
        scan.torn = undefined;
      }
      return scan;
    }
    const frame = readEntriesHeader(buf, check.payloadStart);
    if (frame.firstLsn !== scan.lastLsn + 1) {
      scan.corruption = {
        offset: at,
        reason: `LSN ${frame.firstLsn} where ${scan.lastLsn + 1} was expected`,
      };
      return scan;
    }
    try {
      const body = frame.compressed
        ? await decompress(buf.subarray(frame.bodyStart, check.end))
        : buf.subarray(frame.bodyStart, check.end);
      const bodyStart = frame.compressed ? 0 : frame.bodyStart;
      const bodyEnd = frame.compressed ? body.length : check.end;
      for (const entry of decodeEntries(frame.compressed ? body : buf, bodyStart, bodyEnd, frame.count)) {
        const previous = scan.lastSequences.get(entry.componentId);
        if (previous === undefined || entry.sequence > previous)
          scan.lastSequences.set(entry.componentId, entry.sequence);
        if (scan.entryCount === 0 || entry.timestamp < scan.minTimestamp) scan.minTimestamp = entry.timestamp;
        if (entry.timestamp > scan.maxTimestamp) scan.maxTimestamp = entry.timestamp;
        scan.entryCount++;
      }
    } catch (error) {
      scan.corruption = { offset: at, reason: `frame does not decode: ${(error as Error).message}` };
      return scan;
    }
    scan.bodyCrc = crc32c(buf.subarray(at, check.end), scan.bodyCrc);
    scan.frames++;
    scan.lastLsn += frame.count;
    scan.dataEnd = check.end;
    at = check.end;
  }
}

/** True when the file ends in a trailer that points at a well-formed footer frame. */
function hasFooterAtEnd(buf: Buffer): boolean {
  const footerLength = readTrailer(buf);
  if (footerLength === undefined || footerLength > buf.length - TRAILER_SIZE - HEADER_SIZE) return false;
  const limit = buf.length - TRAILER_SIZE;
  const check = checkFrame(buf, limit - footerLength, limit);
  return check.status === 'ok' && check.kind === KIND_FOOTER && check.end === limit;
}

/** At the first offset that is not a good frame: a clean end, a torn tail, or corruption. */
function classifyTail(scan: SegmentScan, buf: Buffer, at: number, limit: number, reason: string): void {
  const junkEnd = lastNonZero(buf, at) + 1;
  if (junkEnd <= at) return; // only zeros (preallocated space) or the end of the file: a clean end
  const good = findFrameAfter(buf, at + 1, limit);
  if (good !== undefined) {
    scan.corruption = { offset: at, reason: `${reason}, followed by a good frame at offset ${good}` };
    return;
  }
  scan.torn = { offset: at, bytes: junkEnd - at, reason };
}

function readFooter(
  scan: SegmentScan,
  buf: Buffer,
  at: number,
  payloadStart: number,
  end: number,
  sealedLimit: number | undefined,
): void {
  const footer = decodeFooterPayload(buf, payloadStart, end);
  const expected = footer && {
    entryCount: scan.entryCount,
    firstLsn: scan.header.firstLsn,
    lastLsn: scan.lastLsn,
    bodyBytes: scan.dataEnd - HEADER_SIZE,
    bodyCrc: scan.bodyCrc,
  };
  const mismatch =
    !footer || !expected
      ? 'footer does not decode'
      : (Object.keys(expected) as (keyof typeof expected)[]).find((key) => footer[key] !== expected[key]);
  if (!footer || mismatch) {
    scan.corruption = { offset: at, reason: `footer disagrees with the segment body (${String(mismatch)})` };
    return;
  }
  const trailerEnd = end + TRAILER_SIZE;
  const complete = sealedLimit === end && trailerEnd === buf.length;
  if (
    !complete &&
    (readTrailer(buf.subarray(0, trailerEnd)) !== end - at || lastNonZero(buf, trailerEnd) >= 0)
  ) {
    scan.corruption = { offset: end, reason: 'bytes after the footer' };
    return;
  }
  scan.footer = { value: footer, offset: at, end: trailerEnd, complete };
}
