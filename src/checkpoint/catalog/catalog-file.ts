import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { TidemarkError } from '../../lib/errors';
import { replaceFileAtomically } from '../../lib/fs/replace-file-atomically';
import { checkpointSummarySchema } from './checkpoint-summary';

export const CATALOG_FILE_NAME = 'catalog.json';
export const CATALOG_FORMAT_VERSION = 1;

const count = () => z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A block known to exist in the store, and the checkpoints (committed) whose manifests name it. */
export const catalogBlockSchema = z.object({ storedBytes: count(), refs: z.array(count().min(1)) }).strict();

export const catalogDataSchema = z
  .object({
    formatVersion: z.literal(CATALOG_FORMAT_VERSION),
    /** The highest checkpoint id ever handed out (0: none). The next id is above it. */
    highestAllocatedId: count(),
    /** The highest fencing token seen or issued (0: none). */
    highestToken: count(),
    /** Every checkpoint committed, deleted ones included (status `deleted`), by rising id. */
    checkpoints: z.array(checkpointSummarySchema),
    /** By block hash. */
    blocks: z.record(z.string().regex(/^[0-9a-f]{64}$/), catalogBlockSchema),
  })
  .strict();

export type CatalogData = z.infer<typeof catalogDataSchema>;
export type CatalogBlock = z.infer<typeof catalogBlockSchema>;

const REBUILD_HINT = 'run `tidemark catalog rebuild` to rebuild it from the manifests in the object store';

/**
 * `{dataDir}/catalog.json`: the catalog, written atomically — the whole document to `.catalog.json.tmp`
 * beside it, fsync, rename over the real name, fsync of the directory — so a crash or a failed write
 * leaves the previous file whole. One process owns the file (the node that owns the data directory); saves
 * of one CatalogFile must not overlap (CheckpointCatalog serialises them).
 */
export class CatalogFile {
  constructor(readonly path: string) {}

  static inDataDir(dataDir: string): CatalogFile {
    return new CatalogFile(path.join(dataDir, CATALOG_FILE_NAME));
  }

  /**
   * The catalog, or undefined when there is no file (a new data directory: an empty catalog).
   * A file that is not a catalog is DESERIALIZATION_ERROR, one of an unknown format version
   * UNSUPPORTED_VERSION; both messages say how to rebuild it.
   */
  async load(): Promise<CatalogData | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new TidemarkError(
        'IO_ERROR',
        `cannot read catalog file ${this.path}: ${(error as Error).message}`,
        {
          cause: error,
          details: { file: this.path },
        },
      );
    }
    return parseCatalog(text, this.path);
  }

  async save(data: CatalogData): Promise<void> {
    await replaceFileAtomically(this.path, `${JSON.stringify(data)}\n`, 'catalog file');
  }
}

export function parseCatalog(text: string, file: string): CatalogData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw corrupt(file, `not valid JSON (${(error as Error).message})`, error);
  }
  const version: unknown = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && Number.isInteger(version) && version !== CATALOG_FORMAT_VERSION) {
    throw new TidemarkError(
      'UNSUPPORTED_VERSION',
      `catalog file ${file} has format version ${version}; this build reads ${CATALOG_FORMAT_VERSION}: use a build that reads it, or ${REBUILD_HINT}`,
      { details: { file, formatVersion: version, supported: [CATALOG_FORMAT_VERSION] } },
    );
  }
  const parsed = catalogDataSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined ? '(root)' : issue.path.join('.') || '(root)';
    throw corrupt(file, `${field}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export function corrupt(file: string, reason: string, cause?: unknown): TidemarkError {
  return new TidemarkError(
    'DESERIALIZATION_ERROR',
    `catalog file ${file} is corrupt: ${reason}; ${REBUILD_HINT}`,
    {
      cause,
      details: { file },
    },
  );
}
