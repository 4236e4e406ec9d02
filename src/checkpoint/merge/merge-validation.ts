/**
 * What mergeIncrementals and createIncremental accept. Bad input is INVALID_ARGUMENT with a message that
 * names the delta, component and record, and nothing is merged.
 *
 * LSN ranges of a merge (decided here, documented in docs/checkpoint-merge.md):
 *   - a delta covers (fromLsn, toLsn], safe integers, fromLsn ≤ toLsn (fromLsn = toLsn: an empty delta);
 *   - every delta starts at the base or where an EARLIER delta of the list ends: fromLsn = base.lsn or
 *     fromLsn = toLsn of some delta before it. So the deltas form a tree rooted at the base — a linear
 *     chain, or several chains branching from the base or from a shared delta — and a missing incremental
 *     (a gap) or a delta that overlaps the base is refused. The result's LSN is the highest toLsn (or
 *     base.lsn without deltas);
 *   - within a delta: a clear's LSN is in (fromLsn, toLsn]; every record's LSN is in (fromLsn, toLsn] and
 *     ≥ the clear's LSN (a put after a clear in the same entry shares its LSN); timestamps are finite;
 *     records are sorted by key bytes with unique keys (checked while merging, in delta-resolution.ts).
 * The base is trusted to be a well-formed snapshot (sorted unique keys, record LSNs ≤ base.lsn): it comes
 * from a verified checkpoint, and checking it would cost a comparison per base record.
 */
import { invalidArgument } from '../../lib/errors';
import type { ComponentDelta, Delta, Snapshot } from '../state/state-types';

function isLsn(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function validateLsnRange(what: string, fromLsn: unknown, toLsn: unknown): void {
  if (!isLsn(fromLsn) || !isLsn(toLsn) || fromLsn > toLsn) {
    throw invalidArgument(
      `${what}: LSN range (${String(fromLsn)}, ${String(toLsn)}] must be safe non-negative integers with fromLsn ≤ toLsn`,
      { fromLsn, toLsn },
    );
  }
}

export function validateSnapshot(base: Snapshot): void {
  if (base === null || typeof base !== 'object' || !isLsn(base.lsn) || !(base.components instanceof Map)) {
    throw invalidArgument('base snapshot must have a safe non-negative integer lsn and a components Map');
  }
  for (const [id, component] of base.components) {
    if (component.componentId !== id || !Array.isArray(component.records)) {
      throw invalidArgument(
        `base component ${id}: componentId ${component.componentId} and its records array must match its map key`,
        {
          componentId: id,
        },
      );
    }
  }
}

/**
 * One component's changes over (fromLsn, toLsn]: the clear and record LSNs, ops, Buffers and timestamps.
 * `allowUnordered` (createIncremental) permits records below the clear, which normalisation drops.
 */
export function validateComponentDelta(
  where: string,
  id: string,
  delta: ComponentDelta,
  fromLsn: number,
  toLsn: number,
  allowUnordered = false,
): void {
  if (
    delta === null ||
    typeof delta !== 'object' ||
    delta.componentId !== id ||
    !Array.isArray(delta.records)
  ) {
    throw invalidArgument(
      `${where}, component ${id}: componentId and a records array must match its map key`,
      {
        componentId: id,
      },
    );
  }
  let floor = fromLsn + 1;
  const clear = delta.clearedAt;
  if (clear !== undefined) {
    if (!isLsn(clear.lsn) || clear.lsn <= fromLsn || clear.lsn > toLsn || !Number.isFinite(clear.timestamp)) {
      throw invalidArgument(
        `${where}, component ${id}: clear at LSN ${String(clear.lsn)} (timestamp ${String(clear.timestamp)}) is outside (${fromLsn}, ${toLsn}]`,
        { componentId: id, clearLsn: clear.lsn },
      );
    }
    if (!allowUnordered) floor = clear.lsn;
  }
  const records = delta.records;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (
      typeof r !== 'object' ||
      r === null ||
      !(r.lsn >= floor && r.lsn <= toLsn) ||
      !Number.isSafeInteger(r.lsn) ||
      !Number.isFinite(r.timestamp) ||
      !Buffer.isBuffer(r.key) ||
      (r.op === 'put' ? !Buffer.isBuffer(r.value) : r.op !== 'delete')
    ) {
      throw invalidArgument(
        `${where}, component ${id}, record ${i}: needs op put (with a value Buffer) or delete, a key Buffer, a finite timestamp and an LSN in [${floor}, ${toLsn}]`,
        { componentId: id, record: i, lsn: r?.lsn },
      );
    }
  }
}

/** The deltas of a merge against its base: ranges, tree shape, and every component delta. */
export function validateDeltas(base: Snapshot, incrementals: readonly Delta[]): void {
  if (!Array.isArray(incrementals)) throw invalidArgument('incrementals must be an array of deltas');
  const ends = new Set<number>([base.lsn]);
  incrementals.forEach((delta, i) => {
    if (delta === null || typeof delta !== 'object' || !(delta.components instanceof Map)) {
      throw invalidArgument(`delta ${i}: must have fromLsn, toLsn and a components Map`, { delta: i });
    }
    validateLsnRange(`delta ${i}`, delta.fromLsn, delta.toLsn);
    if (!ends.has(delta.fromLsn)) {
      throw invalidArgument(
        `delta ${i} starts at LSN ${delta.fromLsn}, which is neither the base's LSN ${base.lsn} nor the end of an earlier delta (a missing incremental, or a delta overlapping the base)`,
        { delta: i, fromLsn: delta.fromLsn, baseLsn: base.lsn },
      );
    }
    ends.add(delta.toLsn);
    for (const [id, component] of delta.components) {
      validateComponentDelta(`delta ${i}`, id, component, delta.fromLsn, delta.toLsn);
    }
  });
}
