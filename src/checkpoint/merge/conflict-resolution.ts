/**
 * Conflict resolution: when the base and several deltas hold a change for the same key, which one wins.
 *
 * Candidates. For one key of one component, the candidates are
 *   - the base's record for the key, if the base holds the key (source -1);
 *   - from each delta i (source i = its position in the `incrementals` argument), at most one change:
 *     its record for the key (a put or a delete) if it has one; otherwise, if the delta was cleared
 *     (`clearedAt`), a DELETE at the clear's LSN and timestamp; otherwise nothing.
 *   A delta's records already are its last change per key after its last clear (ComponentDelta), so a
 *   delta never offers both a record and its clear for one key: the record is later and shadows it.
 *   A clear therefore touches every key of the component — keys only the base holds, and keys other
 *   deltas hold — except the keys its own delta wrote after it.
 *
 * Rules (each is a strict total order on candidates; the winner is the maximum):
 *   - `last-write-wins`: the highest LSN wins; equal LSNs (only possible between deltas of different
 *     branches) go to the delta later in the argument list. The base record's LSN is ≤ base.lsn < every
 *     delta change's LSN (deltas start at or after the base), so any delta change beats the base.
 *     On a linear chain this is exactly replaying the log: the last event that touched the key — its last
 *     put/delete, or a later clear — decides.
 *   - `first-write-wins`: among the DELTAS' candidates, the LOWEST LSN wins; equal LSNs go to the delta
 *     earlier in the argument list. The base's record survives only when no delta offers a candidate for
 *     the key (no record for it and no clear). A clear is a candidate at its LSN like any delete: the
 *     first delta to touch a key — by writing it or by clearing the component — decides it.
 *   - `timestamp-priority`: the highest entry timestamp (µs) wins; equal timestamps go to the higher LSN,
 *     then to the later delta (base counts as earliest). The base record takes part with its own
 *     timestamp, so a base record newer than every delta change (clock skew between branches) survives;
 *     a clear takes part with its entry's timestamp.
 *
 * The winner decides the key: a put (or the base record) is in the result with that value, LSN and
 * timestamp; a delete — a record or a clear — removes the key. Because every rule is a maximum over a
 * total order, the result does not depend on the order in which candidates are compared, so deltas may
 * be folded in any order or in parallel (the `optimal` strategy relies on this).
 */
import type { ConflictResolution } from './merger-config';

/** Numeric rule codes, for the hot loops and the worker wire format. */
export const RULE_CODES: Readonly<Record<ConflictResolution, number>> = Object.freeze({
  'last-write-wins': 0,
  'first-write-wins': 1,
  'timestamp-priority': 2,
});

export const RULE_LAST_WRITE_WINS = 0;
export const RULE_FIRST_WRITE_WINS = 1;
export const RULE_TIMESTAMP_PRIORITY = 2;

/** Source index of the base snapshot's records. */
export const BASE_SOURCE = -1;

/**
 * Does candidate A beat candidate B under `rule`? Candidates are given as numbers (LSN, timestamp,
 * source: -1 for the base, else the delta's position), so the hot loops allocate nothing. A and B never
 * have the same source.
 */
export function beats(
  rule: number,
  lsnA: number,
  tsA: number,
  srcA: number,
  lsnB: number,
  tsB: number,
  srcB: number,
): boolean {
  if (rule === RULE_LAST_WRITE_WINS) {
    return lsnA !== lsnB ? lsnA > lsnB : srcA > srcB;
  }
  if (rule === RULE_FIRST_WRITE_WINS) {
    if (srcA === BASE_SOURCE) return false;
    if (srcB === BASE_SOURCE) return true;
    return lsnA !== lsnB ? lsnA < lsnB : srcA < srcB;
  }
  if (tsA !== tsB) return tsA > tsB;
  return lsnA !== lsnB ? lsnA > lsnB : srcA > srcB;
}

/**
 * Can a clear ever lose to a base record under `rule`? Under last-write-wins and first-write-wins it
 * cannot (a clear's LSN is above base.lsn; a delta candidate always beats the base), so a cleared
 * component drops its whole base without looking at it. Under timestamp-priority each base record is
 * compared with the clear.
 */
export function clearAlwaysBeatsBase(rule: number): boolean {
  return rule !== RULE_TIMESTAMP_PRIORITY;
}
