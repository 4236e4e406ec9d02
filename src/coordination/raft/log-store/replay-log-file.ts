import { crc32c } from '@node-rs/crc32';
import { TidemarkError, checksumMismatch } from '../../../lib/errors';
import type { Entry } from '../core';
import { checkFileHeader } from './check-file-header';
import { FILE_HEADER_SIZE, KIND_SAVE, LOG_MAGIC, RECORD_HEADER_SIZE, SAVE_HEADER_SIZE } from './log-format';
import { LogState } from './log-state';
import { MalformedRecord, decodeSaveRecord } from './save-record-decoder';

/** The log as its file holds it, and how much of the file's end is a torn write to cut. */
export interface ReplayedLog {
  state: LogState;
  /** Where the last whole record ends: the file's length once a torn tail is cut. */
  end: number;
  torn: { offset: number; bytes: number; reason: string } | undefined;
}

/**
 * Replays the log file's records in order. A bad record with nothing valid after it is a torn tail (a write
 * a crash interrupted, never acknowledged): reported for the caller to cut. A bad record followed by a valid
 * one is corruption: CHECKSUM_MISMATCH naming the file and offset. A record whose checksum holds but which
 * does not decode or does not fit the log before it is INVALID_STATE_DATA. Changes nothing on disk.
 */
export function replayLogFile(bytes: Buffer, file: string): ReplayedLog {
  checkFileHeader(bytes, LOG_MAGIC, file, 'Raft log file');
  const state = new LogState();
  let offset = FILE_HEADER_SIZE;
  let torn: ReplayedLog['torn'];
  while (offset < bytes.length) {
    const check = checkRecord(bytes, offset);
    if (check.status === 'bad') {
      const next = findRecordAfter(bytes, offset + 1);
      if (next !== undefined) {
        throw checksumMismatch(
          `${file}: corrupt record at offset ${offset} (${check.reason}), followed by a valid record at ${next}`,
          { file, offset },
        );
      }
      torn = { offset, bytes: bytes.length - offset, reason: check.reason };
      break;
    }
    applyRecord(state, bytes, offset, check.end, file);
    offset = check.end;
  }
  // Entry data were views into the file's bytes: copy the ones kept, so the file's buffer can go.
  for (let i = 0; i < state.entries.length; i++) {
    const { term, index, kind, data } = state.entries[i] as Entry;
    state.entries[i] = { term, index, kind, data: Buffer.from(data) };
  }
  return { state, end: offset, torn };
}

function applyRecord(state: LogState, bytes: Buffer, offset: number, end: number, file: string): void {
  try {
    const change = decodeSaveRecord(bytes, offset + RECORD_HEADER_SIZE, end);
    state.checkChange(change);
    state.applyChange(change);
  } catch (error) {
    if (!(error instanceof MalformedRecord) && !TidemarkError.is(error, 'INVALID_ARGUMENT')) throw error;
    throw new TidemarkError('INVALID_STATE_DATA', `${file}: record at offset ${offset}: ${error.message}`, {
      cause: error,
      details: { file, offset },
    });
  }
}

type RecordCheck = { status: 'ok'; end: number } | { status: 'bad'; reason: string };

function checkRecord(bytes: Buffer, offset: number): RecordCheck {
  if (bytes.length - offset < RECORD_HEADER_SIZE) return { status: 'bad', reason: 'truncated record header' };
  const length = bytes.readUInt32LE(offset);
  if (length < SAVE_HEADER_SIZE) return { status: 'bad', reason: `a record of ${length} bytes` };
  const end = offset + RECORD_HEADER_SIZE + length;
  if (end > bytes.length)
    return { status: 'bad', reason: `a record of ${length} bytes runs past the end of the file` };
  const crc = bytes.readUInt32LE(offset + 4);
  if (crc32c(bytes.subarray(offset + RECORD_HEADER_SIZE, end)) !== crc) {
    return { status: 'bad', reason: 'checksum mismatch' };
  }
  return { status: 'ok', end };
}

/** The offset of the first whole, checksummed SAVE record at or after `from`, if any. */
function findRecordAfter(bytes: Buffer, from: number): number | undefined {
  for (let at = from; at + RECORD_HEADER_SIZE + SAVE_HEADER_SIZE <= bytes.length; at++) {
    if (bytes[at + RECORD_HEADER_SIZE] !== KIND_SAVE) continue;
    if (checkRecord(bytes, at).status === 'ok') return at;
  }
  return undefined;
}
