import { crc32c } from '@node-rs/crc32';
import type { FileHandle } from 'node:fs/promises';
import { asStateRecords, decodeRecords } from '../../checkpoint/block/record-codec';
import { sliceRecordCount } from '../../checkpoint/run/run-slice';
import { slicesOf } from '../../checkpoint/run/sliced-component';
import type { ComponentSnapshot, StateRecord } from '../../checkpoint/state/state-types';
import { TidemarkError } from '../../lib/errors';
import { readU64, writeU64 } from '../../lib/uint64';
import { stateFileChunks } from './slice-chunks';

/**
 * One component's recovered state in a file (`writeStateToDirectory`), format version 1:
 *
 *   magic "TMST" | version u8 = 1 | idLength u8 | componentId (ASCII) | recordCount u64 LE
 *   | records | crc32c u32 LE of every byte before it
 *
 * `records` are the checkpoint blocks' record codec (src/checkpoint/block/record-codec.ts), sorted by key
 * bytes, one per live key:  op u8 = 1 (put) | keyLen varint | key | valueLen varint | value | lsn u64 LE
 * | timestamp u64 LE  — the LSN and time (µs) of the entry that last wrote the key. Varints are unsigned
 * LEB128. A reader refuses another magic or version, a count that disagrees, or a checksum that does not
 * match (DESERIALIZATION_ERROR / UNSUPPORTED_VERSION / CHECKSUM_MISMATCH).
 */
export const STATE_FILE_MAGIC = 'TMST';
export const STATE_FILE_VERSION = 1;

/** Records are encoded and written this many bytes at a time (a huge component is never one buffer). */
const CHUNK_BYTES = 1024 * 1024;

function header(componentId: string, recordCount: number): Buffer {
  const id = Buffer.from(componentId, 'latin1');
  if (id.length === 0 || id.length > 255) {
    throw new TidemarkError('SERIALIZATION_ERROR', `component id of ${id.length} bytes (1-255 allowed)`);
  }
  const buf = Buffer.alloc(4 + 1 + 1 + id.length + 8);
  buf.write(STATE_FILE_MAGIC, 0, 'latin1');
  buf[4] = STATE_FILE_VERSION;
  buf[5] = id.length;
  id.copy(buf, 6);
  writeU64(buf, recordCount, 6 + id.length);
  return buf;
}

/** Writes the component's file body to `handle` (from its current position); returns the bytes written. */
export async function writeStateFile(handle: FileHandle, component: ComponentSnapshot): Promise<number> {
  const slices = slicesOf(component);
  const head = header(component.componentId, sliceRecordCount(slices));
  let crc = crc32c(head);
  let written = (await handle.write(head)).bytesWritten;
  for (const chunk of stateFileChunks(slices, CHUNK_BYTES)) {
    crc = crc32c(chunk, crc);
    written += (await handle.write(chunk)).bytesWritten;
  }
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(crc >>> 0, 0);
  written += (await handle.write(tail)).bytesWritten;
  return written;
}

function malformed(what: string, message: string): TidemarkError {
  return new TidemarkError('DESERIALIZATION_ERROR', `${what}: ${message}`, { details: { file: what } });
}

/** Parses a whole state file (as `writeStateFile` wrote it). `what` names it in errors. */
export function readStateFile(bytes: Buffer, what = 'state file'): ComponentSnapshot {
  if (bytes.length < 4 + 1 + 1 + 8 + 4 || bytes.toString('latin1', 0, 4) !== STATE_FILE_MAGIC) {
    throw malformed(what, `not a Tidemark state file (magic ${STATE_FILE_MAGIC} expected)`);
  }
  if (bytes[4] !== STATE_FILE_VERSION) {
    throw new TidemarkError(
      'UNSUPPORTED_VERSION',
      `${what}: state file format version ${bytes[4]} (this reader knows ${STATE_FILE_VERSION})`,
    );
  }
  const idLength = bytes[5]!;
  const bodyStart = 6 + idLength + 8;
  if (bytes.length < bodyStart + 4) throw malformed(what, 'truncated header');
  const stored = bytes.readUInt32LE(bytes.length - 4);
  const actual = crc32c(bytes.subarray(0, bytes.length - 4)) >>> 0;
  if (stored !== actual) {
    throw new TidemarkError('CHECKSUM_MISMATCH', `${what}: checksum ${actual} does not match ${stored}`, {
      details: { file: what },
    });
  }
  const componentId = bytes.toString('latin1', 6, 6 + idLength);
  const count = readU64(bytes, 6 + idLength);
  if (Number.isNaN(count)) throw malformed(what, 'bad record count');
  const records: StateRecord[] = asStateRecords(
    decodeRecords(bytes.subarray(bodyStart, bytes.length - 4), count),
  );
  return { componentId, records };
}
