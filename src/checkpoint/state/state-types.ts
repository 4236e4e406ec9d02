/**
 * The data model every checkpoint part shares: the state of a component (a map of byte keys to byte
 * values, ordered by key bytes), and the changes to it over an LSN range. Every record carries the LSN
 * and entry timestamp of the change that made it, so merges can resolve conflicts and unchanged
 * records encode to identical bytes (which is what deduplication relies on).
 */

/** A live key of a component's state. */
export interface StateRecord {
  key: Buffer;
  value: Buffer;
  /** LSN of the entry that last wrote this key. */
  lsn: number;
  /** Timestamp (µs) of that entry. */
  timestamp: number;
}

/** The last change to one key within an LSN range. */
export type DeltaRecord =
  | { op: 'put'; key: Buffer; value: Buffer; lsn: number; timestamp: number }
  | { op: 'delete'; key: Buffer; lsn: number; timestamp: number };

/** A component's whole state at an LSN: records sorted by key bytes (Buffer.compare), keys unique. */
export interface ComponentSnapshot {
  componentId: string;
  records: StateRecord[];
}

/**
 * What changed in a component over `(fromLsn, toLsn]`: if it was cleared in that range, `clearedAt` names
 * the last clear (everything older is gone); `records` are the changes after it (or all changes, when
 * not cleared), sorted by key bytes, at most one per key — the last one.
 */
export interface ComponentDelta {
  componentId: string;
  clearedAt?: { lsn: number; timestamp: number };
  records: DeltaRecord[];
}

/** The state of a set of components as of `lsn`. */
export interface Snapshot {
  lsn: number;
  components: Map<string, ComponentSnapshot>;
}

/** The changes of a set of components over `(fromLsn, toLsn]`. */
export interface Delta {
  fromLsn: number;
  toLsn: number;
  components: Map<string, ComponentDelta>;
}

/** Byte order of keys: the one order of the whole checkpoint module. */
export function compareKeys(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}
