/**
 * Merge ONE component held as sorted runs: its base (a list of slices, as read from its blocks) and its
 * deltas (one run each) → its state after them, as slices. The same two phases as merge-component.ts —
 * phase 1 folds the deltas into a net delta (delta-resolution.ts, over `RunDeltaSource`), phase 2 lays it
 * over the base — but nothing is copied and no record becomes an object: untouched stretches of the base
 * stay slices of the runs they were read from, found by galloping, and a winning delta record is a slice
 * of its delta's run. The cost grows with the changes, not with the base.
 */
import { invalidArgument } from '../../lib/errors';
import { compareRunKeys, pushSlice, type RunSlice } from '../run/run-slice';
import { isDeleteAt, type SortedRun } from '../run/sorted-run';
import { BASE_SOURCE, beats, clearAlwaysBeatsBase } from './conflict-resolution';
import {
  RESOLVED_HEADER,
  RESOLVED_UNSORTED,
  resolveDeltaKeys,
  type DeltaKeySource,
} from './delta-resolution';

/** A component's changes in one delta: a run (sorted, keys unique) and the last clear before them. */
export interface RunDelta {
  readonly run: SortedRun;
  readonly clearedAt?: { readonly lsn: number; readonly timestamp: number };
}

/** DeltaKeySource over runs. */
export class RunDeltaSource implements DeltaKeySource {
  constructor(
    private readonly deltas: readonly RunDelta[],
    private readonly sources: readonly number[],
  ) {}

  get deltaCount(): number {
    return this.deltas.length;
  }
  recordCount(d: number): number {
    return this.deltas[d]!.run.count;
  }
  compare(da: number, ia: number, db: number, ib: number): number {
    return compareRunKeys(this.deltas[da]!.run, ia, this.deltas[db]!.run, ib);
  }
  lsn(d: number, i: number): number {
    return this.deltas[d]!.run.lsns[i]!;
  }
  timestamp(d: number, i: number): number {
    return this.deltas[d]!.run.timestamps[i]!;
  }
  source(d: number): number {
    return this.sources[d]!;
  }
  hasClear(d: number): boolean {
    return this.deltas[d]!.clearedAt !== undefined;
  }
  clearLsn(d: number): number {
    return this.deltas[d]!.clearedAt?.lsn ?? 0;
  }
  clearTimestamp(d: number): number {
    return this.deltas[d]!.clearedAt?.timestamp ?? 0;
  }
}

/** The best clear over all deltas: the candidate of every key no delta holds a record for. */
interface BestClear {
  readonly found: boolean;
  readonly lsn: number;
  readonly timestamp: number;
  readonly source: number;
}

function bestClear(deltas: readonly RunDelta[], sources: readonly number[], rule: number): BestClear {
  let best: BestClear = { found: false, lsn: 0, timestamp: 0, source: 0 };
  deltas.forEach((delta, d) => {
    const c = delta.clearedAt;
    if (c === undefined) return;
    if (!best.found || beats(rule, c.lsn, c.timestamp, sources[d]!, best.lsn, best.timestamp, best.source)) {
      best = { found: true, lsn: c.lsn, timestamp: c.timestamp, source: sources[d]! };
    }
  });
  return best;
}

/** A cursor over the base's slices. */
class BaseCursor {
  slice = 0;
  index: number;

  constructor(private readonly slices: readonly RunSlice[]) {
    this.index = slices[0]?.start ?? 0;
  }

  get done(): boolean {
    return this.slice >= this.slices.length;
  }

  get run(): SortedRun {
    return this.slices[this.slice]!.run;
  }

  /** Emits (through `emit`) every base record below the key of (run, i), stopping at the first ≥ it. */
  advanceTo(run: SortedRun, i: number, emit: (run: SortedRun, start: number, end: number) => void): void {
    while (this.slice < this.slices.length) {
      const { run: baseRun, end } = this.slices[this.slice]!;
      // The whole rest of this slice is below the key: take it at once, no search.
      if (compareRunKeys(baseRun, end - 1, run, i) < 0) {
        emit(baseRun, this.index, end);
        this.next();
        continue;
      }
      const stop = gallop(baseRun, this.index, end, run, i);
      emit(baseRun, this.index, stop);
      this.index = stop;
      return;
    }
  }

  /** Moves past the current record. */
  step(): void {
    if (++this.index >= this.slices[this.slice]!.end) this.next();
  }

  /** Emits everything left. */
  rest(emit: (run: SortedRun, start: number, end: number) => void): void {
    while (this.slice < this.slices.length) {
      emit(this.run, this.index, this.slices[this.slice]!.end);
      this.next();
    }
  }

  private next(): void {
    this.slice++;
    this.index = this.slices[this.slice]?.start ?? 0;
  }
}

/** First index in [from, end) of `base` whose key is ≥ the key of (run, i); end when none. */
function gallop(base: SortedRun, from: number, end: number, run: SortedRun, i: number): number {
  if (from >= end || compareRunKeys(base, from, run, i) >= 0) return from;
  let lo = from;
  let step = 1;
  let hi = from + 1;
  while (hi < end && compareRunKeys(base, hi, run, i) < 0) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  if (hi > end) hi = end;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (compareRunKeys(base, mid, run, i) < 0) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * `base` (slices, concatenation sorted) with `deltas` laid over it under `rule`; `sources[d]` is delta d's
 * position in the merge's argument list (the rules' tie-breaker). Returns `base` itself when nothing
 * changes it. INVALID_ARGUMENT when a delta's keys do not rise strictly.
 */
export function mergeRunComponent(
  componentId: string,
  base: readonly RunSlice[],
  deltas: readonly RunDelta[],
  rule: number,
  sources: readonly number[] = deltas.map((_, i) => i),
): readonly RunSlice[] {
  if (deltas.length === 0) return base;
  const resolved = resolveDeltaKeys(new RunDeltaSource(deltas, sources), rule);
  if (resolved[0] === RESOLVED_UNSORTED) {
    throw invalidArgument(
      `delta ${sources[resolved[1]!]} of component ${componentId}: records are not sorted by key bytes with unique keys (record ${resolved[2]})`,
      { componentId, delta: sources[resolved[1]!], record: resolved[2] },
    );
  }
  const clear = bestClear(deltas, sources, rule);
  const count = resolved[3]!;
  if (count === 0 && !clear.found) return base;

  const out: RunSlice[] = [];
  // Base records go out whole, or — under a clear they may lose to (timestamp-priority) — one by one.
  const emitBase = !clear.found
    ? (run: SortedRun, start: number, end: number) => pushSlice(out, run, start, end)
    : (run: SortedRun, start: number, end: number) => {
        for (let b = start; b < end; b++) {
          if (
            !beats(
              rule,
              clear.lsn,
              clear.timestamp,
              clear.source,
              run.lsns[b]!,
              run.timestamps[b]!,
              BASE_SOURCE,
            )
          )
            pushSlice(out, run, b, b + 1);
        }
      };
  const dropBase = clear.found && clearAlwaysBeatsBase(rule);
  const cursor = new BaseCursor(dropBase ? [] : base);
  for (let j = 0; j < count; j++) {
    const at = RESOLVED_HEADER + 3 * j;
    const keyDelta = deltas[resolved[at]!]!;
    const keyIndex = resolved[at + 1]!;
    const clearOf = resolved[at + 2]!;
    const keyRun = keyDelta.run;
    cursor.advanceTo(keyRun, keyIndex, emitBase);
    let wLsn: number;
    let wTs: number;
    let wSrc: number;
    if (clearOf >= 0) {
      const c = deltas[clearOf]!.clearedAt;
      wLsn = c?.lsn ?? 0;
      wTs = c?.timestamp ?? 0;
      wSrc = sources[clearOf]!;
    } else {
      wLsn = keyRun.lsns[keyIndex]!;
      wTs = keyRun.timestamps[keyIndex]!;
      wSrc = sources[resolved[at]!]!;
    }
    if (!cursor.done && compareRunKeys(cursor.run, cursor.index, keyRun, keyIndex) === 0) {
      const baseRun = cursor.run;
      const b = cursor.index;
      cursor.step();
      if (!beats(rule, wLsn, wTs, wSrc, baseRun.lsns[b]!, baseRun.timestamps[b]!, BASE_SOURCE)) {
        pushSlice(out, baseRun, b, b + 1);
        continue;
      }
    }
    if (clearOf < 0 && !isDeleteAt(keyRun, keyIndex)) pushSlice(out, keyRun, keyIndex, keyIndex + 1);
  }
  cursor.rest(emitBase);
  return out;
}
