import { TidemarkError } from '../../lib/errors';
import type { Manifest } from '../manifest/manifest';
import type { CheckpointSummary } from './checkpoint-summary';

/** Chain queries over the catalog's checkpoints (by id): pure functions, so the catalog stays small. */

export interface ChainSummary {
  baseId: number;
  /** Committed checkpoints with this base (the full one first), by rising id. */
  ids: number[];
  /** The deepest incremental's depth: the chain's length. */
  length: number;
}

type Checkpoints = ReadonlyMap<number, CheckpointSummary>;

function notFound(message: string, details: Record<string, unknown>): TidemarkError {
  return new TidemarkError('CHECKPOINT_NOT_FOUND', message, { details });
}

/** The committed checkpoint `id`, or CHECKPOINT_NOT_FOUND (never committed, or deleted). */
export function requireCommitted(checkpoints: Checkpoints, id: number): CheckpointSummary {
  const summary = checkpoints.get(id);
  if (summary === undefined || summary.status !== 'committed') {
    throw notFound(
      summary === undefined ? `checkpoint ${id} does not exist` : `checkpoint ${id} was deleted`,
      {
        checkpointId: id,
      },
    );
  }
  return { ...summary };
}

/** `id`'s full checkpoint, then each incremental down to `id`; CHECKPOINT_NOT_FOUND when a link is missing. */
export function chainOf(checkpoints: Checkpoints, id: number): CheckpointSummary[] {
  const chain = [requireCommitted(checkpoints, id)];
  for (let link = chain[0]!; link.parentId !== null;) {
    const parentId: number = link.parentId;
    const parent = checkpoints.get(parentId);
    if (parent === undefined || parent.status !== 'committed') {
      throw notFound(
        `the chain of checkpoint ${id} is broken: its ancestor ${parentId} ${parent === undefined ? 'does not exist' : 'was deleted'}`,
        { checkpointId: id, missing: parentId },
      );
    }
    link = { ...parent };
    chain.unshift(link);
  }
  return chain;
}

/** Whether `id` and every ancestor of it is committed: a recovery or a restart can load it. */
export function isRestorable(checkpoints: Checkpoints, id: number): boolean {
  for (let link = checkpoints.get(id); link !== undefined; link = checkpoints.get(link.parentId ?? 0)) {
    if (link.status !== 'committed') return false;
    if (link.parentId === null) return true;
  }
  return false;
}

/** Whether `a` is a better "newest" than `b`: higher LSN, then shallower, then newer id. */
function newer(a: CheckpointSummary, b: CheckpointSummary): boolean {
  return a.lsn > b.lsn || (a.lsn === b.lsn && (a.depth < b.depth || (a.depth === b.depth && a.id > b.id)));
}

/** The newest committed checkpoint `filter` accepts (see `newer`). */
export function newestOf(
  checkpoints: Checkpoints,
  filter: (summary: CheckpointSummary) => boolean,
): CheckpointSummary | undefined {
  let best: CheckpointSummary | undefined;
  for (const s of checkpoints.values()) {
    if (s.status === 'committed' && filter(s) && (best === undefined || newer(s, best))) best = s;
  }
  return best === undefined ? undefined : { ...best };
}

/** The newest committed checkpoint whose whole chain is committed: what a restart can load. */
export function newestRestorable(checkpoints: Checkpoints): CheckpointSummary | undefined {
  return newestOf(checkpoints, (s) => isRestorable(checkpoints, s.id));
}

/** Committed checkpoints (other than `id`) whose chain includes `id`, by rising id. */
export function dependentsOf(checkpoints: Checkpoints, id: number): number[] {
  const children = new Map<number, number[]>();
  for (const s of checkpoints.values()) {
    if (s.parentId === null) continue;
    const list = children.get(s.parentId) ?? [];
    list.push(s.id);
    children.set(s.parentId, list);
  }
  const found: number[] = [];
  const pending = [...(children.get(id) ?? [])];
  while (pending.length > 0) {
    const next = pending.pop() as number;
    if (checkpoints.get(next)?.status === 'committed') found.push(next);
    pending.push(...(children.get(next) ?? []));
  }
  return found.sort((a, b) => a - b);
}

/** Committed checkpoints (`list`, by rising id) grouped by the full checkpoint at their root. */
export function chainsOf(list: readonly CheckpointSummary[]): ChainSummary[] {
  const byBase = new Map<number, ChainSummary>();
  for (const s of list) {
    const chain = byBase.get(s.baseId) ?? { baseId: s.baseId, ids: [], length: 0 };
    chain.ids.push(s.id);
    chain.length = Math.max(chain.length, s.depth);
    byBase.set(s.baseId, chain);
  }
  return [...byBase.values()].sort((a, b) => a.baseId - b.baseId);
}

/**
 * Whether an incremental manifest fits its parent in `checkpoints` (committed, its LSN, base and depth).
 * Strict: throws on the first problem (CHECKPOINT_NOT_FOUND, INVALID_STATE_DATA). Lenient: returns them.
 */
export function checkParentLink(
  checkpoints: ReadonlyMap<number, CheckpointSummary>,
  m: Manifest,
  strict: boolean,
): string[] {
  if (m.parentId === null) return [];
  const parent = checkpoints.get(m.parentId);
  const problems: string[] = [];
  if (parent === undefined || parent.status !== 'committed') {
    const message = `parent ${m.parentId} of checkpoint ${m.checkpointId} ${parent === undefined ? 'is not committed' : 'was deleted'}`;
    if (strict)
      throw new TidemarkError('CHECKPOINT_NOT_FOUND', message, {
        details: { checkpointId: m.checkpointId, parentId: m.parentId },
      });
    return [`${message}: its chain is broken`];
  }
  if (parent.lsn !== m.fromLsn) problems.push(`fromLsn ${m.fromLsn} is not its parent's LSN ${parent.lsn}`);
  if (parent.baseId !== m.baseId)
    problems.push(`baseId ${m.baseId} is not its parent's base ${parent.baseId}`);
  if (parent.depth + 1 !== m.depth)
    problems.push(`depth ${m.depth} is not its parent's depth + 1 (${parent.depth + 1})`);
  const described = problems.map((p) => `checkpoint ${m.checkpointId}: ${p}`);
  if (strict && described.length > 0) {
    throw new TidemarkError('INVALID_STATE_DATA', `inconsistent manifest: ${described.join('; ')}`, {
      details: { checkpointId: m.checkpointId, parentId: m.parentId },
    });
  }
  return described;
}
