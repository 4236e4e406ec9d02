import type { SortedRun } from './sorted-run';

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
  const own = PACKED.get(run);
  if (own !== undefined) return own;
  return copyPacked(run);
}

function copyPacked(run: SortedRun): ArrayBuffer {
  const { count } = run;
  const keys = run.keyStarts[count]! - run.keyStarts[0]!;
  const values = run.valueStarts[count]! - run.valueStarts[0]!;
  const size = HEADER + 16 * count + 8 * (count + 1) + (run.deletes ? count : 0) + keys + values;
  const buffer = new ArrayBuffer(size);
  const header = new Uint32Array(buffer, 0, 4);
  header[0] = count;
  header[1] = run.deletes ? 1 : 0;
  header[2] = keys;
  header[3] = values;
  let at = HEADER;
  new Float64Array(buffer, at, count).set(run.lsns.subarray(0, count));
  at += 8 * count;
  new Float64Array(buffer, at, count).set(run.timestamps.subarray(0, count));
  at += 8 * count;
  at = packStarts(buffer, at, run.keyStarts, count);
  at = packStarts(buffer, at, run.valueStarts, count);
  const bytes = new Uint8Array(buffer);
  if (run.deletes) {
    bytes.set(run.deletes.subarray(0, count), at);
    at += count;
  }
  bytes.set(run.keyBytes.subarray(run.keyStarts[0]!, run.keyStarts[count]!), at);
  bytes.set(run.valueBytes.subarray(run.valueStarts[0]!, run.valueStarts[count]!), at + keys);
  return buffer;
}

/** Offsets rebased to 0 (a run's arrays may start anywhere in their bytes). */
function packStarts(buffer: ArrayBuffer, at: number, starts: Uint32Array, count: number): number {
  const out = new Uint32Array(buffer, at, count + 1);
  const base = starts[0]!;
  for (let i = 0; i <= count; i++) out[i] = starts[i]! - base;
  return at + 4 * (count + 1);
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
