import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { TidemarkError, invalidArgument } from '../../lib/errors';
import { AppendJournal } from '../../lib/fs/append-journal';
import { replaceFileAtomically } from '../../lib/fs/replace-file-atomically';
import { SerialQueue } from '../../lib/serial-queue';

export const UPLOADED_SEGMENTS_FILE = 'uploaded-segments.json';
export const UPLOADED_SEGMENTS_JOURNAL = 'uploaded-segments.journal';
const FORMAT_VERSION = 1;

const count = () => z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** One WAL segment file inside an uploaded pack: its bytes are `[offset, offset + size)` of the object. */
const packedSegmentSchema = z
  .object({
    firstLsn: count(),
    lastLsn: count(),
    offset: count(),
    size: count(),
    entryCount: count(),
    minTimestamp: count(),
    maxTimestamp: count(),
  })
  .strict();

/** One object in the store: consecutive sealed segment files, concatenated (segment-pack.ts). */
const uploadedPackSchema = z
  .object({
    key: z.string().min(1),
    firstLsn: count(),
    lastLsn: count(),
    size: count(),
    /** crc32c of the whole object, as read back from the store after the upload. */
    crc32c: count(),
    uploadedAt: count(),
    segments: z.array(packedSegmentSchema).min(1),
  })
  .strict();

const fileSchema = z
  .object({
    formatVersion: z.literal(FORMAT_VERSION),
    /** Retention removed the store's copies of the log up to here: segments at or below need no upload. */
    retiredThroughLsn: count(),
    packs: z.array(uploadedPackSchema),
  })
  .strict();

export type PackedSegment = z.infer<typeof packedSegmentSchema>;
export type UploadedPack = z.infer<typeof uploadedPackSchema>;

/** One change, as a journal line. */
const journalEntrySchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('record'), pack: uploadedPackSchema }).strict(),
  z.object({ op: z.literal('retire'), keys: z.array(z.string()), throughLsn: count() }).strict(),
]);
type JournalEntry = z.infer<typeof journalEntrySchema>;

/**
 * Which sealed WAL segments have a verified copy in the object store, and where: the node's record of its
 * uploads. With it, shipping and the node's segment retention need no LIST of the store. Losing it costs
 * re-uploads (a segment still on disk is uploaded again), never data: a segment leaves the disk only once
 * recorded here.
 *
 * On disk: a snapshot, `{dataDir}/uploaded-segments.json` (replaced atomically), and a journal of the
 * changes since, `uploaded-segments.journal` (one JSON line per change, fdatasynced before the change
 * resolves). So a change costs one small append whatever the number of packs; once the journal outgrows
 * the snapshot, the snapshot is rewritten and the journal emptied (a crash between the two replays changes
 * the snapshot already holds, which is harmless: every change is idempotent).
 */
export class UploadedSegments {
  private readonly packs: UploadedPack[] = [];
  /** firstLsn of every uploaded segment. */
  private readonly uploaded = new Set<number>();
  private retiredThrough = 0;
  /** Opened to read: nothing is repaired, nothing recorded. */
  private readOnly = false;
  /** Changes to the record, one at a time in call order. */
  private readonly queue = new SerialQueue();

  private constructor(
    readonly file: string | undefined,
    private readonly journal: AppendJournal | undefined,
  ) {}

  /** The record in `dataDir` (empty when there is none yet); `undefined`: in memory only. */
  /**
   * The record as it is on disk, for a reader that must change nothing (a recovery beside a running node):
   * a torn journal tail is skipped, not cut. Recording or retiring through it is refused.
   */
  static async openToRead(dataDir: string): Promise<UploadedSegments> {
    return UploadedSegments.open(dataDir, { readOnly: true });
  }

  static async open(
    dataDir: string | undefined,
    options: { readOnly?: boolean } = {},
  ): Promise<UploadedSegments> {
    const index =
      dataDir === undefined
        ? new UploadedSegments(undefined, undefined)
        : new UploadedSegments(
            path.join(dataDir, UPLOADED_SEGMENTS_FILE),
            new AppendJournal(path.join(dataDir, UPLOADED_SEGMENTS_JOURNAL)),
          );
    const saved = index.file === undefined ? undefined : await load(index.file);
    for (const pack of saved?.packs ?? []) index.add(pack);
    index.retiredThrough = saved?.retiredThroughLsn ?? 0;
    index.readOnly = options.readOnly === true;
    for (const line of (await index.journal?.read({ repair: !index.readOnly })) ?? [])
      index.applyEntry(parseEntry(line, index.journal!.file));
    return index;
  }

  /** Whether the segment needs no (more) upload: a verified copy is in the store, or retention retired it. */
  isUploaded(segment: { firstLsn: number; lastLsn: number }): boolean {
    return this.uploaded.has(segment.firstLsn) || segment.lastLsn <= this.retiredThrough;
  }

  get retiredThroughLsn(): number {
    return this.retiredThrough;
  }

  /** Uploaded packs, oldest LSNs first. */
  list(): UploadedPack[] {
    return this.packs.map((pack) => ({ ...pack, segments: pack.segments.map((s) => ({ ...s })) }));
  }

  /** The newest LSN with a verified copy in the store (0 when none). */
  get highestUploadedLsn(): number {
    let highest = 0;
    for (const pack of this.packs) if (pack.lastLsn > highest) highest = pack.lastLsn;
    return highest;
  }

  /** Records a verified pack, durably, before resolving. Recording one with the same key again is a no-op. */
  record(pack: UploadedPack): Promise<void> {
    return this.queue.run(async () => {
      if (this.packs.some((known) => known.key === pack.key)) return;
      const checked = uploadedPackSchema.safeParse(pack);
      if (!checked.success) {
        throw invalidArgument(`invalid uploaded pack ${pack.key}: ${checked.error.issues[0]?.message ?? ''}`);
      }
      await this.commit({ op: 'record', pack: checked.data });
    });
  }

  /**
   * Retention: forgets the packs (before they are deleted from the store) and records that the log through
   * `throughLsn` needs no upload any more — a segment still on disk must not be shipped again. Durable.
   */
  retire(keys: readonly string[], throughLsn: number): Promise<void> {
    return this.queue.run(async () => {
      await this.commit({ op: 'retire', keys: [...keys], throughLsn });
    });
  }

  /** Stops appending (the journal's file handle is closed). */
  close(): Promise<void> {
    return this.queue.run(async () => this.journal?.close());
  }

  private applyEntry(entry: JournalEntry): void {
    if (entry.op === 'record') {
      if (!this.packs.some((known) => known.key === entry.pack.key)) this.add(entry.pack);
    } else {
      this.drop(entry.keys);
      this.retiredThrough = Math.max(this.retiredThrough, entry.throughLsn);
    }
  }

  /**
   * Journals the change, durably, and only then applies it: the WAL deletes local segments on the word of
   * `isUploaded`, which must never run ahead of what a restart would read back. Rewrites the snapshot (and
   * empties the journal) once the journal outgrows it.
   */
  private async commit(entry: JournalEntry): Promise<void> {
    if (this.readOnly) {
      throw new TidemarkError('CLOSED', 'this uploads record was opened to read: it records nothing');
    }
    if (this.journal) await this.journal.append(JSON.stringify(entry));
    this.applyEntry(entry);
    if (this.journal && this.journal.lines > Math.max(64, this.packs.length)) {
      await this.save();
      await this.journal.reset();
    }
  }

  private add(pack: UploadedPack): void {
    // Packs arrive in LSN order almost always: append, and insert in place otherwise.
    let at = this.packs.length;
    while (at > 0 && this.packs[at - 1]!.firstLsn > pack.firstLsn) at--;
    this.packs.splice(at, 0, pack);
    for (const segment of pack.segments) this.uploaded.add(segment.firstLsn);
  }

  private drop(keys: readonly string[]): void {
    const gone = new Set(keys);
    for (let i = this.packs.length - 1; i >= 0; i--) {
      const pack = this.packs[i]!;
      if (!gone.has(pack.key)) continue;
      this.packs.splice(i, 1);
      for (const segment of pack.segments) this.uploaded.delete(segment.firstLsn);
    }
  }

  private async save(): Promise<void> {
    if (this.file === undefined) return;
    const data = { formatVersion: FORMAT_VERSION, retiredThroughLsn: this.retiredThrough, packs: this.packs };
    const text = `${JSON.stringify(data)}\n`;
    await replaceFileAtomically(this.file, text, 'uploaded-segments file');
  }
}

async function load(file: string): Promise<z.infer<typeof fileSchema> | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TidemarkError('IO_ERROR', `cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let parsed;
  try {
    parsed = fileSchema.safeParse(JSON.parse(text));
  } catch (error) {
    throw corrupt(file, (error as Error).message, error);
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw corrupt(file, `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function parseEntry(line: string, file: string): JournalEntry {
  let parsed;
  try {
    parsed = journalEntrySchema.safeParse(JSON.parse(line));
  } catch (error) {
    throw corrupt(file, (error as Error).message, error);
  }
  if (!parsed.success) throw corrupt(file, parsed.error.issues[0]?.message ?? 'invalid journal line');
  return parsed.data;
}

function corrupt(file: string, reason: string, cause?: unknown): TidemarkError {
  return new TidemarkError(
    'DESERIALIZATION_ERROR',
    `${file} is corrupt (${reason}); move it aside: the segments still on disk are then uploaded again`,
    { cause, details: { file } },
  );
}
