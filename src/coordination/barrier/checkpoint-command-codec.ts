import { z } from 'zod';
import type { ClusterCheckpointCommand } from './cluster-checkpoint-record';

/**
 * The barrier's commands in the Raft log: one byte `C` (the cluster state machine's domain for them; the
 * metadata record's commands start with 1 or 2), then the command as JSON. A few commands per checkpoint —
 * not a hot path — and JSON keeps a log dump readable. Decoding is strict and deterministic: a command no
 * node can read is skipped by every node alike.
 */
export const CHECKPOINT_DOMAIN = 0x43;

const nodeId = z.string().min(1).max(255);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const id = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const text = z.string().max(4096);

const commandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('leader'), node: nodeId, at: count }).strict(),
  z.object({ type: z.literal('begin'), id, members: z.array(nodeId).min(1).max(1024), at: count }).strict(),
  z
    .object({
      type: z.literal('ack'),
      id,
      node: nodeId,
      checkpointId: id,
      barrierLsn: count,
      manifestKey: text.min(1),
      ackedAt: count,
      cutMs: count.optional(),
    })
    .strict(),
  z.object({ type: z.literal('decline'), id, node: nodeId, reason: text, at: count }).strict(),
  z.object({ type: z.literal('commit'), id, at: count }).strict(),
  z.object({ type: z.literal('abort'), id, reason: text, at: count }).strict(),
]);

export function encodeCheckpointCommand(command: ClusterCheckpointCommand): Uint8Array {
  const json = Buffer.from(JSON.stringify(commandSchema.parse(command)), 'utf8');
  const out = Buffer.allocUnsafe(1 + json.length);
  out[0] = CHECKPOINT_DOMAIN;
  json.copy(out, 1);
  return out;
}

/** undefined for bytes that are not a well-formed barrier command. */
export function decodeCheckpointCommand(bytes: Uint8Array): ClusterCheckpointCommand | undefined {
  if (bytes[0] !== CHECKPOINT_DOMAIN) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.byteLength - 1).toString('utf8'),
    );
  } catch {
    return undefined;
  }
  const parsed = commandSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
