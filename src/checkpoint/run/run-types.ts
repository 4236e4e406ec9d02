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
