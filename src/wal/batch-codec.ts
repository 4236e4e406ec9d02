import { TidemarkError } from '../lib/errors';
import type { DecodedEntry, LogEntry } from './entry';
import { measureEntry, writeEntry } from './entry-codec';
import { decodeEntries } from './entry-decoder';

/**
 * The WAL's binary batch form (REST `application/octet-stream`): the same entry encoding as a frame
 * body, behind a small header.
 *
 * batch = magic "TMB1" | count u32 | entry * count
 */
const MAGIC = 0x31424d54; // "TMB1" read as u32 LE
const HEADER = 8;
/** Encoding checks the shape only: the WAL that appends the batch applies its own limits. */
const SHAPE_ONLY = { maxEntryBytes: Number.MAX_SAFE_INTEGER, validateTimestamps: false };

export function encodeBatch(entries: readonly LogEntry[]): Buffer {
  let size = HEADER;
  for (let i = 0; i < entries.length; i++) size += measureEntry(entries[i] as LogEntry, i, SHAPE_ONLY);
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(entries.length, 4);
  let at = HEADER;
  for (const entry of entries) at = writeEntry(buf, entry, at);
  return buf;
}

/** Decodes a binary batch; DESERIALIZATION_ERROR when it is not one. Keys and values are views into `buf`. */
export function decodeBatch(buf: Buffer): DecodedEntry[] {
  if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC) {
    throw new TidemarkError('DESERIALIZATION_ERROR', 'not a Tidemark binary batch (expected magic "TMB1")');
  }
  const count = buf.readUInt32LE(4);
  if (count > buf.length) throw new TidemarkError('DESERIALIZATION_ERROR', `batch claims ${count} entries`);
  return decodeEntries(buf, HEADER, buf.length, count);
}
