import { readU64 } from '../../../lib/uint64';
import type { Entry, EntryKind, HardState } from '../core';
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
  KNOWN_FLAGS,
  SAVE_HEADER_SIZE,
  SNAPSHOT_PART_SIZE,
} from './log-format';
import type { LogChange, LogPosition } from './log-state';

/** A record whose checksum holds but whose content is not a save this format writes. */
export class MalformedRecord extends Error {}

/**
 * Decodes the SAVE payload at `buf[start, end)`. Entry data are views into `buf` (the caller copies what it
 * keeps). Throws MalformedRecord.
 */
export function decodeSaveRecord(buf: Buffer, start: number, end: number): LogChange {
  let at = start;
  const need = (bytes: number, what: string): void => {
    if (at + bytes > end) throw new MalformedRecord(`the record ends inside its ${what}`);
  };
  need(SAVE_HEADER_SIZE, 'kind');
  if (buf[at] !== KIND_SAVE) throw new MalformedRecord(`unknown record kind ${buf[at]}`);
  const flags = buf[at + 1] as number;
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new MalformedRecord(`unknown record flags ${flags}`);
  at += SAVE_HEADER_SIZE;

  let snapshot: LogPosition | undefined;
  if (flags & FLAG_SNAPSHOT) {
    need(SNAPSHOT_PART_SIZE, 'snapshot position');
    snapshot = { index: number(buf, at, 'snapshot index'), term: number(buf, at + 8, 'snapshot term') };
    at += SNAPSHOT_PART_SIZE;
  }

  const entries: Entry[] = [];
  if (flags & FLAG_ENTRIES) {
    need(ENTRIES_PART_HEADER_SIZE, 'entries header');
    const firstIndex = number(buf, at, 'first index');
    const count = buf.readUInt32LE(at + 8);
    at += ENTRIES_PART_HEADER_SIZE;
    if (count === 0 || count > (end - at) / ENTRY_HEADER_SIZE) {
      throw new MalformedRecord(`an entries part cannot hold ${count} entries`);
    }
    for (let i = 0; i < count; i++) {
      need(ENTRY_HEADER_SIZE, 'entry header');
      const term = number(buf, at, 'entry term');
      const kind = entryKind(buf[at + 8] as number);
      const length = buf.readUInt32LE(at + 9);
      at += ENTRY_HEADER_SIZE;
      need(length, 'entry data');
      entries.push({ term, index: firstIndex + i, kind, data: buf.subarray(at, at + length) });
      at += length;
    }
  }

  let hardState: HardState | undefined;
  if (flags & FLAG_HARD_STATE) {
    need(HARD_STATE_PART_HEADER_SIZE, 'hard state');
    const term = number(buf, at, 'hard state term');
    const commit = number(buf, at + 8, 'commit index');
    const voteLength = buf[at + 16] as number;
    at += HARD_STATE_PART_HEADER_SIZE;
    need(voteLength, 'vote');
    hardState = { term, vote: buf.toString('utf8', at, at + voteLength), commit };
    at += voteLength;
  }
  if (at !== end) throw new MalformedRecord(`${end - at} bytes after the record's last part`);
  return { snapshot, entries, hardState };
}

function entryKind(code: number): EntryKind {
  if (code === ENTRY_KIND_NORMAL) return 'normal';
  if (code === ENTRY_KIND_CONFIG) return 'config';
  throw new MalformedRecord(`unknown entry kind ${code}`);
}

function number(buf: Buffer, at: number, what: string): number {
  const value = readU64(buf, at);
  if (Number.isNaN(value)) throw new MalformedRecord(`the ${what} is beyond 2^53`);
  return value;
}
