import { TidemarkError } from '../../lib/errors';
import { readU64, writeU64 } from '../../lib/uint64';
import type { DeltaRecord, StateRecord } from '../state/state-types';
import { bufferView } from './buffer-view';
import { varintSize, writeVarint } from './varint';

/**
 * The records inside a block, back to back:
 *
 *   record = op u8 (1 put, 2 delete) | keyLen varint | key | [valueLen varint | value] | lsn u64 | timestamp u64
 *
 * A StateRecord encodes as a put. Encoding is two passes (measure, then write into one buffer).
 * Decoding returns keys and values as views into the given buffer (no copies): keep the buffer
 * unchanged while the records live. Blocks decode from a freshly decompressed buffer, so this is free.
 */
export type BlockRecord = StateRecord | DeltaRecord;

const OP_PUT = 1;
const OP_DELETE = 2;
const FIXED_BYTES = 1 + 8 + 8;

function isDelete(record: BlockRecord): boolean {
  return (record as DeltaRecord).op === 'delete';
}

function serializationError(message: string, index: number): TidemarkError {
  return new TidemarkError('SERIALIZATION_ERROR', `record ${index}: ${message}`, { details: { index } });
}

/** Encoded size of one record (also what the chunker counts). */
export function recordSize(record: BlockRecord): number {
  const keyLength = record.key.length;
  if (isDelete(record)) return recordSizeOf(keyLength, -1);
  return recordSizeOf(keyLength, (record as StateRecord).value.length);
}

/** Encoded size of a record with these lengths; `valueLength` -1 for a delete. */
export function recordSizeOf(keyLength: number, valueLength: number): number {
  const keyPart = FIXED_BYTES + varintSize(keyLength) + keyLength;
  return valueLength < 0 ? keyPart : keyPart + varintSize(valueLength) + valueLength;
}

/** Validates `records[start, end)` and returns their encoded size. SERIALIZATION_ERROR on bad input. */
export function measureRecords(records: readonly BlockRecord[], start = 0, end = records.length): number {
  let size = 0;
  for (let i = start; i < end; i++) {
    const record = records[i]!;
    if (!(record.key instanceof Uint8Array)) throw serializationError('key is not a Buffer', i);
    if (!isDelete(record) && !((record as StateRecord).value instanceof Uint8Array)) {
      throw serializationError('value is not a Buffer', i);
    }
    if (!Number.isSafeInteger(record.lsn) || record.lsn < 0) throw serializationError('bad lsn', i);
    if (!Number.isSafeInteger(record.timestamp) || record.timestamp < 0) {
      throw serializationError('bad timestamp', i);
    }
    size += recordSize(record);
  }
  return size;
}

/** Writes measured `records[start, end)` at `offset`; returns the offset after them. */
export function writeRecords(
  buf: Buffer,
  offset: number,
  records: readonly BlockRecord[],
  start = 0,
  end = records.length,
): number {
  let at = offset;
  for (let i = start; i < end; i++) {
    const record = records[i]!;
    const key = record.key;
    const del = isDelete(record);
    buf[at++] = del ? OP_DELETE : OP_PUT;
    at = writeVarint(buf, key.length, at);
    buf.set(key, at);
    at += key.length;
    if (!del) {
      const value = (record as StateRecord).value;
      at = writeVarint(buf, value.length, at);
      buf.set(value, at);
      at += value.length;
    }
    writeU64(buf, record.lsn, at);
    writeU64(buf, record.timestamp, at + 8);
    at += 16;
  }
  return at;
}

/** `records[start, end)` encoded into one new Buffer. */
export function encodeRecords(records: readonly BlockRecord[], start = 0, end = records.length): Buffer {
  const buf = Buffer.allocUnsafe(measureRecords(records, start, end));
  writeRecords(buf, 0, records, start, end);
  return buf;
}

function corrupt(message: string, offset: number): TidemarkError {
  return new TidemarkError('DESERIALIZATION_ERROR', `malformed block records: ${message} at byte ${offset}`, {
    details: { offset },
  });
}

/**
 * Decodes every record of `buf`; with `expectedCount`, exactly that many. Keys and values are views
 * into `buf`. DESERIALIZATION_ERROR on malformed input (never a RangeError).
 */
export function decodeRecords(buf: Buffer, expectedCount?: number): DeltaRecord[] {
  const records: DeltaRecord[] = expectedCount === undefined ? [] : new Array<DeltaRecord>(expectedCount);
  const end = buf.length;
  let at = 0;
  let n = 0;
  while (at < end) {
    if (expectedCount !== undefined && n >= expectedCount)
      throw corrupt(`more than ${expectedCount} records`, at);
    const op = buf[at++];
    if (op !== OP_PUT && op !== OP_DELETE) throw corrupt(`unknown op ${op}`, at - 1);
    // Key length, inline varint.
    let keyLength = 0;
    let shift = 1;
    for (let b = 0; ; b++) {
      if (at >= end || b === 5) throw corrupt('bad key length', at);
      const byte = buf[at++]!;
      keyLength += (byte & 0x7f) * shift;
      shift *= 128;
      if (byte < 0x80) break;
    }
    if (keyLength > end - at) throw corrupt('truncated key', at);
    const key = bufferView(buf, at, at + keyLength);
    at += keyLength;
    let value: Buffer | undefined;
    if (op === OP_PUT) {
      let valueLength = 0;
      shift = 1;
      for (let b = 0; ; b++) {
        if (at >= end || b === 5) throw corrupt('bad value length', at);
        const byte = buf[at++]!;
        valueLength += (byte & 0x7f) * shift;
        shift *= 128;
        if (byte < 0x80) break;
      }
      if (valueLength > end - at) throw corrupt('truncated value', at);
      value = bufferView(buf, at, at + valueLength);
      at += valueLength;
    }
    if (end - at < 16) throw corrupt('truncated lsn/timestamp', at);
    const lsn = readU64(buf, at);
    const timestamp = readU64(buf, at + 8);
    if (Number.isNaN(lsn) || Number.isNaN(timestamp)) throw corrupt('lsn or timestamp beyond 2^53', at);
    at += 16;
    records[n++] =
      value === undefined ? { op: 'delete', key, lsn, timestamp } : { op: 'put', key, value, lsn, timestamp };
  }
  if (expectedCount !== undefined && n !== expectedCount) {
    throw corrupt(`${n} records, expected ${expectedCount}`, at);
  }
  return records;
}

/** Counts the records of `buf` without building them (for verification). Same checks as decoding. */
export function countRecords(buf: Buffer): number {
  const end = buf.length;
  let at = 0;
  let n = 0;
  while (at < end) {
    const op = buf[at++];
    if (op !== OP_PUT && op !== OP_DELETE) throw corrupt(`unknown op ${op}`, at - 1);
    for (let field = op === OP_PUT ? 2 : 1; field > 0; field--) {
      let length = 0;
      let shift = 1;
      for (let b = 0; ; b++) {
        if (at >= end || b === 5) throw corrupt('bad length', at);
        const byte = buf[at++]!;
        length += (byte & 0x7f) * shift;
        shift *= 128;
        if (byte < 0x80) break;
      }
      if (length > end - at) throw corrupt('truncated key or value', at);
      at += length;
    }
    if (end - at < 16) throw corrupt('truncated lsn/timestamp', at);
    if (Number.isNaN(readU64(buf, at)) || Number.isNaN(readU64(buf, at + 8))) {
      throw corrupt('lsn or timestamp beyond 2^53', at);
    }
    at += 16;
    n++;
  }
  return n;
}

/** The records of a full checkpoint's block as StateRecords: INVALID_STATE_DATA if one is a delete. */
export function asStateRecords(records: DeltaRecord[]): StateRecord[] {
  for (let i = 0; i < records.length; i++) {
    if (records[i]!.op !== 'put') {
      throw new TidemarkError('INVALID_STATE_DATA', `record ${i} of a full-state block is a delete`, {
        details: { index: i },
      });
    }
  }
  return records as StateRecord[];
}
