import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { HEADER_SIZE, KIND_FOOTER, TRAILER_SIZE, parseSegmentFileName } from './format';
import { checkFrame } from './frame';
import { decodeFooterPayload, readTrailer, type SegmentFooter } from './segment-footer';
import { decodeHeader, type SegmentHeader } from './segment-header';

/** File-system steps of the WAL: listing, reading a sealed segment's ends, removing leftovers. */

export interface SegmentFile {
  name: string;
  path: string;
  firstLsn: number;
}

export async function listSegmentFiles(dir: string): Promise<SegmentFile[]> {
  const files: SegmentFile[] = [];
  for (const name of await fs.readdir(dir)) {
    const firstLsn = parseSegmentFileName(name);
    if (firstLsn !== undefined) files.push({ name, path: join(dir, name), firstLsn });
  }
  return files.sort((a, b) => a.firstLsn - b.firstLsn);
}

export interface SealedSegmentEnds {
  header: SegmentHeader;
  footer: SegmentFooter;
  sizeBytes: number;
}

/**
 * Reads a segment's header and, if it is sealed, its footer — without reading the body.
 * Returns undefined for a segment that has no valid footer at its end (an active one, or a torn seal).
 */
export async function readSealedEnds(path: string): Promise<SealedSegmentEnds | undefined> {
  const handle = await fs.open(path, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, HEADER_SIZE));
    await handle.read(head, 0, head.length, 0);
    const header = decodeHeader(head, basename(path));
    if (size < HEADER_SIZE + TRAILER_SIZE) return undefined;
    const trailer = Buffer.alloc(TRAILER_SIZE);
    await handle.read(trailer, 0, TRAILER_SIZE, size - TRAILER_SIZE);
    const footerLength = readTrailer(trailer);
    if (footerLength === undefined || footerLength > size - TRAILER_SIZE - HEADER_SIZE) return undefined;
    const frame = Buffer.alloc(footerLength);
    await handle.read(frame, 0, footerLength, size - TRAILER_SIZE - footerLength);
    const check = checkFrame(frame, 0, footerLength);
    if (check.status !== 'ok' || check.kind !== KIND_FOOTER || check.end !== footerLength) return undefined;
    const footer = decodeFooterPayload(frame, check.payloadStart, check.end);
    return footer && { header, footer, sizeBytes: size };
  } finally {
    await handle.close();
  }
}

/** Removes leftovers of segment creation that a crash interrupted (never a segment file). */
export async function removeTemporaryFiles(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (name.endsWith('.tmp')) await fs.rm(join(dir, name), { force: true });
  }
}
