import { crc32c } from '@node-rs/crc32';
import { invalidArgument } from '../../../lib/errors';
import { writeU64 } from '../../../lib/uint64';
import type { Entry } from '../core';
import {
  ENTRIES_PART_HEADER_SIZE,
  ENTRY_HEADER_SIZE,
  ENTRY_KIND_CONFIG,
  ENTRY_KIND_NORMAL,
  FLAG_ENTRIES,
  FLAG_HARD_STATE,
  FLAG_SNAPSHOT,
  HARD_STATE_PART_HEADER_SIZE,
  KIND_SAVE,
  MAX_RECORD_BYTES,
  RECORD_HEADER_SIZE,
  SAVE_HEADER_SIZE,
  SNAPSHOT_PART_SIZE,
} from './log-format';
import type { LogChange } from './log-state';

/** Scratch buffers up to this size are kept for the next save; a larger record gets its own. */
const KEPT_SCRATCH_BYTES = 4 * 1024 * 1024;

/**
 * Encodes one save as one framed SAVE record (log-format.ts). Saves run one at a time, so the record is
 * built in a scratch buffer reused by the next call: the caller must be done with it by then.
 */
export class SaveRecordEncoder {
  private scratch = Buffer.allocUnsafe(64 * 1024);

  encode(change: LogChange): Buffer {
    const size = measureSaveRecord(change);
    if (size > this.scratch.length && size <= KEPT_SCRATCH_BYTES) {
      this.scratch = Buffer.allocUnsafe(
        Math.min(KEPT_SCRATCH_BYTES, Math.max(size, this.scratch.length * 2)),
      );
    }
    const buf = size <= this.scratch.length ? this.scratch : Buffer.allocUnsafe(size);
    writeSaveRecord(change, buf);
    return buf.subarray(0, size);
  }
}

/** The framed size of a save's record; INVALID_ARGUMENT when its payload is over MAX_RECORD_BYTES. */
export function measureSaveRecord(change: LogChange): number {
  let size = SAVE_HEADER_SIZE;
  if (change.snapshot) size += SNAPSHOT_PART_SIZE;
  const entries = change.entries;
  if (entries.length > 0) {
    size += ENTRIES_PART_HEADER_SIZE + entries.length * ENTRY_HEADER_SIZE;
    for (let i = 0; i < entries.length; i++) size += (entries[i] as Entry).data.length;
  }
  if (change.hardState) size += HARD_STATE_PART_HEADER_SIZE + Buffer.byteLength(change.hardState.vote);
  if (size > MAX_RECORD_BYTES) {
    throw invalidArgument(`a save of ${size} bytes is over the record limit of ${MAX_RECORD_BYTES}`);
  }
  return RECORD_HEADER_SIZE + size;
}

/** Writes the framed record of `change` at `buf[0, measureSaveRecord(change))`. */
export function writeSaveRecord(change: LogChange, buf: Buffer): void {
  const { snapshot, entries, hardState } = change;
  let at = RECORD_HEADER_SIZE;
  buf[at++] = KIND_SAVE;
  buf[at++] =
    (snapshot ? FLAG_SNAPSHOT : 0) |
    (entries.length > 0 ? FLAG_ENTRIES : 0) |
    (hardState ? FLAG_HARD_STATE : 0);
  if (snapshot) {
    writeU64(buf, snapshot.index, at);
    writeU64(buf, snapshot.term, at + 8);
    at += SNAPSHOT_PART_SIZE;
  }
  if (entries.length > 0) {
    writeU64(buf, (entries[0] as Entry).index, at);
    buf.writeUInt32LE(entries.length, at + 8);
    at += ENTRIES_PART_HEADER_SIZE;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Entry;
      writeU64(buf, entry.term, at);
      buf[at + 8] = entry.kind === 'config' ? ENTRY_KIND_CONFIG : ENTRY_KIND_NORMAL;
      buf.writeUInt32LE(entry.data.length, at + 9);
      buf.set(entry.data, at + ENTRY_HEADER_SIZE);
      at += ENTRY_HEADER_SIZE + entry.data.length;
    }
  }
  if (hardState) {
    writeU64(buf, hardState.term, at);
    writeU64(buf, hardState.commit, at + 8);
    const voteBytes = buf.write(hardState.vote, at + HARD_STATE_PART_HEADER_SIZE, 'utf8');
    buf[at + 16] = voteBytes;
    at += HARD_STATE_PART_HEADER_SIZE + voteBytes;
  }
  buf.writeUInt32LE(at - RECORD_HEADER_SIZE, 0);
  buf.writeUInt32LE(crc32c(buf.subarray(RECORD_HEADER_SIZE, at)), 4);
}

/**
 * The records of a whole log (compaction's rewrite): the first carries the snapshot position and the
 * hard state, and entries go in records of about `targetPayloadBytes` (at least one entry each).
 */
export function encodeLogRecords(change: LogChange, targetPayloadBytes = 64 * 1024 * 1024): Buffer[] {
  const { entries } = change;
  const records: Buffer[] = [];
  let start = 0;
  do {
    const first = start === 0;
    let size = 0;
    let end = start;
    while (end < entries.length) {
      const entryBytes = ENTRY_HEADER_SIZE + (entries[end] as Entry).data.length;
      if (end > start && size + entryBytes > targetPayloadBytes) break;
      size += entryBytes;
      end++;
    }
    const part: LogChange = first
      ? { snapshot: change.snapshot, hardState: change.hardState, entries: entries.slice(start, end) }
      : { entries: entries.slice(start, end) };
    const record = Buffer.allocUnsafe(measureSaveRecord(part));
    writeSaveRecord(part, record);
    records.push(record);
    start = end;
  } while (start < entries.length);
  return records;
}
