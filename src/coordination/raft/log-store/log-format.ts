/**
 * The files of a Raft log store directory, version 1 (docs/raft-log-store.md). Integers little-endian.
 *
 * {dir}/log          header, record*                      (appended; rewritten whole by compaction)
 *   header         = magic "TMRL" | version u16 | reserved u16
 *   record         = length u32 | crc32c u32 (of payload) | payload (length bytes)
 *   payload        = kind u8 (1: SAVE) | flags u8, then the parts its flags name, in this order:
 *     1 snapshot   = index u64 | term u64          (the log starts after it: the snapshot file's position)
 *     2 entries    = firstIndex u64 | count u32 | entry * count   (replace the log from firstIndex on)
 *     4 hard state = term u64 | commit u64 | voteLength u8 | vote (UTF-8)
 *   entry          = term u64 | kind u8 (0 normal, 1 config) | dataLength u32 | data
 * {dir}/snapshot.{index, 20 digits}   header "TMSN" | version u16 | reserved u16, then one record whose
 *   payload        = index u64 | term u64 | voters | learners | data (the rest);
 *   voters, learners = count u16 | (idLength u8 | id (UTF-8)) * count
 *
 * One save is one record, so a crash keeps a save whole or not at all. The log names the snapshot it starts
 * after; a snapshot file it does not name is a leftover (of a save or compaction that did not finish).
 */
export const LOG_MAGIC = Buffer.from('TMRL', 'latin1');
export const SNAPSHOT_MAGIC = Buffer.from('TMSN', 'latin1');
export const FORMAT_VERSION = 1;
export const FILE_HEADER_SIZE = 8;

export const RECORD_HEADER_SIZE = 8;
export const KIND_SAVE = 1;
export const FLAG_SNAPSHOT = 1;
export const FLAG_ENTRIES = 2;
export const FLAG_HARD_STATE = 4;
export const KNOWN_FLAGS = FLAG_SNAPSHOT | FLAG_ENTRIES | FLAG_HARD_STATE;

/** kind, flags */
export const SAVE_HEADER_SIZE = 2;
export const SNAPSHOT_PART_SIZE = 16;
/** firstIndex, count */
export const ENTRIES_PART_HEADER_SIZE = 12;
/** term, kind, dataLength */
export const ENTRY_HEADER_SIZE = 13;
/** term, commit, voteLength (the vote follows) */
export const HARD_STATE_PART_HEADER_SIZE = 17;

export const ENTRY_KIND_NORMAL = 0;
export const ENTRY_KIND_CONFIG = 1;

/** The largest payload of one record (a save, or a snapshot file's): far below a Buffer's and readFile's limits. */
export const MAX_RECORD_BYTES = 1024 * 1024 * 1024;

export const LOG_FILE = 'log';
const SNAPSHOT_NAME = /^snapshot\.(\d{20})$/;

export function snapshotFileName(index: number): string {
  return `snapshot.${String(index).padStart(20, '0')}`;
}

/** The index a snapshot file's name holds, or undefined for any other name. */
export function parseSnapshotFileName(name: string): number | undefined {
  const match = SNAPSHOT_NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** A file's 8-byte header: magic, version, reserved. */
export function fileHeader(magic: Buffer): Buffer {
  const header = Buffer.alloc(FILE_HEADER_SIZE);
  magic.copy(header, 0);
  header.writeUInt16LE(FORMAT_VERSION, 4);
  return header;
}
