import type { SortedRun } from './sorted-run';

/**
 * Records [start, end) of a run. A component's state is a list of slices whose concatenation is sorted
 * (each above the one before): what a merge makes of its inputs without copying a byte — untouched
 * stretches of the base stay slices of the blocks they were read from.
 */
export interface RunSlice {
  readonly run: SortedRun;
  readonly start: number;
  readonly end: number;
}

/** Key order of run a's record i against run b's record j, as Buffer.compare (one native call). */
export function compareRunKeys(a: SortedRun, i: number, b: SortedRun, j: number): number {
  return a.keyBytes.compare(
    b.keyBytes,
    b.keyStarts[j]!,
    b.keyStarts[j + 1]!,
    a.keyStarts[i]!,
    a.keyStarts[i + 1]!,
  );
}

/** The slice of a whole run. */
export function wholeRun(run: SortedRun): RunSlice {
  return { run, start: 0, end: run.count };
}

export function sliceRecordCount(slices: readonly RunSlice[]): number {
  let count = 0;
  for (const slice of slices) count += slice.end - slice.start;
  return count;
}

/** Key and value bytes of every record the slices hold. */
export function sliceLogicalBytes(slices: readonly RunSlice[]): number {
  let bytes = 0;
  for (const { run, start, end } of slices) {
    bytes += run.keyStarts[end]! - run.keyStarts[start]! + (run.valueStarts[end]! - run.valueStarts[start]!);
  }
  return bytes;
}

/**
 * Index of the first slice whose records are not all in order with the ones before — within a run
 * (`checkRuns`) or across a slice boundary — or -1 when the concatenation rises strictly. Boundaries
 * cost one comparison each; runs are checked only when asked (a format-2 decoder checked them already).
 */
export function firstUnsortedSlice(slices: readonly RunSlice[], checkRuns: boolean): number {
  for (let s = 0; s < slices.length; s++) {
    const { run, start, end } = slices[s]!;
    if (checkRuns)
      for (let i = start + 1; i < end; i++) if (compareRunKeys(run, i - 1, run, i) >= 0) return s;
    if (s > 0 && end > start) {
      const before = slices[s - 1]!;
      if (before.end > before.start && compareRunKeys(before.run, before.end - 1, run, start) >= 0) return s;
    }
  }
  return -1;
}

/** Appends [start, end) of `run` to `out`, extending the last slice when it ends where this one starts. */
export function pushSlice(out: RunSlice[], run: SortedRun, start: number, end: number): void {
  if (end <= start) return;
  const last = out[out.length - 1];
  if (last !== undefined && last.run === run && last.end === start) {
    out[out.length - 1] = { run, start: last.start, end };
    return;
  }
  out.push({ run, start, end });
}
