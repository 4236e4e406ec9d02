import { decompress } from '@mongodb-js/zstd';
import { checksumMismatch } from '../lib/errors';
import type { LogRecord } from './entry';
import { decodeEntries } from './entry-decoder';
import { HEADER_SIZE, KIND_FOOTER } from './format';
import { checkFrame, readEntriesHeader } from './frame';
import { decodeHeader } from './segment-header';

/**
 * Yields the records with `fromLsn <= lsn <= toLsn` of one whole segment held in memory — a segment file
 * split out of an uploaded pack, when the local copy is gone. Checks the header and every frame's CRC
 * (CHECKSUM_MISMATCH naming the segment and offset) and that LSNs follow on; stops at the footer.
 */
export async function* readSegmentBuffer(
  bytes: Buffer,
  name: string,
  fromLsn: number,
  toLsn: number,
): AsyncGenerator<LogRecord> {
  let expectedLsn = decodeHeader(bytes, name).firstLsn;
  let at = HEADER_SIZE;
  while (expectedLsn <= toLsn) {
    const check = checkFrame(bytes, at, bytes.length);
    const bad = (reason: string) =>
      checksumMismatch(`${name}: corrupt WAL frame at offset ${at}: ${reason}`, { file: name, offset: at });
    if (check.status === 'end') return;
    if (check.status === 'bad') throw bad(check.reason);
    if (check.kind === KIND_FOOTER) return;
    const frame = readEntriesHeader(bytes, check.payloadStart);
    if (frame.firstLsn !== expectedLsn) throw bad(`LSN ${frame.firstLsn} where ${expectedLsn} was expected`);
    at = check.end;
    expectedLsn += frame.count;
    if (expectedLsn <= fromLsn) continue;
    const entries = frame.compressed
      ? await decompress(bytes.subarray(frame.bodyStart, check.end)).then((body) =>
          decodeEntries(body, 0, body.length, frame.count),
        )
      : decodeEntries(bytes, frame.bodyStart, check.end, frame.count);
    for (let i = 0; i < entries.length; i++) {
      const lsn = frame.firstLsn + i;
      if (lsn < fromLsn) continue;
      if (lsn > toLsn) return;
      yield { lsn, entry: entries[i] as LogRecord['entry'] };
    }
  }
}
