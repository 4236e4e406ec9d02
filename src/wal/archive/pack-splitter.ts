import { TidemarkError } from '../../lib/errors';
import { FRAME_HEADER_SIZE, HEADER_SIZE, KIND_FOOTER, TRAILER_SIZE } from '../format';
import { decodeHeader } from '../segment-header';
import { readTrailer } from '../segment-footer';

export interface SplitSegment {
  firstLsn: number;
  /** The segment file's bytes (a view into the pack). */
  bytes: Buffer;
}

/**
 * Splits a pack (sealed segment files, concatenated — segment-pack.ts) back into its segment files, by
 * walking each one's frame lengths to its footer and trailer: a pack needs no index, so it can be read
 * when nothing but the store survived. Frame contents are not checked here; opening the segments as a WAL
 * (or `wal inspect`) checks every CRC. A pack that does not split cleanly is INVALID_STATE_DATA.
 */
export function splitPack(pack: Buffer, key: string): SplitSegment[] {
  const segments: SplitSegment[] = [];
  let start = 0;
  while (start < pack.length) {
    const header = decodeHeader(pack.subarray(start, start + HEADER_SIZE), `${key}@${start}`);
    let at = start + HEADER_SIZE;
    for (;;) {
      if (at + FRAME_HEADER_SIZE + 1 > pack.length) throw broken(key, at, 'a frame runs past the end');
      const length = pack.readUInt32LE(at);
      const kind = pack[at + FRAME_HEADER_SIZE];
      at += FRAME_HEADER_SIZE + length;
      if (kind === KIND_FOOTER) break;
    }
    const end = at + TRAILER_SIZE;
    if (end > pack.length || readTrailer(pack.subarray(start, end)) === undefined) {
      throw broken(key, at, 'a segment does not end in a trailer');
    }
    segments.push({ firstLsn: header.firstLsn, bytes: pack.subarray(start, end) });
    start = end;
  }
  return segments;
}

function broken(key: string, offset: number, reason: string): TidemarkError {
  return new TidemarkError(
    'INVALID_STATE_DATA',
    `WAL pack ${key} is malformed at byte ${offset}: ${reason}`,
    {
      details: { key, offset },
    },
  );
}
