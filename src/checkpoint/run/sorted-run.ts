import type { DeltaRecord } from '../state/state-types';
import { bufferView } from '../block/buffer-view';
import type { SortedRun } from './run-types';

export type { SortedRun } from './run-types';

/** Record i's key as a Buffer view (no copy). */
export function runKey(run: SortedRun, i: number): Buffer {
  return bufferView(run.keyBytes, run.keyStarts[i]!, run.keyStarts[i + 1]!);
}

/** Record i's value as a Buffer view (no copy). */
export function runValue(run: SortedRun, i: number): Buffer {
  return bufferView(run.valueBytes, run.valueStarts[i]!, run.valueStarts[i + 1]!);
}

export function isDeleteAt(run: SortedRun, i: number): boolean {
  return run.deletes !== undefined && run.deletes[i] === 1;
}

/**
 * The records of a run as objects over views of its bytes: the bridge to code that still takes
 * DeltaRecords (one object per record — what the run exists to avoid on hot paths).
 */
export function runToRecords(run: SortedRun, start = 0, end = run.count): DeltaRecord[] {
  const out = new Array<DeltaRecord>(end - start);
  for (let i = start; i < end; i++) {
    const key = runKey(run, i);
    const lsn = run.lsns[i]!;
    const timestamp = run.timestamps[i]!;
    out[i - start] = isDeleteAt(run, i)
      ? { op: 'delete', key, lsn, timestamp }
      : { op: 'put', key, value: runValue(run, i), lsn, timestamp };
  }
  return out;
}

/**
 * A run holding copies of `records[start, end)` (already sorted by key, keys unique). Its own arrays, not
 * allocatePackedRun's one buffer: on the checkpoint writer's path (a run per block) that buffer made the
 * write 118 -> 76 MB/s (/tmp/exp/write-prof.js, 96 MB window state), while building a run alone took the
 * same time either way — not understood yet; the numbers decided.
 */
export function runFromRecords(records: readonly RunRecord[], start = 0, end = records.length): SortedRun {
  const { count, keyTotal, valueTotal, anyDelete } = measureRunRecords(records, start, end);
  const run = allocateRun(count, keyTotal, valueTotal, anyDelete);
  fillRun(run, records, start);
  return run;
}

/**
 * A run of `count` records with room for `keyTotal` key and `valueTotal` value bytes, in arrays of its own,
 * to be filled (its contents are whatever the memory held). `allocate` makes the two byte buffers.
 */
export function allocateRun(
  count: number,
  keyTotal: number,
  valueTotal: number,
  withDeletes: boolean,
  allocate: (size: number) => Buffer = Buffer.allocUnsafeSlow,
): SortedRun {
  return {
    count,
    keyBytes: allocate(keyTotal),
    keyStarts: new Uint32Array(count + 1),
    valueBytes: allocate(valueTotal),
    valueStarts: new Uint32Array(count + 1),
    deletes: withDeletes ? new Uint8Array(count) : undefined,
    lsns: new Float64Array(count),
    timestamps: new Float64Array(count),
  };
}

/** A record a run can be built from: a StateRecord (a put) or a DeltaRecord. */
export interface RunRecord {
  key: Uint8Array;
  value?: Uint8Array;
  op?: 'put' | 'delete';
  lsn: number;
  timestamp: number;
}

/** What a run of `records[start, end)` needs: its count, key and value bytes, whether it has deletes. */
export function measureRunRecords(records: readonly RunRecord[], start: number, end: number) {
  let keyTotal = 0;
  let valueTotal = 0;
  let anyDelete = false;
  for (let i = start; i < end; i++) {
    const record = records[i]!;
    keyTotal += record.key.length;
    if (record.op === 'delete') anyDelete = true;
    else valueTotal += record.value!.length;
  }
  return { count: end - start, keyTotal, valueTotal, anyDelete };
}

/** Copies `records[start, start + run.count)` into `run`'s arrays, sized by measureRunRecords. */
export function fillRun(run: SortedRun, records: readonly RunRecord[], start: number): void {
  const { count, keyBytes, valueBytes, keyStarts, valueStarts, deletes, lsns, timestamps } = run;
  let k = 0;
  let v = 0;
  for (let i = 0; i < count; i++) {
    const record = records[start + i]!;
    keyStarts[i] = k;
    valueStarts[i] = v;
    keyBytes.set(record.key, k);
    k += record.key.length;
    if (record.op === 'delete') deletes![i] = 1;
    else {
      valueBytes.set(record.value!, v);
      v += record.value!.length;
    }
    lsns[i] = record.lsn;
    timestamps[i] = record.timestamp;
  }
  keyStarts[count] = k;
  valueStarts[count] = v;
}
