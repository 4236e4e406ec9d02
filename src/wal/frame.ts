import { crc32c } from '@node-rs/crc32';
import { invalidArgument } from '../lib/errors';
import type { LogEntry } from './entry';
import { type EntryChecks, measureEntry, writeEntry } from './entry-codec';
import {
  ENTRIES_PAYLOAD_HEADER,
  FLAG_ZSTD,
  FRAME_BODY_OFFSET,
  FRAME_HEADER_SIZE,
  FRAME_LSN_OFFSET,
  KIND_ENTRIES,
  KIND_FOOTER,
  MAX_FRAME_BYTES,
} from './format';
import { readU64, writeU64 } from '../lib/uint64';

/** Sizes and time span of a batch about to be encoded, from one validating pass over it. */
export interface MeasuredEntries {
  frameBytes: number;
  minTimestamp: number;
  maxTimestamp: number;
}

/** Validates entries and sizes their frame (header included). Throws INVALID_ARGUMENT. */
export function measureEntriesFrame(entries: readonly LogEntry[], checks: EntryChecks): MeasuredEntries {
  const count = entries.length;
  if (count === 0) throw invalidArgument('a batch needs at least one entry');
  let bodySize = 0;
  let minTimestamp = Number.MAX_SAFE_INTEGER;
  let maxTimestamp = 0;
  for (let i = 0; i < count; i++) {
    const entry = entries[i] as LogEntry;
    bodySize += measureEntry(entry, i, checks);
    if (entry.timestamp < minTimestamp) minTimestamp = entry.timestamp;
    if (entry.timestamp > maxTimestamp) maxTimestamp = entry.timestamp;
  }
  const frameBytes = FRAME_BODY_OFFSET + bodySize;
  if (frameBytes > MAX_FRAME_BYTES) {
    throw invalidArgument(`batch of ${frameBytes} bytes is over the frame limit of ${MAX_FRAME_BYTES}`);
  }
  return { frameBytes, minTimestamp, maxTimestamp };
}

/**
 * Encodes measured entries as an ENTRIES frame at `buf[offset, offset + frameBytes)`. The first LSN
 * and the CRC are left for `sealFrame`, at flush time, when LSNs are handed out.
 */
export function writeEntriesFrame(
  buf: Buffer,
  offset: number,
  frameBytes: number,
  entries: readonly LogEntry[],
): void {
  buf.writeUInt32LE(frameBytes - FRAME_HEADER_SIZE, offset);
  buf[offset + FRAME_HEADER_SIZE] = KIND_ENTRIES;
  buf[offset + FRAME_HEADER_SIZE + 1] = 0;
  buf.writeUInt32LE(entries.length, offset + FRAME_HEADER_SIZE + 2);
  let at = offset + FRAME_BODY_OFFSET;
  for (let i = 0; i < entries.length; i++) at = writeEntry(buf, entries[i] as LogEntry, at);
}

/** A copy of the frame at `buf[offset, offset + length)` with its body replaced by a zstd-compressed one. */
export function withCompressedBody(buf: Buffer, offset: number, compressedBody: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_BODY_OFFSET + compressedBody.length);
  buf.copy(out, 0, offset, offset + FRAME_BODY_OFFSET);
  out.writeUInt32LE(out.length - FRAME_HEADER_SIZE, 0);
  out[FRAME_HEADER_SIZE + 1] = FLAG_ZSTD;
  compressedBody.copy(out, FRAME_BODY_OFFSET);
  return out;
}

/** Fills in the first LSN and the CRC of the frame at `buf[offset, offset + length)`. */
export function sealFrame(buf: Buffer, offset: number, length: number, firstLsn: number): void {
  writeU64(buf, firstLsn, offset + FRAME_LSN_OFFSET);
  buf.writeUInt32LE(crc32c(buf.subarray(offset + FRAME_HEADER_SIZE, offset + length)), offset + 4);
}

/** Wraps a payload in a frame header (length, CRC). */
export function framePayload(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32c(payload), 4);
  payload.copy(frame, FRAME_HEADER_SIZE);
  return frame;
}

export type FrameCheck =
  | { status: 'ok'; kind: number; payloadStart: number; end: number }
  | { status: 'end' } // zeros or end of file: nothing more was written
  | { status: 'bad'; reason: string };

/**
 * Checks the frame at `offset` of `buf[0, limit)`. `end` means the log stops here cleanly (end of
 * data, or a zeroed frame header); `bad` means the bytes are not a whole frame with a matching CRC.
 */
export function checkFrame(buf: Buffer, offset: number, limit: number): FrameCheck {
  if (offset === limit) return { status: 'end' };
  if (limit - offset < FRAME_HEADER_SIZE) return { status: 'bad', reason: 'truncated frame header' };
  const length = buf.readUInt32LE(offset);
  const crc = buf.readUInt32LE(offset + 4);
  if (length === 0 && crc === 0) return { status: 'end' };
  if (length === 0) return { status: 'bad', reason: 'empty frame' };
  const payloadStart = offset + FRAME_HEADER_SIZE;
  const end = payloadStart + length;
  if (end > limit) return { status: 'bad', reason: `frame of ${length} bytes runs past the end of the data` };
  if (crc32c(buf.subarray(payloadStart, end)) !== crc) return { status: 'bad', reason: 'frame CRC mismatch' };
  const kind = buf[payloadStart] as number;
  if (kind !== KIND_ENTRIES && kind !== KIND_FOOTER)
    return { status: 'bad', reason: `unknown frame kind ${kind}` };
  if (kind === KIND_ENTRIES && length < ENTRIES_PAYLOAD_HEADER)
    return { status: 'bad', reason: 'short frame' };
  return { status: 'ok', kind, payloadStart, end };
}

export interface EntriesFrameHeader {
  compressed: boolean;
  count: number;
  firstLsn: number;
  bodyStart: number;
}

export function readEntriesHeader(buf: Buffer, payloadStart: number): EntriesFrameHeader {
  return {
    compressed: ((buf[payloadStart + 1] as number) & FLAG_ZSTD) !== 0,
    count: buf.readUInt32LE(payloadStart + 2),
    firstLsn: readU64(buf, payloadStart + 6),
    bodyStart: payloadStart + ENTRIES_PAYLOAD_HEADER,
  };
}

/** Looks for any well-formed frame after a bad one: if one exists, the bad frame is corruption, not a torn tail. */
export function findFrameAfter(buf: Buffer, from: number, limit: number): number | undefined {
  for (let at = from; at + FRAME_HEADER_SIZE <= limit; at++) {
    const length = buf.readUInt32LE(at);
    if (length < ENTRIES_PAYLOAD_HEADER || at + FRAME_HEADER_SIZE + length > limit) continue;
    if (checkFrame(buf, at, limit).status === 'ok') return at;
  }
  return undefined;
}
