import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import { TidemarkError, echoInput, invalidArgument } from '../lib/errors';
import { listSegmentFiles, readSealedEnds } from './segment-files';
import { scanSegment } from './segment-scan';

/** What `tidemark wal inspect` reports for one segment file. */
export interface SegmentInspection {
  file: string;
  ok: boolean;
  problems: string[];
  sizeBytes: number;
  header?: { version: number; firstLsn: number; createdAt: string };
  footer?: { entryCount: number; lastLsn: number; bodyCrc: string; components: number };
  frames: number;
  entryCount: number;
  lsnRange?: [number, number];
  timeRange?: [string, string];
  tornTail?: { offset: number; bytes: number };
  /** What makes it fail the checks (the first thing, when there are several): a stable code and a message. */
  fault?: { code: string; message: string };
}

export interface WalInspection {
  path: string;
  ok: boolean;
  segments: SegmentInspection[];
}

/** stat(2) errors that mean the path names no file, and how to say so. */
const NAMES_NOTHING: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'no such file or directory (a part of the path is a file)',
  ENAMETOOLONG: 'no such file or directory (the name is too long)',
  ELOOP: 'no such file or directory (too many symbolic links)',
};

const iso = (micros: number) => new Date(Math.floor(micros / 1000)).toISOString();

/**
 * Reads segment files without changing them, checking the header, the CRC of every frame, LSN
 * continuity and the footer against the body. Never takes the lock: safe on a live WAL (the active
 * segment may then show a tail still being written).
 */
export async function inspectWal(path: string): Promise<WalInspection> {
  const stat = await fs.stat(path).catch((error: NodeJS.ErrnoException) => {
    // A path that names nothing is the caller's mistake; one that cannot be read is a failure.
    const named = NAMES_NOTHING[error.code ?? ''];
    throw new TidemarkError(
      named === undefined ? 'IO_ERROR' : 'INVALID_ARGUMENT',
      `${echoInput(path)}: ${named ?? `cannot read it (${error.code ?? error.message})`}`,
      { cause: error, details: { path: echoInput(path) } },
    );
  });
  const files = stat.isDirectory() ? (await listSegmentFiles(path)).map((file) => file.path) : [path];
  if (files.length === 0) {
    // A WAL directory always holds its active segment: an empty result would read as "all checks".
    throw invalidArgument(`${echoInput(path)} is not a WAL directory: it holds no segment files (*.wal)`, {
      path: echoInput(path),
    });
  }
  const segments: SegmentInspection[] = [];
  for (const file of files) segments.push(await inspectSegment(file));
  for (let i = 1; i < segments.length; i++) {
    const previous = segments[i - 1] as SegmentInspection;
    const current = segments[i] as SegmentInspection;
    if (
      previous.header &&
      current.header &&
      previous.lsnRange &&
      previous.lsnRange[1] + 1 !== current.header.firstLsn
    ) {
      fail(current, 'INVALID_STATE_DATA', `LSN gap: previous segment ends at ${previous.lsnRange[1]}`);
    }
    if (!previous.footer) fail(previous, 'INVALID_STATE_DATA', 'not the newest segment, but not sealed');
  }
  return { path, ok: segments.every((segment) => segment.ok), segments };
}

async function inspectSegment(path: string): Promise<SegmentInspection> {
  const file = basename(path);
  const result: SegmentInspection = { file, ok: true, problems: [], sizeBytes: 0, frames: 0, entryCount: 0 };
  try {
    result.sizeBytes = (await fs.stat(path)).size;
    const scan = await scanSegment(path);
    result.header = {
      version: scan.header.version,
      firstLsn: scan.header.firstLsn,
      createdAt: iso(scan.header.createdAt),
    };
    result.frames = scan.frames;
    result.entryCount = scan.entryCount;
    if (scan.entryCount > 0) {
      result.lsnRange = [scan.header.firstLsn, scan.lastLsn];
      result.timeRange = [iso(scan.minTimestamp), iso(scan.maxTimestamp)];
    }
    if (scan.footer) {
      const footer = scan.footer.value;
      result.footer = {
        entryCount: footer.entryCount,
        lastLsn: footer.lastLsn,
        bodyCrc: footer.bodyCrc.toString(16).padStart(8, '0'),
        components: footer.lastSequences.size,
      };
      if (!scan.footer.complete)
        result.problems.push('footer written but file not yet cut after it (open finishes it)');
    }
    if (scan.torn) {
      result.tornTail = { offset: scan.torn.offset, bytes: scan.torn.bytes };
      result.problems.push(
        `torn tail at offset ${scan.torn.offset} (${scan.torn.bytes} bytes, ${scan.torn.reason}); open would cut it`,
      );
    }
    if (scan.corruption) {
      fail(
        result,
        'CHECKSUM_MISMATCH',
        `CHECKSUM_MISMATCH at offset ${scan.corruption.offset}: ${scan.corruption.reason}`,
      );
    }
  } catch (error) {
    fail(result, TidemarkError.is(error) ? error.code : 'IO_ERROR', (error as Error).message);
  }
  return result;
}

function fail(segment: SegmentInspection, code: string, problem: string): void {
  segment.ok = false;
  segment.problems.push(problem);
  segment.fault ??= { code, message: problem };
}

/** Why an inspection fails, in one line (the code of the first faulty segment's fault); undefined when it passes. */
export function inspectionFault(inspection: WalInspection): { code: string; message: string } | undefined {
  const faulty = inspection.segments.filter((segment) => !segment.ok);
  const first = faulty[0];
  if (first?.fault === undefined) return undefined;
  const of = `${faulty.length} of ${inspection.segments.length} segment(s)`;
  // A read error names the file itself.
  const problem = first.fault.message.startsWith(`${first.file}:`)
    ? first.fault.message
    : `${first.file}: ${first.fault.message}`;
  return { code: first.fault.code, message: `${of} fail the checks; ${problem}` };
}

/**
 * Why opening the WAL directory (SegmentedWal.open) would change it — open repairs and prepares what it
 * opens: it removes temporary files a crash left, finishes a seal a crash interrupted, cuts a torn tail,
 * starts a segment when none is active — or undefined when it would write nothing but its lock. For readers
 * that must not write (tidemark recover). A corrupt segment is left for open to refuse.
 */
export async function whyOpenWouldWrite(dir: string): Promise<string | undefined> {
  if ((await fs.readdir(dir)).some((name) => name.endsWith('.tmp'))) {
    return 'it holds temporary files a crash left (open removes them)';
  }
  const newest = (await listSegmentFiles(dir)).at(-1);
  if (newest === undefined) return 'it holds no segment (open starts one)';
  if (await readSealedEnds(newest.path))
    return `its newest segment ${newest.name} is sealed (open starts the next)`;
  const scan = await scanSegment(newest.path);
  if (scan.footer) return `${newest.name}: a seal a crash interrupted (open finishes it)`;
  if (scan.torn) return `${newest.name}: a torn tail at offset ${scan.torn.offset} (open cuts it)`;
  return undefined;
}

export function formatInspection(inspection: WalInspection): string {
  const lines: string[] = [];
  for (const segment of inspection.segments) {
    lines.push(`${segment.file}  ${segment.ok ? 'OK' : 'CORRUPT'}  ${segment.sizeBytes} bytes`);
    if (segment.header) {
      lines.push(
        `  header: version ${segment.header.version}, first LSN ${segment.header.firstLsn}, created ${segment.header.createdAt}`,
      );
    }
    lines.push(
      segment.footer
        ? `  footer: sealed, ${segment.footer.entryCount} entries, last LSN ${segment.footer.lastLsn}, body crc32c ${segment.footer.bodyCrc}, ${segment.footer.components} components`
        : '  footer: none (active segment)',
    );
    lines.push(`  frames: ${segment.frames} (CRC checked), entries: ${segment.entryCount}`);
    if (segment.lsnRange) lines.push(`  LSN range: ${segment.lsnRange[0]}-${segment.lsnRange[1]}`);
    if (segment.timeRange) lines.push(`  time range: ${segment.timeRange[0]} .. ${segment.timeRange[1]}`);
    for (const problem of segment.problems) lines.push(`  ! ${problem}`);
  }
  const entries = inspection.segments.reduce((sum, segment) => sum + segment.entryCount, 0);
  lines.push(
    `${inspection.segments.length} segment(s), ${entries} entries: ${inspection.ok ? 'all frames check' : 'CORRUPTION FOUND'}`,
  );
  return lines.join('\n');
}
