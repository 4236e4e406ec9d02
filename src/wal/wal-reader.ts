import { decompress } from '@mongodb-js/zstd';
import { promises as fs } from 'node:fs';
import { TidemarkError, checksumMismatch } from '../lib/errors';
import type { LogRecord } from './entry';
import { decodeEntries } from './entry-decoder';
import { FRAME_HEADER_SIZE, HEADER_SIZE, KIND_FOOTER } from './format';
import { checkFrame, readEntriesHeader } from './frame';

/** A segment as a reader sees it: frames from the header up to `limit` (the committed end, or the file's end). */
export interface ReadableSegment {
  name: string;
  path: string;
  firstLsn: number;
  lastLsn: number;
  limit: number;
}

/** A frame's entries, encoded: `count` entries in `bytes[start, end)`, the first at LSN `firstLsn`. */
export interface EntryFrame {
  bytes: Buffer;
  start: number;
  end: number;
  count: number;
  firstLsn: number;
}

const CHUNK = 4 * 1024 * 1024;

/**
 * Yields the records of `segments` with `fromLsn <= lsn <= toLsn`, checking every frame's CRC on the
 * way (CHECKSUM_MISMATCH naming file and offset). Frames are read in chunks, never a whole segment.
 * Keys and values are views into the chunk they were read from.
 */
export async function* readRecords(
  segments: readonly ReadableSegment[],
  fromLsn: number,
  toLsn: number,
): AsyncGenerator<LogRecord> {
  for await (const batch of readRecordBatches(segments, fromLsn, toLsn)) yield* batch;
}

/**
 * readRecords a frame at a time: one array per frame (its records in the range), so that a reader that
 * takes many records pays one step of the async iteration per frame, not per record.
 */
export async function* readRecordBatches(
  segments: readonly ReadableSegment[],
  fromLsn: number,
  toLsn: number,
): AsyncGenerator<LogRecord[]> {
  for await (const frame of readEntryFrames(segments, fromLsn, toLsn)) {
    const entries = decodeEntries(frame.bytes, frame.start, frame.end, frame.count);
    const first = Math.max(0, fromLsn - frame.firstLsn);
    const end = Math.min(entries.length, toLsn - frame.firstLsn + 1);
    const records = new Array<LogRecord>(Math.max(0, end - first));
    for (let i = first; i < end; i++) {
      records[i - first] = { lsn: frame.firstLsn + i, entry: entries[i]! };
    }
    if (records.length > 0) yield records;
  }
}

/**
 * The entry frames of `segments` that hold an LSN in `[fromLsn, toLsn]`, CRC checked and decompressed,
 * entries not decoded (entry-decoder.ts). A frame may begin before `fromLsn` or end after `toLsn`.
 * `transient`: a frame's bytes are valid only until the next frame is asked for — two read buffers take
 * turns instead of a fresh one per chunk (fresh memory is slow on first touch: `node --cpu-prof` of the
 * materialiser's ingest put a third of the reading there).
 */
export async function* readEntryFrames(
  segments: readonly ReadableSegment[],
  fromLsn: number,
  toLsn: number,
  transient = false,
): AsyncGenerator<EntryFrame> {
  const allocate = transient ? alternating() : (size: number) => Buffer.allocUnsafe(size);
  for (const segment of segments) {
    if (segment.lastLsn < fromLsn || segment.firstLsn > toLsn) continue;
    yield* readSegment(segment, fromLsn, toLsn, allocate);
    if (segment.lastLsn >= toLsn) return;
  }
}

async function* readSegment(
  segment: ReadableSegment,
  fromLsn: number,
  toLsn: number,
  allocate: (size: number) => Buffer,
): AsyncGenerator<EntryFrame> {
  const handle = await fs.open(segment.path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new TidemarkError(
      'NOT_FOUND',
      `${segment.name} (LSN ${segment.firstLsn}-${segment.lastLsn}) is no longer on local disk`,
      { cause: error, details: { file: segment.name } },
    );
  });
  try {
    let chunk: Buffer = Buffer.alloc(0);
    let chunkStart = HEADER_SIZE; // file offset of chunk[0]
    let filePosition = HEADER_SIZE;
    let at = 0;
    const fill = async (needed: number): Promise<boolean> => {
      const have = chunk.length - at;
      if (have >= needed) return true;
      const want = Math.min(Math.max(needed, CHUNK), segment.limit - chunkStart - at);
      if (want < needed) return false;
      const next = allocate(want);
      chunk.copy(next, 0, at);
      const { bytesRead } = await handle.read(next, have, want - have, filePosition);
      filePosition += bytesRead;
      chunkStart += at;
      chunk = next.subarray(0, have + bytesRead);
      at = 0;
      return chunk.length >= needed;
    };
    let expectedLsn = segment.firstLsn;
    while (expectedLsn <= segment.lastLsn && expectedLsn <= toLsn) {
      const offset = chunkStart + at;
      const bad = (reason: string) =>
        checksumMismatch(`${segment.name}: corrupt WAL frame at offset ${offset}: ${reason}`, {
          file: segment.name,
          offset,
        });
      if (!(await fill(FRAME_HEADER_SIZE))) throw bad('log ends before its last LSN');
      const length = chunk.readUInt32LE(at);
      if (!(await fill(FRAME_HEADER_SIZE + length))) throw bad(`frame of ${length} bytes runs past the end`);
      const check = checkFrame(chunk, at, at + FRAME_HEADER_SIZE + length);
      if (check.status !== 'ok') throw bad(check.status === 'bad' ? check.reason : 'zero frame');
      if (check.kind === KIND_FOOTER) throw bad('footer before the last LSN');
      const frame = readEntriesHeader(chunk, check.payloadStart);
      if (frame.firstLsn !== expectedLsn)
        throw bad(`LSN ${frame.firstLsn} where ${expectedLsn} was expected`);
      const frameEnd = check.end;
      at = frameEnd;
      expectedLsn += frame.count;
      if (expectedLsn <= fromLsn) continue; // the whole frame lies before the range: no need to decode it
      if (frame.compressed) {
        const body = await decompress(chunk.subarray(frame.bodyStart, frameEnd));
        yield { bytes: body, start: 0, end: body.length, count: frame.count, firstLsn: frame.firstLsn };
      } else {
        yield {
          bytes: chunk,
          start: frame.bodyStart,
          end: frameEnd,
          count: frame.count,
          firstLsn: frame.firstLsn,
        };
      }
      if (expectedLsn > toLsn) return;
    }
  } finally {
    await handle.close();
  }
}

/** Buffers of at least the size asked for, two taking turns: the one handed out last is left alone. */
function alternating(): (size: number) => Buffer {
  const buffers: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  let turn = 0;
  return (size) => {
    turn ^= 1;
    if (buffers[turn].length < size) buffers[turn] = Buffer.allocUnsafe(Math.max(size, CHUNK));
    return buffers[turn].subarray(0, size);
  };
}
