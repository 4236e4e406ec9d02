import type { RunSlice, SortedRun } from './run-types';
import { fillRun, measureRunRecords, type RunRecord } from './sorted-run';

/**
 * A run in one ArrayBuffer, to move between threads without a copy on arrival: a 24-byte header
 * (count u32, flags u32 — bit 0 deletes present —, keyBytes u32, valueBytes u32, 8 spare), then
 * lsns f64 × count, timestamps f64 × count, keyStarts u32 × (count + 1), valueStarts u32 × (count + 1),
 * [deletes u8 × count], key bytes, value bytes. The float columns come first so that they sit 8-aligned.
 * Both ends are this process's code: no version, no checks beyond the sizes. A decoder that fills such a
 * buffer from the start (allocatePackedRun) moves it as it is.
 */
const HEADER = 24;

/** Runs laid out in one buffer already (allocatePackedRun): packing them is handing the buffer over. */
const PACKED = new WeakMap<SortedRun, ArrayBuffer>();

/**
 * A run's arrays and bytes in one new buffer, laid out as `packRun` lays a run out, for a decoder to fill
 * (the header is written): `packRun` then moves it without a copy.
 */
export function allocatePackedRun(
  count: number,
  hasDeletes: boolean,
  keyTotal: number,
  valueTotal: number,
): SortedRun {
  const size = HEADER + 16 * count + 8 * (count + 1) + (hasDeletes ? count : 0) + keyTotal + valueTotal;
  const buffer = new ArrayBuffer(size);
  const header = new Uint32Array(buffer, 0, 4);
  header[0] = count;
  header[1] = hasDeletes ? 1 : 0;
  header[2] = keyTotal;
  header[3] = valueTotal;
  const run = unpackRun(buffer);
  PACKED.set(run, buffer);
  return run;
}

/** The run in one buffer to move to another thread (the run's own, when it was allocated packed). */
export function packRun(run: SortedRun): ArrayBuffer {
  return PACKED.get(run) ?? PACKED.get(runFromSlices([{ run, start: 0, end: run.count }]))!;
}

/** One new run holding the records of `slices`, in order (copies, into one movable buffer). */
export function runFromSlices(slices: readonly RunSlice[]): SortedRun {
  let count = 0;
  let keyTotal = 0;
  let valueTotal = 0;
  let anyDelete = false;
  for (const { run, start, end } of slices) {
    count += end - start;
    keyTotal += run.keyStarts[end]! - run.keyStarts[start]!;
    valueTotal += run.valueStarts[end]! - run.valueStarts[start]!;
    if (run.deletes !== undefined) anyDelete = true;
  }
  const copy = allocatePackedRun(count, anyDelete, keyTotal, valueTotal);
  const { keyBytes, valueBytes, keyStarts, valueStarts, deletes, lsns, timestamps } = copy;
  let n = 0;
  let k = 0;
  let v = 0;
  for (const { run, start, end } of slices) {
    const keyBase = run.keyStarts[start]!;
    const valueBase = run.valueStarts[start]!;
    for (let i = start; i < end; i++) {
      keyStarts[n + i - start] = k + run.keyStarts[i]! - keyBase;
      valueStarts[n + i - start] = v + run.valueStarts[i]! - valueBase;
    }
    k += run.keyBytes.copy(keyBytes, k, keyBase, run.keyStarts[end]!);
    v += run.valueBytes.copy(valueBytes, v, valueBase, run.valueStarts[end]!);
    if (run.deletes !== undefined) deletes!.set(run.deletes.subarray(start, end), n);
    lsns.set(run.lsns.subarray(start, end), n);
    timestamps.set(run.timestamps.subarray(start, end), n);
    n += end - start;
  }
  keyStarts[count] = k;
  valueStarts[count] = v;
  return copy;
}

/**
 * A run in one movable buffer holding copies of `records[start, end)` (sorted by key, keys unique; a record
 * without `op` is a put): what a writer hands a worker thread.
 */
export function packRecords(records: readonly RunRecord[], start = 0, end = records.length): SortedRun {
  const { count, keyTotal, valueTotal, anyDelete } = measureRunRecords(records, start, end);
  const run = allocatePackedRun(count, anyDelete, keyTotal, valueTotal);
  fillRun(run, records, start);
  return run;
}

/** The run `packRun` laid out: views over `buffer`, nothing copied. */
export function unpackRun(buffer: ArrayBuffer): SortedRun {
  const header = new Uint32Array(buffer, 0, 4);
  const count = header[0]!;
  const hasDeletes = header[1] === 1;
  const keys = header[2]!;
  const values = header[3]!;
  let at = HEADER;
  const lsns = new Float64Array(buffer, at, count);
  at += 8 * count;
  const timestamps = new Float64Array(buffer, at, count);
  at += 8 * count;
  const keyStarts = new Uint32Array(buffer, at, count + 1);
  at += 4 * (count + 1);
  const valueStarts = new Uint32Array(buffer, at, count + 1);
  at += 4 * (count + 1);
  let deletes: Uint8Array | undefined;
  if (hasDeletes) {
    deletes = new Uint8Array(buffer, at, count);
    at += count;
  }
  const keyBytes = Buffer.from(buffer, at, keys);
  const valueBytes = Buffer.from(buffer, at + keys, values);
  return { count, keyBytes, keyStarts, valueBytes, valueStarts, deletes, lsns, timestamps };
}
