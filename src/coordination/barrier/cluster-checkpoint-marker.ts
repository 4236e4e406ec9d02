import { z } from 'zod';
import { TidemarkError } from '../../lib/errors';
import { clusterCheckpointKey, getBuffer, type ObjectStore } from '../../storage';
import type { ClusterCheckpoint } from './cluster-checkpoint-record';

/**
 * A committed cluster checkpoint, written by every member into its own prefix once it applies the commit
 * (`{prefix}/cluster-checkpoints/{id}.json`): what a restore reads when the Raft record is out of reach (a
 * node rebuilt, the CLI on a stopped node). It names every member's manifest by its whole key and carries
 * the term that committed it — the fencing token of that commit. Written create-if-absent, so writing it
 * again (after a crash between the commit and the write) changes nothing.
 */
export const MARKER_FORMAT = 'tidemark.cluster-checkpoint.v1';

const ackSchema = z
  .object({
    checkpointId: z.number().int().positive(),
    barrierLsn: z.number().int().nonnegative(),
    manifestKey: z.string().min(1),
    ackedAt: z.number().int().nonnegative(),
    cutMs: z.number().int().nonnegative().optional(),
  })
  .strict();

const markerSchema = z
  .object({
    format: z.literal(MARKER_FORMAT),
    id: z.number().int().positive(),
    committedInTerm: z.number().int().positive(),
    beganInTerm: z.number().int().positive(),
    members: z.array(z.string().min(1)).min(1),
    acks: z.record(ackSchema),
    beganAt: z.number().int().nonnegative(),
    committedAt: z.number().int().nonnegative(),
  })
  .strict();

export type ClusterCheckpointMarker = z.infer<typeof markerSchema>;

export function markerOf(checkpoint: ClusterCheckpoint): ClusterCheckpointMarker {
  if (checkpoint.state !== 'committed' || checkpoint.endedInTerm === undefined) {
    throw new TidemarkError('INVALID_ARGUMENT', `cluster checkpoint ${checkpoint.id} is not committed`);
  }
  return {
    format: MARKER_FORMAT,
    id: checkpoint.id,
    committedInTerm: checkpoint.endedInTerm,
    beganInTerm: checkpoint.beganInTerm,
    members: [...checkpoint.members],
    acks: Object.fromEntries(checkpoint.members.map((node) => [node, { ...checkpoint.acks[node]! }])),
    beganAt: checkpoint.beganAt,
    committedAt: checkpoint.endedAt ?? checkpoint.beganAt,
  };
}

/** Writes the marker unless it is there already (then: unchanged, and `false`). */
export async function writeMarker(
  store: ObjectStore,
  prefix: string,
  checkpoint: ClusterCheckpoint,
): Promise<boolean> {
  const body = Buffer.from(`${JSON.stringify(markerOf(checkpoint), null, 2)}\n`, 'utf8');
  try {
    await store.put(clusterCheckpointKey(prefix, checkpoint.id), body, {
      ifNoneMatch: '*',
      contentLength: body.length,
    });
    return true;
  } catch (error) {
    if (TidemarkError.is(error, 'PRECONDITION_FAILED')) return false;
    throw error;
  }
}

/** The marker of cluster checkpoint `id` under `prefix`: CHECKPOINT_NOT_FOUND if there is none. */
export async function readMarker(
  store: ObjectStore,
  prefix: string,
  id: number,
): Promise<ClusterCheckpointMarker> {
  const key = clusterCheckpointKey(prefix, id);
  let bytes: Buffer;
  try {
    bytes = await getBuffer(store, key);
  } catch (error) {
    if (!TidemarkError.is(error, 'NOT_FOUND')) throw error;
    throw new TidemarkError(
      'CHECKPOINT_NOT_FOUND',
      `no committed cluster checkpoint ${id} is recorded under ${prefix} (${key})`,
      { details: { clusterCheckpointId: id } },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    value = undefined;
  }
  const parsed = markerSchema.safeParse(value);
  if (!parsed.success) {
    throw new TidemarkError('DESERIALIZATION_ERROR', `${key} is not a cluster checkpoint marker`);
  }
  return parsed.data;
}
