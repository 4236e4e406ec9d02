import { crc32c } from '@node-rs/crc32';
import { TidemarkError, checksumMismatch } from '../lib/errors';
import type { LogRecord } from './entry';
import { HEADER_SIZE, KIND_FOOTER, TRAILER_SIZE } from './format';
import { checkFrame } from './frame';
import { readSegmentBuffer } from './segment-buffer-reader';
import { decodeFooterPayload, readTrailer, type SegmentFooter } from './segment-footer';
import { decodeHeader, type SegmentHeader } from './segment-header';

/** One WAL segment file read from memory (docs/formats.md): a local `.wal` file or one split out of a pack. */
export interface DecodedSegment {
  header: SegmentHeader;
  /** Present when the segment is sealed; its body checksum has been checked against the frames. */
  footer: SegmentFooter | undefined;
  /**
   * The entries in LSN order, every frame's CRC checked as it is read (CHECKSUM_MISMATCH naming the
   * offset). Read whole, a sealed segment must hold exactly the entries its footer counts.
   */
  records(range?: { fromLsn?: number; toLsn?: number }): AsyncGenerator<LogRecord>;
}

/**
 * Reads a segment file's header and, when sealed, its footer; the records are read on demand. Refuses
 * bytes that are not a segment (bad magic, header CRC: CHECKSUM_MISMATCH), a format version this build
 * does not read (UNSUPPORTED_VERSION), and a sealed segment whose footer or body does not check
 * (CHECKSUM_MISMATCH). An active segment (no footer) is read up to its last whole frame; a torn tail in
 * it is CHECKSUM_MISMATCH here — opening the directory as a SegmentedWal is what cuts a torn tail.
 */
export function decodeSegment(bytes: Buffer, name = 'WAL segment'): DecodedSegment {
  const header = decodeHeader(bytes, name);
  const footer = readFooter(bytes, name);
  return {
    header,
    footer,
    records: (range = {}) => readRecords(bytes, name, header, footer, range),
  };
}

function readFooter(bytes: Buffer, name: string): SegmentFooter | undefined {
  const frameLength = readTrailer(bytes);
  if (frameLength === undefined) return undefined;
  const end = bytes.length - TRAILER_SIZE;
  const start = end - frameLength;
  const bad = (reason: string) =>
    checksumMismatch(`${name}: ${reason}`, { file: name, offset: Math.max(start, HEADER_SIZE) });
  if (start < HEADER_SIZE) throw bad('its trailer points before the header');
  const check = checkFrame(bytes, start, end);
  if (check.status !== 'ok' || check.kind !== KIND_FOOTER || check.end !== end) {
    throw bad('its footer frame does not check');
  }
  const footer = decodeFooterPayload(bytes, check.payloadStart, end);
  if (footer === undefined) throw bad('its footer does not decode');
  if (
    footer.bodyBytes !== start - HEADER_SIZE ||
    crc32c(bytes.subarray(HEADER_SIZE, start)) !== footer.bodyCrc
  ) {
    throw bad('its frames do not match the footer (size or crc32c)');
  }
  return footer;
}

async function* readRecords(
  bytes: Buffer,
  name: string,
  header: SegmentHeader,
  footer: SegmentFooter | undefined,
  range: { fromLsn?: number; toLsn?: number },
): AsyncGenerator<LogRecord> {
  const fromLsn = range.fromLsn ?? header.firstLsn;
  const toLsn = range.toLsn ?? Number.MAX_SAFE_INTEGER;
  let count = 0;
  for await (const record of readSegmentBuffer(bytes, name, fromLsn, toLsn)) {
    count++;
    yield record;
  }
  const whole = fromLsn <= header.firstLsn && toLsn === Number.MAX_SAFE_INTEGER;
  if (whole && footer !== undefined && count !== footer.entryCount) {
    throw new TidemarkError(
      'INVALID_STATE_DATA',
      `${name}: ${count} entries read, but the footer counts ${footer.entryCount}`,
      { details: { file: name } },
    );
  }
}
