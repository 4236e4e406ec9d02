/**
 * Merge ONE component: its base records (or none) and its ordered deltas → its records after them.
 *
 * Phase 1 (delta-resolution.ts) folds the deltas into a net delta; phase 2 (`applyResolved`, here) lays
 * the net delta over the base: for each net key, gallop (exponential then binary search) through the
 * base to that key, copy the base records before it by reference, then let the rule decide between the
 * base record at the key (if any) and the net winner. Untouched base runs cost one pointer copy per
 * record and O(log gap) key comparisons per net key, never a comparison per base record.
 *
 * Inputs must be sorted by key bytes, keys unique (the ComponentSnapshot / ComponentDelta contract; the
 * deltas' order is checked in phase 1, the base's is trusted). The output shares the inputs' record
 * objects and Buffers: base records are reused as they are, a winning put becomes a new StateRecord over
 * the delta's key and value Buffers. Snapshots are immutable by convention; nothing here copies bytes.
 */
import { invalidArgument } from '../../lib/errors';
import {
  type ComponentDelta,
  type ComponentSnapshot,
  type DeltaRecord,
  type StateRecord,
} from '../state/state-types';
import { compareBytes } from './byte-order';
import { BASE_SOURCE, beats, clearAlwaysBeatsBase } from './conflict-resolution';
import {
  RESOLVED_HEADER,
  RESOLVED_UNSORTED,
  resolveDeltaKeys,
  type DeltaKeySource,
  type ResolvedKeys,
} from './delta-resolution';

const NO_RECORDS: StateRecord[] = [];

/** DeltaKeySource over ComponentDelta objects, for merging on the calling thread. */
export class ObjectDeltaSource implements DeltaKeySource {
  private readonly records: DeltaRecord[][];

  constructor(
    private readonly deltas: readonly ComponentDelta[],
    private readonly sources: readonly number[],
  ) {
    this.records = deltas.map((d) => d.records);
  }

  get deltaCount(): number {
    return this.deltas.length;
  }
  recordCount(d: number): number {
    return this.records[d].length;
  }
  compare(da: number, ia: number, db: number, ib: number): number {
    return compareBytes(this.records[da][ia].key, this.records[db][ib].key);
  }
  lsn(d: number, i: number): number {
    return this.records[d][i].lsn;
  }
  timestamp(d: number, i: number): number {
    return this.records[d][i].timestamp;
  }
  source(d: number): number {
    return this.sources[d];
  }
  hasClear(d: number): boolean {
    return this.deltas[d].clearedAt !== undefined;
  }
  clearLsn(d: number): number {
    return this.deltas[d].clearedAt?.lsn ?? 0;
  }
  clearTimestamp(d: number): number {
    return this.deltas[d].clearedAt?.timestamp ?? 0;
  }
}

/** First index ≥ from whose key is ≥ key (records.length when none). */
function gallop(records: readonly StateRecord[], from: number, key: Buffer): number {
  const n = records.length;
  if (from >= n || compareBytes(records[from].key, key) >= 0) return from;
  let lo = from;
  let step = 1;
  let hi = from + 1;
  while (hi < n && compareBytes(records[hi].key, key) < 0) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  if (hi > n) hi = n;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(records[mid].key, key) < 0) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Throws the INVALID_ARGUMENT a RESOLVED_UNSORTED result stands for. */
export function throwIfUnsorted(
  componentId: string,
  resolved: ResolvedKeys,
  sources: readonly number[],
): void {
  if (resolved[0] !== RESOLVED_UNSORTED) return;
  throw invalidArgument(
    `delta ${sources[resolved[1]]} of component ${componentId}: records are not sorted by key bytes with unique keys (record ${resolved[2]})`,
    { componentId, delta: sources[resolved[1]], record: resolved[2] },
  );
}

/**
 * Phase 2: the net delta `resolved` (computed over `deltas`, whose argument positions are `sources`)
 * laid over `baseRecords`. Returns `baseRecords` itself when nothing changes it.
 */
export function applyResolved(
  baseRecords: readonly StateRecord[],
  deltas: readonly ComponentDelta[],
  sources: readonly number[],
  resolved: ResolvedKeys,
  rule: number,
): StateRecord[] {
  // The best clear over all deltas: the candidate every key no delta holds a record for gets.
  let clearFound = false;
  let cLsn = 0;
  let cTs = 0;
  let cSrc = 0;
  for (let d = 0; d < deltas.length; d++) {
    const c = deltas[d].clearedAt;
    if (c !== undefined && (!clearFound || beats(rule, c.lsn, c.timestamp, sources[d], cLsn, cTs, cSrc))) {
      clearFound = true;
      cLsn = c.lsn;
      cTs = c.timestamp;
      cSrc = sources[d];
    }
  }
  const count = resolved[3];
  if (count === 0 && !clearFound) return baseRecords as StateRecord[];

  const dropBase = clearFound && clearAlwaysBeatsBase(rule);
  const n = baseRecords.length;
  // Sized once (at most every base record plus every net key), trimmed at the end: no regrowth copies.
  const out = new Output(n + count);
  let bi = 0;
  for (let j = 0; j < count; j++) {
    const at = RESOLVED_HEADER + 3 * j;
    const keyRecord = deltas[resolved[at]].records[resolved[at + 1]];
    const clearOf = resolved[at + 2];
    const key = keyRecord.key;

    const stop = dropBase ? bi : gallop(baseRecords, bi, key);
    if (stop > bi) {
      copyBaseRun(out, baseRecords, bi, stop, clearFound, rule, cLsn, cTs, cSrc);
      bi = stop;
    }
    let wLsn: number;
    let wTs: number;
    let wSrc: number;
    if (clearOf >= 0) {
      const c = deltas[clearOf].clearedAt;
      wLsn = c === undefined ? 0 : c.lsn;
      wTs = c === undefined ? 0 : c.timestamp;
      wSrc = sources[clearOf];
    } else {
      wLsn = keyRecord.lsn;
      wTs = keyRecord.timestamp;
      wSrc = sources[resolved[at]];
    }
    if (dropBase) {
      // every base record loses to the clear; skip the base key equal to this one cheaply on the way
    } else if (bi < n && compareBytes(baseRecords[bi].key, key) === 0) {
      const b = baseRecords[bi];
      bi++;
      if (!beats(rule, wLsn, wTs, wSrc, b.lsn, b.timestamp, BASE_SOURCE)) {
        out.records[out.length++] = b;
        continue;
      }
    }
    if (clearOf < 0 && keyRecord.op === 'put') {
      out.records[out.length++] = {
        key: keyRecord.key,
        value: keyRecord.value,
        lsn: keyRecord.lsn,
        timestamp: keyRecord.timestamp,
      };
    }
  }
  if (!dropBase && bi < n) copyBaseRun(out, baseRecords, bi, n, clearFound, rule, cLsn, cTs, cSrc);
  out.records.length = out.length;
  return out.records;
}

/** The output array and its fill level. */
class Output {
  readonly records: StateRecord[];
  length = 0;
  constructor(capacity: number) {
    this.records = new Array<StateRecord>(capacity);
  }
}

function copyBaseRun(
  out: Output,
  base: readonly StateRecord[],
  from: number,
  to: number,
  clearFound: boolean,
  rule: number,
  cLsn: number,
  cTs: number,
  cSrc: number,
): void {
  const records = out.records;
  let o = out.length;
  if (!clearFound) {
    for (let i = from; i < to; i++) records[o++] = base[i];
  } else {
    for (let i = from; i < to; i++) {
      const b = base[i];
      if (!beats(rule, cLsn, cTs, cSrc, b.lsn, b.timestamp, BASE_SOURCE)) records[o++] = b;
    }
  }
  out.length = o;
}

/**
 * Merge one component on the calling thread. `deltas` are the component's changes in argument order;
 * `sources[d]` is delta d's position in the merge's argument list (default: 0, 1, 2, …).
 */
export function mergeComponent(
  componentId: string,
  base: ComponentSnapshot | undefined,
  deltas: readonly ComponentDelta[],
  rule: number,
  sources: readonly number[] = deltas.map((_, i) => i),
): ComponentSnapshot {
  const baseRecords = base?.records ?? NO_RECORDS;
  if (deltas.length === 0) return { componentId, records: baseRecords };
  const resolved = resolveDeltaKeys(new ObjectDeltaSource(deltas, sources), rule);
  throwIfUnsorted(componentId, resolved, sources);
  const records = applyResolved(baseRecords, deltas, sources, resolved, rule);
  return { componentId, records: records === NO_RECORDS ? [] : records };
}
