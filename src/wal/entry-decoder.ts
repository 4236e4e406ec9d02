import { TidemarkError } from '../lib/errors';
import { peekU32, peekU64 } from '../lib/uint64';
import type { DecodedChange, DecodedEntry } from './entry';
import { OP_CLEAR, OP_DELETE, OP_PUT } from './entry-codec';

/**
 * What `parseEntries` finds, in order: per entry `begin`, then its changes, its metadata, `end`. Keys and
 * values are ranges of `bytes` (the buffer being parsed), so a sink that copies them — the materialiser —
 * needs no Buffer or object per change (`node --cpu-prof` of the ingest bench: decoding entries into
 * objects cost more than applying them).
 */
export interface EntrySink {
  begin(index: number, componentId: string, sequence: number, timestamp: number, changeCount: number): void;
  put(bytes: Buffer, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void;
  delete(bytes: Buffer, keyStart: number, keyEnd: number): void;
  clear(): void;
  metadata(key: string, value: string): void;
  end(): void;
}

/**
 * Parses `count` entries (entry-codec.ts gives the format) from `buf[offset, end)` into `sink`.
 * Throws DESERIALIZATION_ERROR when the bytes do not hold exactly `count` well-formed entries — possibly
 * after the sink saw the entries before the fault: a sink that must see all or nothing parses with
 * `checkEntries` first.
 */
export function parseEntries(buf: Buffer, offset: number, end: number, count: number, sink: EntrySink): void {
  // Bytes are read unchecked once checked against `end`: the range must lie in the buffer.
  if (!(0 <= offset && offset <= end && end <= buf.length) || !Number.isSafeInteger(count) || count < 0) {
    throw corrupt(
      `a range of ${String(offset)}..${String(end)} in ${buf.length} bytes, count ${String(count)}`,
      0,
    );
  }
  let at = offset;
  const ids = new RecentIds();
  for (let i = 0; i < count; i++) {
    if (at + 17 > end) throw corrupt('truncated entry header', at);
    const timestamp = peekU64(buf, at);
    const sequence = peekU64(buf, at + 8);
    const idLength = buf[at + 16]!;
    if (Number.isNaN(timestamp) || Number.isNaN(sequence) || idLength === 0)
      throw corrupt('bad entry header', at);
    at += 17;
    if (at + idLength + 4 > end) throw corrupt('truncated component id', at);
    const componentId = ids.read(buf, at, idLength);
    at += idLength;
    const changeCount = peekU32(buf, at);
    at += 4;
    if (changeCount > end - at) throw corrupt('change count exceeds the bytes left', at);
    sink.begin(i, componentId, sequence, timestamp, changeCount);
    for (let c = 0; c < changeCount; c++) {
      const op = buf[at++];
      if (op === OP_CLEAR) {
        sink.clear();
        continue;
      }
      if (op !== OP_PUT && op !== OP_DELETE) throw corrupt(`unknown change op ${String(op)}`, at - 1);
      if (at + 4 > end) throw corrupt('truncated key length', at);
      const keyLength = peekU32(buf, at);
      at += 4;
      if (at + keyLength > end) throw corrupt('truncated key', at);
      const keyStart = at;
      at += keyLength;
      if (op === OP_DELETE) {
        sink.delete(buf, keyStart, at);
        continue;
      }
      if (at + 4 > end) throw corrupt('truncated value length', at);
      const valueLength = peekU32(buf, at);
      at += 4;
      if (at + valueLength > end) throw corrupt('truncated value', at);
      sink.put(buf, keyStart, keyStart + keyLength, at, at + valueLength);
      at += valueLength;
    }
    if (at + 2 > end) throw corrupt('truncated metadata count', at);
    const metadataCount = buf.readUInt16LE(at);
    at += 2;
    for (let m = 0; m < metadataCount; m++) {
      if (at + 2 > end) throw corrupt('truncated metadata key length', at);
      const keyLength = buf.readUInt16LE(at);
      at += 2;
      if (at + keyLength + 4 > end) throw corrupt('truncated metadata key', at);
      const key = buf.toString('utf8', at, at + keyLength);
      if (key === '__proto__') throw corrupt('metadata key __proto__', at);
      at += keyLength;
      const valueLength = peekU32(buf, at);
      at += 4;
      if (at + valueLength > end) throw corrupt('truncated metadata value', at);
      sink.metadata(key, buf.toString('utf8', at, at + valueLength));
      at += valueLength;
    }
    sink.end();
  }
  if (at !== end) throw corrupt(`${end - at} bytes left after ${count} entries`, at);
}

/** Throws as `parseEntries` would, and does nothing else. */
export function checkEntries(buf: Buffer, offset: number, end: number, count: number): void {
  parseEntries(buf, offset, end, count, IGNORE);
}

/**
 * Decodes `count` entries from `buf[offset, end)`. Keys and values are views into `buf`, not copies.
 * Decoded entries are read-only (an entry without metadata shares one frozen empty object).
 * Throws DESERIALIZATION_ERROR when the bytes do not hold exactly `count` well-formed entries.
 */
export function decodeEntries(buf: Buffer, offset: number, end: number, count: number): DecodedEntry[] {
  const builder = new EntryBuilder(count);
  parseEntries(buf, offset, end, count, builder);
  return builder.entries;
}

/** The metadata of every decoded entry that has none: one shared, frozen object. */
const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({});

class EntryBuilder implements EntrySink {
  readonly entries: DecodedEntry[];
  private index = 0;
  private componentId = '';
  private sequence = 0;
  private timestamp = 0;
  private changes: DecodedChange[] = [];
  private changeCount = 0;
  private meta: Record<string, string> | undefined;

  constructor(count: number) {
    this.entries = new Array<DecodedEntry>(count);
  }

  begin(index: number, componentId: string, sequence: number, timestamp: number, changeCount: number): void {
    this.index = index;
    this.componentId = componentId;
    this.sequence = sequence;
    this.timestamp = timestamp;
    this.changes = new Array<DecodedChange>(changeCount);
    this.changeCount = 0;
    this.meta = undefined;
  }

  put(bytes: Buffer, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void {
    this.changes[this.changeCount++] = {
      op: 'put',
      key: bytes.subarray(keyStart, keyEnd),
      value: bytes.subarray(valueStart, valueEnd),
    };
  }

  delete(bytes: Buffer, keyStart: number, keyEnd: number): void {
    this.changes[this.changeCount++] = { op: 'delete', key: bytes.subarray(keyStart, keyEnd) };
  }

  clear(): void {
    this.changes[this.changeCount++] = { op: 'clear' };
  }

  metadata(key: string, value: string): void {
    (this.meta ??= {})[key] = value;
  }

  end(): void {
    this.entries[this.index] = {
      componentId: this.componentId,
      sequence: this.sequence,
      timestamp: this.timestamp,
      changes: this.changes,
      metadata: this.meta ?? NO_METADATA,
    };
  }
}

const IGNORE: EntrySink = {
  begin() {},
  put() {},
  delete() {},
  clear() {},
  metadata() {},
  end() {},
};

function corrupt(message: string, offset: number): TidemarkError {
  return new TidemarkError('DESERIALIZATION_ERROR', `malformed entry: ${message} at byte ${offset}`, {
    details: { offset },
  });
}

/**
 * The last few component ids a frame's entries named. Entries mostly name a few components,
 * often in turn (one record per operator): an id's string is reused when its bytes repeat — a byte loop
 * over a short id costs less than making the string again, and a sink can tell a repeated id by identity.
 */
class RecentIds {
  private readonly ids: string[] = [];
  /** Where the next new id goes once all places are taken (round robin). */
  private next = 0;
  /** Where the last id was found: the search starts there (the same id again), then the one after it (ids in turn). */
  private last = 0;

  read(buf: Buffer, at: number, length: number): string {
    const ids = this.ids;
    const count = ids.length;
    for (let i = 0, k = this.last; i < count; i++, k = k + 1 === count ? 0 : k + 1) {
      const id = ids[k]!;
      if (id.length === length && sameAscii(buf, at, id)) {
        this.last = k;
        return id;
      }
    }
    const id = buf.toString('latin1', at, at + length);
    if (ids.length < RECENT_IDS) ids.push(id);
    else {
      ids[this.next] = id;
      this.next = (this.next + 1) % RECENT_IDS;
    }
    return id;
  }
}

const RECENT_IDS = 8;

/** Compared from the end: ids that share a prefix (`window_processor_1`, `_2`, …) differ there. */
function sameAscii(buf: Buffer, at: number, text: string): boolean {
  for (let i = text.length - 1; i >= 0; i--) if (buf[at + i] !== text.charCodeAt(i)) return false;
  return true;
}
