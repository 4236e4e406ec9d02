import { crc32c } from '@node-rs/crc32';
import { TidemarkError, checksumMismatch } from '../lib/errors';
import { FORMAT_VERSION, HEADER_CRC_OFFSET, HEADER_SIZE, SEGMENT_MAGIC } from './format';
import { readU64, writeU64 } from '../lib/uint64';

export interface SegmentHeader {
  version: number;
  firstLsn: number;
  createdAt: number;
}

export function encodeHeader(firstLsn: number, createdAt: number): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  SEGMENT_MAGIC.copy(buf, 0);
  buf.writeUInt16LE(FORMAT_VERSION, 8);
  buf.writeUInt16LE(0, 10);
  buf.writeUInt32LE(HEADER_SIZE, 12);
  writeU64(buf, firstLsn, 16);
  writeU64(buf, createdAt, 24);
  buf.writeUInt32LE(crc32c(buf.subarray(0, HEADER_CRC_OFFSET)), HEADER_CRC_OFFSET);
  return buf;
}

/** Parses and checks a segment header; `file` names the segment in errors. */
export function decodeHeader(buf: Buffer, file: string): SegmentHeader {
  if (buf.length < HEADER_SIZE) {
    throw checksumMismatch(`${file}: segment header truncated (${buf.length} of ${HEADER_SIZE} bytes)`, {
      file,
      offset: 0,
    });
  }
  if (!buf.subarray(0, 8).equals(SEGMENT_MAGIC)) {
    throw checksumMismatch(`${file}: not a Tidemark WAL segment (bad magic)`, { file, offset: 0 });
  }
  if (crc32c(buf.subarray(0, HEADER_CRC_OFFSET)) !== buf.readUInt32LE(HEADER_CRC_OFFSET)) {
    throw checksumMismatch(`${file}: segment header CRC mismatch at offset 0`, { file, offset: 0 });
  }
  const version = buf.readUInt16LE(8);
  if (version !== FORMAT_VERSION) {
    throw new TidemarkError(
      'UNSUPPORTED_VERSION',
      `${file}: WAL format version ${version} is not supported (this build reads version ${FORMAT_VERSION})`,
      { details: { file, version } },
    );
  }
  return { version, firstLsn: readU64(buf, 16), createdAt: readU64(buf, 24) };
}
