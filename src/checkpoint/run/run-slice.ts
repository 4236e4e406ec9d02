import type { RunSlice, SortedRun } from './run-types';

export type { RunSlice } from './run-types';

/**
 * Key order of run a's record i against run b's record j, as Buffer.compare. A loop in JS: keys are short
 * and Buffer.compare's argument checks cost more than the bytes (a third of a merge's time, profiled).
 */
export function compareRunKeys(a: SortedRun, i: number, b: SortedRun, j: number): number {
  const ak = a.keyBytes;
  const bk = b.keyBytes;
  let p = a.keyStarts[i]!;
  let q = b.keyStarts[j]!;
  const aLength = a.keyStarts[i + 1]! - p;
  const bLength = b.keyStarts[j + 1]! - q;
  const end = p + (aLength < bLength ? aLength : bLength);
  for (; p < end; p++, q++) {
    const x = ak[p]!;
    const y = bk[q]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return aLength === bLength ? 0 : aLength < bLength ? -1 : 1;
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
  // The last slice that held a record: an empty slice between two must not hide their boundary.
  let before: RunSlice | undefined;
  for (let s = 0; s < slices.length; s++) {
    const slice = slices[s]!;
    const { run, start, end } = slice;
    if (end <= start) continue;
    if (checkRuns)
      for (let i = start + 1; i < end; i++) if (compareRunKeys(run, i - 1, run, i) >= 0) return s;
    if (before !== undefined && compareRunKeys(before.run, before.end - 1, run, start) >= 0) return s;
    before = slice;
  }
  return -1;
}

/**
 * Appends [start, end) of `run` to `out` — a list only this function adds to — extending the last slice in
 * place when it ends where this one starts (no object per record taken from the same run).
 */
export function pushSlice(out: RunSlice[], run: SortedRun, start: number, end: number): void {
  if (end <= start) return;
  const last = out[out.length - 1] as GrowingSlice | undefined;
  if (last !== undefined && last.run === run && last.end === start) {
    last.end = end;
    return;
  }
  out.push({ run, start, end });
}

/** A slice a merge is still building: it grows in place. */
type GrowingSlice = { run: SortedRun; start: number; end: number };
