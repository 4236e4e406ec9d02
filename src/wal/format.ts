/**
 * The on-disk layout of a WAL segment, version 1. All integers little-endian.
 *
 * segment   = header, frame*, [footer frame, trailer]        (footer and trailer only once sealed)
 * header    = magic "TIDEWAL\0" (8) | version u16 | flags u16 | headerSize u32 | firstLsn u64
 *             | createdAt u64 (µs) | reserved u32 | crc32c u32 (of the 36 bytes before it)
 * frame     = length u32 | crc32c u32 (of payload) | payload (length bytes)
 * payload   = kind u8, then per kind:
 *   ENTRIES = kind | flags u8 (bit 0: body is zstd) | count u32 | firstLsn u64 | body
 *             body = entry * count (see entry-codec.ts)
 *   FOOTER  = kind | entryCount u64 | firstLsn u64 | lastLsn u64 | bodyBytes u64 | bodyCrc u32
 *             | minTimestamp u64 | maxTimestamp u64 | componentCount u32
 *             | (idLength u8 | id | lastSequence u64) * componentCount
 * trailer   = footerFrameLength u32 (frame header included) | magic "TWFT"
 *
 * bodyCrc chains crc32c over every frame byte between the header and the footer frame.
 * In an active segment the bytes after the last frame are zeros (preallocated) or end of file.
 */
export const SEGMENT_MAGIC = Buffer.from('TIDEWAL\0', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_SIZE = 40;
export const HEADER_CRC_OFFSET = 36;

export const FRAME_HEADER_SIZE = 8;

export const KIND_ENTRIES = 1;
export const KIND_FOOTER = 2;

export const ENTRIES_PAYLOAD_HEADER = 14;
/** Offset of firstLsn inside an ENTRIES frame (frame header included): patched at flush time. */
export const FRAME_LSN_OFFSET = FRAME_HEADER_SIZE + 6;
export const FRAME_BODY_OFFSET = FRAME_HEADER_SIZE + ENTRIES_PAYLOAD_HEADER;
export const FLAG_ZSTD = 1;

export const TRAILER_SIZE = 8;
export const TRAILER_MAGIC = 0x54465754; // "TWFT" read as u32 LE

/** A frame may not exceed this, whatever it carries (u32 length; Buffers stay well below their limit). */
export const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

const NAME_DIGITS = 20;
const SEGMENT_NAME = /^(\d{20})\.wal$/;

export function segmentFileName(firstLsn: number): string {
  return `${String(firstLsn).padStart(NAME_DIGITS, '0')}.wal`;
}

/** The first LSN a segment file name encodes, or undefined for files that are not segments. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}
