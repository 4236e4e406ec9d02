import { z } from 'zod';
import { nullPrototypeRecord } from '../../lib/null-prototype';
import { isValidComponentId } from '../../wal';

/**
 * The manifest: the small JSON document that makes a checkpoint visible (docs/formats.md). It names
 * the checkpoint's parent and chain, the LSN and time it covers, the fencing token it was written under,
 * and per component the blocks holding its records plus the size and digest of its whole state.
 * It is written last, create-if-absent, once every block it names is durable, and never overwritten.
 *
 * Any change to the fields below is a new `formatVersion`: objects are strict, so a reader never
 * silently ignores a field it does not understand. See docs/checkpoint-catalog.md.
 */
export const MANIFEST_FORMAT_VERSION = 2;
/** Versions this build reads: 1 (blocks without key ranges) and 2. */
export const READABLE_MANIFEST_VERSIONS: readonly number[] = [1, 2];

const HEX64 = /^[0-9a-f]{64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INT = 'expected an integer';

const nonNegative = () =>
  z
    .number({ invalid_type_error: INT, required_error: 'required' })
    .int(INT)
    .nonnegative()
    .max(Number.MAX_SAFE_INTEGER);
const positive = () => nonNegative().min(1, 'expected a positive integer');
const hex64 = (what: string) =>
  z
    .string({ invalid_type_error: `expected ${what}`, required_error: 'required' })
    .regex(HEX64, `expected ${what}: 64 lowercase hex digits`);
const base64 = (what: string) =>
  z
    .string({ invalid_type_error: `expected ${what}`, required_error: 'required' })
    .regex(BASE64, `expected ${what}`);
const nonEmpty = (what: string) =>
  z.string({ invalid_type_error: `expected ${what}`, required_error: 'required' }).min(1, `expected ${what}`);

export const blockRefSchema = z
  .object({
    /** sha256 of the block's uncompressed content: its object key. */
    hash: hex64('a block hash'),
    recordCount: positive(),
    /** Uncompressed bytes of the block's records. */
    rawBytes: nonNegative(),
    /** Bytes of the stored object (header + compressed body). */
    storedBytes: nonNegative(),
    /**
     * Format 2: the block's first and last key (base64), so a merge knows which blocks a change touches
     * without reading them — the others are reused by reference (docs/checkpoint-merge.md).
     */
    firstKey: base64('a base64 key').optional(),
    lastKey: base64('a base64 key').optional(),
  })
  .strict();

export const lsnPointSchema = z.object({ lsn: nonNegative(), timestamp: nonNegative() }).strict();

export const componentManifestSchema = z
  .object({
    /** Full: the component's whole state. Incremental: its changes (puts and deletes) since the parent. */
    blocks: z.array(blockRefSchema),
    /** Live keys of the whole state after this checkpoint. */
    keyCount: nonNegative(),
    /** Logical bytes (keys + values) of the whole state after this checkpoint. */
    bytes: nonNegative(),
    /** StateDigest (state-digest.ts) of the whole state after this checkpoint. */
    digest: hex64('a sha256 digest'),
    /** Incremental only: the component was cleared in (fromLsn, lsn] — at this LSN last. */
    clearedAt: lsnPointSchema.optional(),
  })
  .strict();

export const manifestStatsSchema = z
  .object({
    /** Raw bytes of every block named. */
    logicalBytes: nonNegative(),
    /** Stored bytes of every block named, new or reused. */
    storedBytes: nonNegative(),
    /** Stored bytes actually PUT by this checkpoint (not deduplicated). */
    newBytes: nonNegative(),
    newBlocks: nonNegative(),
    reusedBlocks: nonNegative(),
    /** Wall time the checkpoint took to write, in ms (may be fractional). */
    durationMs: z
      .number({ invalid_type_error: 'expected a number', required_error: 'required' })
      .finite()
      .nonnegative(),
  })
  .strict();

/**
 * Component id → its entry, as a prototype-less record: every valid WAL id, `__proto__` and
 * `constructor` included, is an ordinary key (zod's `record` drops a `__proto__` key, and a plain
 * object answers `components['constructor']` with a function).
 */
const componentsSchema = z
  .custom<Record<string, unknown>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    'expected an object of components',
  )
  .transform((raw, ctx) => {
    const components = nullPrototypeRecord<ComponentManifestShape>();
    for (const id of Object.keys(raw)) {
      if (!isValidComponentId(id)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [id],
          message: 'expected a component id (1-255 of A-Z a-z 0-9 . _ : -)',
        });
        continue;
      }
      const parsed = componentManifestSchema.safeParse(raw[id]);
      if (parsed.success) components[id] = parsed.data;
      else for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [id, ...issue.path] });
    }
    return components;
  });
type ComponentManifestShape = z.infer<typeof componentManifestSchema>;

export const CHECKPOINT_KINDS = ['full', 'incremental'] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];

export const manifestSchema = z
  .object({
    formatVersion: z.union([z.literal(1), z.literal(MANIFEST_FORMAT_VERSION)]),
    checkpointId: positive(),
    kind: z.enum(CHECKPOINT_KINDS, { errorMap: () => ({ message: "expected 'full' or 'incremental'" }) }),
    /** null for a full checkpoint. */
    parentId: positive().nullable(),
    /** The full checkpoint at the root of the chain; the checkpoint's own id for a full one. */
    baseId: positive(),
    /** 0 for a full checkpoint; the parent's depth + 1 for an incremental. */
    depth: nonNegative(),
    /** Exclusive lower bound of the LSN range covered: the parent's `lsn`; 0 for a full checkpoint. */
    fromLsn: nonNegative(),
    /** The state is as of this LSN (inclusive). */
    lsn: nonNegative(),
    /** When the checkpoint was written (ISO 8601, UTC). */
    createdAt: z
      .string({ invalid_type_error: 'expected an ISO 8601 date-time', required_error: 'required' })
      .datetime({ offset: true, message: 'expected an ISO 8601 date-time' }),
    /** Entry timestamp (µs) of the newest entry covered, for point-in-time recovery. */
    timestamp: nonNegative(),
    /** The fencing token (embedded counter or Raft term) the writer held. */
    fencingToken: nonNegative(),
    nodeId: nonEmpty('a node id'),
    /** The block codec configured when writing (each block's header names its own codec). */
    codec: nonEmpty('a codec name'),
    components: componentsSchema,
    stats: manifestStatsSchema,
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestBlockRef = z.infer<typeof blockRefSchema>;
export type ComponentManifest = z.infer<typeof componentManifestSchema>;
export type ManifestStats = z.infer<typeof manifestStatsSchema>;

/** Every distinct block hash a manifest names, across its components. */
export function manifestBlockHashes(manifest: Manifest): Map<string, number> {
  const hashes = new Map<string, number>();
  for (const component of Object.values(manifest.components)) {
    for (const block of component.blocks) hashes.set(block.hash, block.storedBytes);
  }
  return hashes;
}
