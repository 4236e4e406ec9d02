import { z } from 'zod';
import { CHECKPOINT_KINDS, type CheckpointKind, type Manifest } from '../manifest/manifest';

export const CHECKPOINT_STATUSES = ['committed', 'deleted'] as const;
export type CheckpointStatus = (typeof CHECKPOINT_STATUSES)[number];

/**
 * What the catalog keeps of one checkpoint: its manifest without the block lists, plus figures derived
 * from the manifest's stats. This is what `GET /v1/checkpoints` lists.
 *
 * - `compressionRatio` = logicalBytes / storedBytes: raw bytes of the blocks named per byte stored
 *   (1 when nothing is stored).
 * - `dedupRatio` = (storedBytes − newBytes) / storedBytes: the share, 0..1, of this checkpoint's stored
 *   bytes that were already in the store and not written again (0 when nothing is stored). A first full
 *   checkpoint has ≈ 0; a full checkpoint after 5% of keys changed ≈ 0.95.
 */
export interface CheckpointSummary {
  id: number;
  kind: CheckpointKind;
  parentId: number | null;
  baseId: number;
  depth: number;
  fromLsn: number;
  lsn: number;
  /** µs timestamp of the newest entry covered. */
  timestamp: number;
  createdAt: string;
  /** Component ids, sorted. */
  components: string[];
  /** Live keys of all its components' state after the checkpoint. */
  keyCount: number;
  /** Logical bytes (keys + values) of all its components' state after the checkpoint. */
  stateBytes: number;
  /** Block references in the manifest (a block named twice counts twice). */
  blockCount: number;
  logicalBytes: number;
  storedBytes: number;
  newBytes: number;
  dedupRatio: number;
  compressionRatio: number;
  durationMs: number;
  fencingToken: number;
  nodeId: string;
  status: CheckpointStatus;
}

/**
 * A summary as the API lists it, with whether it can be restored now: it and every ancestor committed.
 * Derived from the catalog at the time of asking, never persisted (a forced removal changes it).
 */
export interface CheckpointListing extends CheckpointSummary {
  restorable: boolean;
}

export function summarize(manifest: Manifest): CheckpointSummary {
  const ids = Object.keys(manifest.components).sort();
  let keyCount = 0;
  let stateBytes = 0;
  let blockCount = 0;
  for (const component of Object.values(manifest.components)) {
    keyCount += component.keyCount;
    stateBytes += component.bytes;
    blockCount += component.blocks.length;
  }
  const { logicalBytes, storedBytes, newBytes, durationMs } = manifest.stats;
  return {
    id: manifest.checkpointId,
    kind: manifest.kind,
    parentId: manifest.parentId,
    baseId: manifest.baseId,
    depth: manifest.depth,
    fromLsn: manifest.fromLsn,
    lsn: manifest.lsn,
    timestamp: manifest.timestamp,
    createdAt: manifest.createdAt,
    components: ids,
    keyCount,
    stateBytes,
    blockCount,
    logicalBytes,
    storedBytes,
    newBytes,
    dedupRatio: storedBytes === 0 ? 0 : Math.max(0, storedBytes - newBytes) / storedBytes,
    compressionRatio: storedBytes === 0 ? 1 : logicalBytes / storedBytes,
    durationMs,
    fencingToken: manifest.fencingToken,
    nodeId: manifest.nodeId,
    status: 'committed',
  };
}

const count = () => z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const id = () => count().min(1);

/** The persisted form of a summary (catalog.json). */
export const checkpointSummarySchema = z
  .object({
    id: id(),
    kind: z.enum(CHECKPOINT_KINDS),
    parentId: id().nullable(),
    baseId: id(),
    depth: count(),
    fromLsn: count(),
    lsn: count(),
    timestamp: count(),
    createdAt: z.string(),
    components: z.array(z.string()),
    keyCount: count(),
    stateBytes: count(),
    blockCount: count(),
    logicalBytes: count(),
    storedBytes: count(),
    newBytes: count(),
    dedupRatio: z.number().min(0).max(1),
    compressionRatio: z.number().nonnegative(),
    durationMs: z.number().finite().nonnegative(),
    fencingToken: count(),
    nodeId: z.string(),
    status: z.enum(CHECKPOINT_STATUSES),
  })
  .strict();
