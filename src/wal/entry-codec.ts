import { invalidArgument, quoteInput } from '../lib/errors';
import type { Bytes, Change, LogEntry } from './entry';
import { writeU64 } from '../lib/uint64';
import type { WalOptions } from './wal-options';

/**
 * The binary form of one entry, shared by WAL frames and the binary batch form:
 *
 * entry  = timestamp u64 | sequence u64 | idLength u8 | id (ASCII) | changeCount u32 | change*
 *          | metadataCount u16 | (keyLength u16 | key | valueLength u32 | value)*     (UTF-8)
 * change = op u8 (1 put, 2 delete, 3 clear) | [keyLength u32 | key] | [valueLength u32 | value]
 *
 * Encoding is two passes (measure, then write into one buffer) so a batch is a single allocation
 * and bad input is refused before anything is written. Decoding: entry-decoder.ts.
 */
export const OP_PUT = 1;
export const OP_DELETE = 2;
export const OP_CLEAR = 3;

const COMPONENT_ID = /^[A-Za-z0-9._:-]{1,255}$/;
const MAX_METADATA_ENTRIES = 0xffff;

function bytesLength(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (value instanceof Uint8Array) return value.length;
  return -1;
}

function writeBytes(buf: Buffer, value: Bytes, offset: number, length: number): number {
  if (typeof value === 'string') buf.write(value, offset, length, 'utf8');
  else buf.set(value, offset);
  return offset + length;
}

// Component ids repeat endlessly; remember the valid ones rather than run the pattern per entry.
const knownIds = new Set<string>();
const MAX_KNOWN_IDS = 65_536;

export function isValidComponentId(id: unknown): id is string {
  if (typeof id !== 'string') return false;
  if (knownIds.has(id)) return true;
  if (!COMPONENT_ID.test(id)) return false;
  if (knownIds.size >= MAX_KNOWN_IDS) knownIds.clear();
  knownIds.add(id);
  return true;
}

/** Writes an ASCII string byte by byte: cheaper than a native call for the short ids of components. */
function writeAscii(buf: Buffer, text: string, offset: number): void {
  for (let i = 0; i < text.length; i++) buf[offset + i] = text.charCodeAt(i);
}

/** What entry validation checks beyond the shape: the WAL's options of the same names. */
export type EntryChecks = Pick<WalOptions, 'maxEntryBytes' | 'validateTimestamps'>;

/**
 * Timestamps are µs since the epoch; with `validateTimestamps` they must fall in [2000-01-01, 2200-01-01).
 * Read as µs, a timestamp in milliseconds (or seconds) of any date before the year 31,000 lands in January
 * 1970, so the lower bound catches the wrong unit; the upper one (far past any real event, still below
 * 2255 where Number.MAX_SAFE_INTEGER µs lies) catches sentinels such as MAX_SAFE_INTEGER.
 */
const MIN_TIMESTAMP_MICROS = Date.UTC(2000, 0, 1) * 1000;
const MAX_TIMESTAMP_MICROS = Date.UTC(2200, 0, 1) * 1000;
const TIMESTAMP_RANGE = 'expected microseconds since the epoch (2000-01-01 to 2200-01-01)';

/** Why a timestamp (a non-negative safe integer) cannot be µs since the epoch, or undefined if it can. */
function timestampProblem(timestamp: number): string | undefined {
  if (timestamp >= MIN_TIMESTAMP_MICROS && timestamp < MAX_TIMESTAMP_MICROS) return undefined;
  for (const [unit, perMicro] of [
    ['milliseconds', 1000],
    ['seconds', 1_000_000],
  ] as const) {
    if (timestamp >= MIN_TIMESTAMP_MICROS / perMicro && timestamp < MAX_TIMESTAMP_MICROS / perMicro) {
      return `timestamp ${timestamp} looks like ${unit}; ${TIMESTAMP_RANGE}`;
    }
  }
  const side = timestamp < MIN_TIMESTAMP_MICROS ? 'before 2000-01-01' : 'after 2200-01-01';
  return `timestamp ${timestamp} is ${side} read as microseconds; ${TIMESTAMP_RANGE}`;
}

/** Validates an entry and returns its encoded size; throws INVALID_ARGUMENT naming what is wrong. */
export function measureEntry(entry: LogEntry, index: number, checks: EntryChecks): number {
  if (entry === null || typeof entry !== 'object') throw invalidArgument(`entry ${index} is not an object`);
  const { componentId, sequence, timestamp, changes, metadata } = entry;
  if (!isValidComponentId(componentId)) {
    throw invalidArgument(
      `entry ${index}: componentId must be 1-255 characters of [A-Za-z0-9._:-], got ${quoteInput(componentId)}`,
      { index },
    );
  }
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw invalidArgument(`entry ${index}: sequence must be a non-negative safe integer`, { index });
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw invalidArgument(`entry ${index}: timestamp must be a non-negative safe integer of microseconds`, {
      index,
    });
  }
  const problem = checks.validateTimestamps ? timestampProblem(timestamp) : undefined;
  if (problem !== undefined) {
    throw invalidArgument(`entry ${index}: ${problem} (wal.validateTimestamps turns this check off)`, {
      index,
      timestamp,
    });
  }
  if (!Array.isArray(changes)) throw invalidArgument(`entry ${index}: changes must be an array`, { index });
  let size = 8 + 8 + 1 + componentId.length + 4 + 2;
  for (let c = 0; c < changes.length; c++) size += measureChange(changes[c] as Change, index, c);
  if (metadata !== undefined && metadata !== null) size += measureMetadata(metadata, index);
  const { maxEntryBytes } = checks;
  if (size > maxEntryBytes) {
    throw invalidArgument(`entry ${index}: ${size} bytes encoded, over the limit of ${maxEntryBytes}`, {
      index,
      size,
      maxEntryBytes,
    });
  }
  return size;
}

function measureChange(change: Change, index: number, c: number): number {
  if (change === null || typeof change !== 'object') {
    throw invalidArgument(`entry ${index}, change ${c}: not an object`, { index, change: c });
  }
  if (change.op === 'clear') return 1;
  if (change.op !== 'put' && change.op !== 'delete') {
    throw invalidArgument(`entry ${index}, change ${c}: op must be put, delete or clear`, {
      index,
      change: c,
    });
  }
  const keyLength = bytesLength(change.key);
  if (keyLength < 0) {
    throw invalidArgument(`entry ${index}, change ${c}: key must be a Buffer, Uint8Array or string`, {
      index,
      change: c,
    });
  }
  if (change.op === 'delete') return 1 + 4 + keyLength;
  const valueLength = bytesLength(change.value);
  if (valueLength < 0) {
    throw invalidArgument(`entry ${index}, change ${c}: value must be a Buffer, Uint8Array or string`, {
      index,
      change: c,
    });
  }
  return 1 + 4 + keyLength + 4 + valueLength;
}

function measureMetadata(metadata: Readonly<Record<string, string>>, index: number): number {
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw invalidArgument(`entry ${index}: metadata must be an object of strings`, { index });
  }
  let size = 0;
  let count = 0;
  for (const key in metadata) {
    const value = metadata[key];
    if (typeof value !== 'string') {
      throw invalidArgument(`entry ${index}: metadata value of ${quoteInput(key)} must be a string`, {
        index,
      });
    }
    if (key === '__proto__')
      throw invalidArgument(`entry ${index}: metadata key __proto__ is not allowed`, { index });
    const keyLength = Buffer.byteLength(key, 'utf8');
    if (keyLength > 0xffff) throw invalidArgument(`entry ${index}: metadata key over 65535 bytes`, { index });
    size += 2 + keyLength + 4 + Buffer.byteLength(value, 'utf8');
    count++;
  }
  if (count > MAX_METADATA_ENTRIES)
    throw invalidArgument(`entry ${index}: over 65535 metadata entries`, { index });
  return size;
}

/** Writes a measured entry at `offset`; returns the offset after it. */
export function writeEntry(buf: Buffer, entry: LogEntry, offset: number): number {
  writeU64(buf, entry.timestamp, offset);
  writeU64(buf, entry.sequence, offset + 8);
  const id = entry.componentId;
  buf[offset + 16] = id.length;
  writeAscii(buf, id, offset + 17);
  let at = offset + 17 + id.length;
  const changes = entry.changes;
  buf.writeUInt32LE(changes.length, at);
  at += 4;
  for (let c = 0; c < changes.length; c++) {
    const change = changes[c] as Change;
    if (change.op === 'clear') {
      buf[at++] = OP_CLEAR;
      continue;
    }
    buf[at++] = change.op === 'put' ? OP_PUT : OP_DELETE;
    const keyLength = bytesLength(change.key);
    buf.writeUInt32LE(keyLength, at);
    at = writeBytes(buf, change.key, at + 4, keyLength);
    if (change.op === 'put') {
      const valueLength = bytesLength(change.value);
      buf.writeUInt32LE(valueLength, at);
      at = writeBytes(buf, change.value, at + 4, valueLength);
    }
  }
  const countAt = at;
  at += 2;
  let count = 0;
  const metadata = entry.metadata;
  if (metadata) {
    for (const key in metadata) {
      const value = metadata[key] as string;
      const keyLength = buf.write(key, at + 2, 'utf8');
      buf.writeUInt16LE(keyLength, at);
      at += 2 + keyLength;
      const valueLength = buf.write(value, at + 4, 'utf8');
      buf.writeUInt32LE(valueLength, at);
      at += 4 + valueLength;
      count++;
    }
  }
  buf.writeUInt16LE(count, countAt);
  return at;
}
