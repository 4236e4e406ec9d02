import type { DeltaRecord } from '../state/state-types';
import { bufferView } from '../block/buffer-view';

/**
 * A sorted run: records sorted by key bytes, keys unique, held as columns in flat memory — key bytes back
 * to back with their start offsets, value bytes likewise, a delete flag, an LSN and a timestamp per
 * record — instead of one object and two Buffers per record. Record i's key is
 * `keyBytes[keyStarts[i], keyStarts[i + 1])`. A delete has an empty value. Runs are immutable once built;
 * their arrays may be views into a decoded block (values are, keys are rebuilt).
 */
export interface SortedRun {
  readonly count: number;
  readonly keyBytes: Buffer;
  /** count + 1 offsets into keyBytes. */
  readonly keyStarts: Uint32Array;
  readonly valueBytes: Buffer;
  /** count + 1 offsets into valueBytes. */
  readonly valueStarts: Uint32Array;
  /** 1 for a delete, per record; undefined when every record is a put. */
  readonly deletes: Uint8Array | undefined;
  readonly lsns: Float64Array;
  readonly timestamps: Float64Array;
}

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

/** Key and value bytes of records [start, end). */
export function runLogicalBytes(run: SortedRun, start = 0, end = run.count): number {
  return run.keyStarts[end]! - run.keyStarts[start]! + (run.valueStarts[end]! - run.valueStarts[start]!);
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
  const keyBytes = Buffer.allocUnsafeSlow(keyTotal);
  const valueBytes = Buffer.allocUnsafeSlow(valueTotal);
  const keyStarts = new Uint32Array(count + 1);
  const valueStarts = new Uint32Array(count + 1);
  const deletes = anyDelete ? new Uint8Array(count) : undefined;
  const lsns = new Float64Array(count);
  const timestamps = new Float64Array(count);
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
  return { count, keyBytes, keyStarts, valueBytes, valueStarts, deletes, lsns, timestamps };
}
