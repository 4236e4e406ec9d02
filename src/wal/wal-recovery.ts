import { promises as fs } from 'node:fs';
import { TidemarkError, checksumMismatch } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { listSegmentFiles, readSealedEnds, type SegmentFile } from './segment-files';
import { scanSegment, type SegmentScan } from './segment-scan';
import type { SegmentInfo } from './wal-options';

/** What open learns from the segment files: the sealed ones, the active one to resume, where LSNs go on. */
export interface RecoveredLog {
  sealed: SegmentInfo[];
  active?: { path: string; scan: SegmentScan };
  nextLsn: number;
  lastSequences: Map<string, number>;
  truncated?: { file: string; offset: number; bytes: number };
}

/**
 * Reads the directory as open must: every segment but the newest must be sealed (footer checked, body
 * left for readers to check); the newest is scanned frame by frame. A torn tail is reported for the
 * caller to cut; any other bad frame is CHECKSUM_MISMATCH naming the file and offset.
 */
export async function recoverLog(dir: string, logger: Logger): Promise<RecoveredLog> {
  const files = await listSegmentFiles(dir);
  const sealed: SegmentInfo[] = [];
  let lastSequences = new Map<string, number>();
  let active: RecoveredLog['active'];
  let truncated: RecoveredLog['truncated'];
  for (let i = 0; i < files.length; i++) {
    const file = files[i] as SegmentFile;
    const newest = i === files.length - 1;
    const ends = await readSealedEnds(file.path);
    if (ends) {
      checkContinuity(file, ends.header.firstLsn, sealed);
      if (ends.footer.firstLsn !== file.firstLsn || ends.footer.lastLsn < file.firstLsn - 1) {
        throw new TidemarkError(
          'INVALID_STATE_DATA',
          `${file.name}: footer LSN range does not match the file name`,
          {
            details: { file: file.name },
          },
        );
      }
      sealed.push(sealedInfo(file, ends.sizeBytes, ends.footer));
      lastSequences = ends.footer.lastSequences;
      continue;
    }
    if (!newest) {
      throw checksumMismatch(`${file.name}: segment is not the newest but has no valid footer`, {
        file: file.name,
        offset: 0,
      });
    }
    const scan = await scanSegment(file.path);
    checkContinuity(file, scan.header.firstLsn, sealed);
    if (scan.corruption) {
      throw checksumMismatch(
        `${file.name}: corrupt WAL frame at offset ${scan.corruption.offset}: ${scan.corruption.reason}`,
        { file: file.name, offset: scan.corruption.offset },
      );
    }
    if (scan.footer) {
      // Sealing wrote and synced the footer but a crash came before the file was cut after it.
      const end = scan.footer.end;
      const handle = await fs.open(file.path, 'r+');
      await handle
        .truncate(end)
        .then(() => handle.sync())
        .finally(() => handle.close());
      logger.info({ file: file.name }, 'finished sealing a WAL segment interrupted by a crash');
      sealed.push(sealedInfo(file, end, scan.footer.value));
      lastSequences = scan.footer.value.lastSequences;
      continue;
    }
    if (scan.torn) {
      truncated = { file: file.name, offset: scan.torn.offset, bytes: scan.torn.bytes };
      logger.warn(
        { file: file.name, offset: scan.torn.offset, bytes: scan.torn.bytes, reason: scan.torn.reason },
        'cutting a torn tail off the active WAL segment (an unacknowledged write interrupted by a crash)',
      );
    }
    for (const [componentId, sequence] of scan.lastSequences) lastSequences.set(componentId, sequence);
    active = { path: file.path, scan };
  }
  const last = sealed[sealed.length - 1];
  const nextLsn = active ? active.scan.lastLsn + 1 : last ? last.lastLsn + 1 : 1;
  return { sealed, active, nextLsn, lastSequences: new Map(lastSequences), truncated };
}

function checkContinuity(file: SegmentFile, headerLsn: number, sealed: SegmentInfo[]): void {
  if (headerLsn !== file.firstLsn) {
    throw new TidemarkError('INVALID_STATE_DATA', `${file.name}: header says first LSN ${headerLsn}`, {
      details: { file: file.name },
    });
  }
  const previous = sealed[sealed.length - 1];
  if (previous && previous.lastLsn + 1 !== file.firstLsn) {
    throw new TidemarkError(
      'INVALID_STATE_DATA',
      `WAL gap: ${previous.name} ends at LSN ${previous.lastLsn} but ${file.name} starts at ${file.firstLsn}`,
      { details: { file: file.name } },
    );
  }
}

function sealedInfo(
  file: SegmentFile,
  sizeBytes: number,
  footer: {
    entryCount: number;
    lastLsn: number;
    bodyCrc: number;
    minTimestamp: number;
    maxTimestamp: number;
  },
): SegmentInfo {
  return {
    name: file.name,
    path: file.path,
    firstLsn: file.firstLsn,
    lastLsn: footer.lastLsn,
    entryCount: footer.entryCount,
    sizeBytes,
    sealed: true,
    bodyCrc: footer.bodyCrc,
    minTimestamp: footer.minTimestamp,
    maxTimestamp: footer.maxTimestamp,
  };
}
