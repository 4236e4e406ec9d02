import type { DeltaRecord } from '../state/state-types';
import { bufferView } from '../block/buffer-view';
import { allocatePackedRun } from './run-transfer';
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

/** A run holding copies of `records[start, end)` (already sorted by key, keys unique). */
export function runFromRecords(
  records: readonly {
    key: Uint8Array;
    value?: Uint8Array;
    op?: 'put' | 'delete';
    lsn: number;
    timestamp: number;
  }[],
  start = 0,
  end = records.length,
): SortedRun {
  const count = end - start;
  let keyTotal = 0;
  let valueTotal = 0;
  let anyDelete = false;
  for (let i = start; i < end; i++) {
    const record = records[i]!;
    keyTotal += record.key.length;
    if (record.op === 'delete') anyDelete = true;
    else valueTotal += record.value!.length;
  }
  const run = allocatePackedRun(count, anyDelete, keyTotal, valueTotal);
  const { keyBytes, valueBytes, keyStarts, valueStarts, deletes, lsns, timestamps } = run;
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
  return run;
}
