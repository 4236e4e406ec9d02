import { KIND_FOOTER, TRAILER_MAGIC, TRAILER_SIZE } from './format';
import { framePayload } from './frame';
import { readU64, writeU64 } from '../lib/uint64';

/** What a sealed segment records about itself (format.ts has the layout). */
export interface SegmentFooter {
  entryCount: number;
  firstLsn: number;
  lastLsn: number;
  bodyBytes: number;
  bodyCrc: number;
  minTimestamp: number;
  maxTimestamp: number;
  /** Last sequence per component as of the segment's end, carried forward so open need not read old segments. */
  lastSequences: Map<string, number>;
}

const FIXED = 1 + 8 + 8 + 8 + 8 + 4 + 8 + 8 + 4;

/** The footer frame followed by the trailer that lets a reader find it from the end of the file. */
export function encodeFooter(footer: SegmentFooter): Buffer {
  let size = FIXED;
  for (const id of footer.lastSequences.keys()) size += 1 + id.length + 8;
  const payload = Buffer.allocUnsafe(size);
  payload[0] = KIND_FOOTER;
  writeU64(payload, footer.entryCount, 1);
  writeU64(payload, footer.firstLsn, 9);
  writeU64(payload, footer.lastLsn, 17);
  writeU64(payload, footer.bodyBytes, 25);
  payload.writeUInt32LE(footer.bodyCrc >>> 0, 33);
  writeU64(payload, footer.minTimestamp, 37);
  writeU64(payload, footer.maxTimestamp, 45);
  payload.writeUInt32LE(footer.lastSequences.size, 53);
  let at = FIXED;
  for (const [id, sequence] of footer.lastSequences) {
    payload[at] = id.length;
    payload.write(id, at + 1, 'latin1');
    writeU64(payload, sequence, at + 1 + id.length);
    at += 1 + id.length + 8;
  }
  const frame = framePayload(payload);
  const out = Buffer.allocUnsafe(frame.length + TRAILER_SIZE);
  frame.copy(out, 0);
  out.writeUInt32LE(frame.length, frame.length);
  out.writeUInt32LE(TRAILER_MAGIC, frame.length + 4);
  return out;
}

/** Decodes a footer payload (already CRC-checked); undefined when its fields do not hang together. */
export function decodeFooterPayload(buf: Buffer, start: number, end: number): SegmentFooter | undefined {
  if (end - start < FIXED || buf[start] !== KIND_FOOTER) return undefined;
  const count = buf.readUInt32LE(start + 53);
  const lastSequences = new Map<string, number>();
  let at = start + FIXED;
  for (let i = 0; i < count; i++) {
    if (at + 1 > end) return undefined;
    const idLength = buf[at] as number;
    if (at + 1 + idLength + 8 > end) return undefined;
    lastSequences.set(buf.toString('latin1', at + 1, at + 1 + idLength), readU64(buf, at + 1 + idLength));
    at += 1 + idLength + 8;
  }
  if (at !== end) return undefined;
  return {
    entryCount: readU64(buf, start + 1),
    firstLsn: readU64(buf, start + 9),
    lastLsn: readU64(buf, start + 17),
    bodyBytes: readU64(buf, start + 25),
    bodyCrc: buf.readUInt32LE(start + 33),
    minTimestamp: readU64(buf, start + 37),
    maxTimestamp: readU64(buf, start + 45),
    lastSequences,
  };
}

/** Reads the trailer at the end of `tail`; the footer frame's length, or undefined if there is no trailer. */
export function readTrailer(tail: Buffer): number | undefined {
  if (tail.length < TRAILER_SIZE) return undefined;
  const at = tail.length - TRAILER_SIZE;
  if (tail.readUInt32LE(at + 4) !== TRAILER_MAGIC) return undefined;
  return tail.readUInt32LE(at);
}
