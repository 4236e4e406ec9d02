/**
 * Phase 1 of a component merge: fold a component's deltas into one "net delta" — for every key any delta
 * holds, the winning candidate among the deltas (conflict-resolution.ts). A k-way merge over the deltas'
 * sorted record arrays: each step takes the smallest head key, picks the winner among the deltas whose
 * head is that key (their records) and the other deltas' clears, and advances those heads. At most
 * O(D·log k) key comparisons for D records in k deltas, far fewer when deltas touch disjoint key ranges
 * (runs, below); no allocation but the result and a few k-sized arrays.
 *
 * It reads records through `DeltaKeySource`, so the same code runs on the calling thread (over
 * ComponentDelta objects) and in a merge worker (over the wire buffer). The base takes no part here:
 * phase 2 (merge-component.ts) puts the net delta over the base. That split is exact because every rule
 * is a maximum over a total order: max(base, d1, …, dk) = max(base, max(d1, …, dk)).
 */
import { beats } from './conflict-resolution';

/** The deltas of one component, addressed as (delta d, record i); every delta sorted by key bytes. */
export interface DeltaKeySource {
  readonly deltaCount: number;
  recordCount(d: number): number;
  /** Key order of record (da, ia) against record (db, ib), as Buffer.compare. */
  compare(da: number, ia: number, db: number, ib: number): number;
  lsn(d: number, i: number): number;
  timestamp(d: number, i: number): number;
  /** The delta's position in the merge's argument list: the tie-breaker of the rules. */
  source(d: number): number;
  hasClear(d: number): boolean;
  clearLsn(d: number): number;
  clearTimestamp(d: number): number;
}

/**
 * The net delta, as one Int32Array (the same layout crosses back from a worker):
 * `[status, badDelta, badIndex, count, then count triples (keyDelta, keyIndex, clearOf)]`.
 * A triple names the key by a record that holds it; `clearOf` is -1 when that record is the winner,
 * else the delta whose clear wins (the key is then deleted, unless the base beats the clear).
 * `status` is RESOLVED_OK, or RESOLVED_UNSORTED when delta `badDelta`'s record `badIndex` is not above
 * its predecessor (keys must be strictly ascending).
 */
export type ResolvedKeys = Int32Array;

export const RESOLVED_OK = 0;
export const RESOLVED_UNSORTED = 1;
export const RESOLVED_HEADER = 4;

export function resolvedCount(resolved: ResolvedKeys): number {
  return resolved[3];
}

/** First index in [from, end) of delta d whose key is ≥ the key of record (t, ti); end when none. */
function gallopDelta(
  src: DeltaKeySource,
  d: number,
  from: number,
  end: number,
  t: number,
  ti: number,
): number {
  if (from >= end || src.compare(d, from, t, ti) >= 0) return from;
  let lo = from;
  let step = 1;
  let hi = from + 1;
  while (hi < end && src.compare(d, hi, t, ti) < 0) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  if (hi > end) hi = end;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (src.compare(d, mid, t, ti) < 0) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The k-way merge. Deltas with records left sit in a binary heap ordered by their head key (ties by
 * delta index). Each step pops the smallest head and every head equal to it. When one delta alone holds
 * the smallest key, all its records below the next head are taken as one run, found by galloping: the
 * deltas of a chain mostly touch different key ranges (new windows, evicted windows), so most records
 * cost no comparison with other deltas at all. Each delta's order is checked once up front.
 */
export function resolveDeltaKeys(src: DeltaKeySource, rule: number): ResolvedKeys {
  const k = src.deltaCount;
  const pos = new Int32Array(k);
  const len = new Int32Array(k);
  let total = 0;
  let anyClear = false;
  for (let d = 0; d < k; d++) {
    len[d] = src.recordCount(d);
    total += len[d];
    if (src.hasClear(d)) anyClear = true;
  }
  const out = new Int32Array(RESOLVED_HEADER + 3 * total);
  for (let d = 0; d < k; d++) {
    for (let i = 1; i < len[d]; i++) {
      if (src.compare(d, i, d, i - 1) <= 0) {
        out[0] = RESOLVED_UNSORTED;
        out[1] = d;
        out[2] = i;
        return out;
      }
    }
  }

  // min-heap of delta indices by head key
  const heap = new Int32Array(k);
  let size = 0;
  const less = (a: number, b: number): boolean => {
    const c = src.compare(a, pos[a], b, pos[b]);
    return c < 0 || (c === 0 && a < b);
  };
  const siftDown = (at: number): void => {
    const item = heap[at];
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && less(heap[child + 1], heap[child])) child++;
      if (!less(heap[child], item)) break;
      heap[at] = heap[child];
      at = child;
    }
    heap[at] = item;
  };
  const pop = (): void => {
    size--;
    if (size > 0) {
      heap[0] = heap[size];
      siftDown(0);
    }
  };
  const push = (d: number): void => {
    let at = size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!less(d, heap[parent])) break;
      heap[at] = heap[parent];
      at = parent;
    }
    heap[at] = d;
  };
  for (let d = 0; d < k; d++) if (len[d] > 0) heap[size++] = d;
  for (let at = (size >> 1) - 1; at >= 0; at--) siftDown(at);

  /** mark[d] === step: delta d holds the current key. */
  const mark = new Int32Array(k).fill(-1);
  const group = new Int32Array(k);
  let count = 0;
  let step = 0;
  while (size > 0) {
    step++;
    const first = heap[0];
    let members = 0;
    group[members++] = first;
    mark[first] = step;
    pop();
    while (size > 0 && src.compare(heap[0], pos[heap[0]], first, pos[first]) === 0) {
      group[members++] = heap[0];
      mark[heap[0]] = step;
      pop();
    }

    // The best clear of the deltas that do not hold this key (or run): their candidate for it.
    let cFound = false;
    let cLsn = 0;
    let cTs = 0;
    let cSrc = 0;
    let cDelta = -1;
    if (anyClear) {
      for (let d = 0; d < k; d++) {
        if (mark[d] === step || !src.hasClear(d)) continue;
        const lsn = src.clearLsn(d);
        const ts = src.clearTimestamp(d);
        const s = src.source(d);
        if (!cFound || beats(rule, lsn, ts, s, cLsn, cTs, cSrc)) {
          cFound = true;
          cLsn = lsn;
          cTs = ts;
          cSrc = s;
          cDelta = d;
        }
      }
    }

    if (members === 1) {
      // A run: first's records below the next smallest head (no other delta holds those keys).
      const end =
        size === 0 ? len[first] : gallopDelta(src, first, pos[first] + 1, len[first], heap[0], pos[heap[0]]);
      const s = src.source(first);
      for (let i = pos[first]; i < end; i++) {
        const at = RESOLVED_HEADER + 3 * count++;
        out[at] = first;
        out[at + 1] = i;
        out[at + 2] =
          cFound && beats(rule, cLsn, cTs, cSrc, src.lsn(first, i), src.timestamp(first, i), s) ? cDelta : -1;
      }
      pos[first] = end;
      if (end < len[first]) push(first);
      continue;
    }

    // Several deltas hold this key: their records compete, with the others' best clear.
    let wLsn = cLsn;
    let wTs = cTs;
    let wSrc = cSrc;
    let found = cFound;
    let keyD = first;
    let clearOf = cFound ? cDelta : -1;
    for (let m = 0; m < members; m++) {
      const d = group[m];
      const lsn = src.lsn(d, pos[d]);
      const ts = src.timestamp(d, pos[d]);
      const s = src.source(d);
      if (!found || beats(rule, lsn, ts, s, wLsn, wTs, wSrc)) {
        found = true;
        wLsn = lsn;
        wTs = ts;
        wSrc = s;
        keyD = d;
        clearOf = -1;
      }
    }
    const at = RESOLVED_HEADER + 3 * count++;
    out[at] = keyD;
    out[at + 1] = pos[keyD];
    out[at + 2] = clearOf;
    for (let m = 0; m < members; m++) {
      const d = group[m];
      if (++pos[d] < len[d]) push(d);
    }
  }
  out[0] = RESOLVED_OK;
  out[3] = count;
  return out;
}
