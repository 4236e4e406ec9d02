import { systemClock, type Clock } from '../lib/clock';

/** What a processor appends to the log, and what reading the log gives back. */

export type Bytes = Buffer | Uint8Array | string;

export type Change = { op: 'put'; key: Bytes; value: Bytes } | { op: 'delete'; key: Bytes } | { op: 'clear' };

/** A change as read back from the log: keys and values are Buffers (views into the read buffer). */
export type DecodedChange =
  { op: 'put'; key: Buffer; value: Buffer } | { op: 'delete'; key: Buffer } | { op: 'clear' };

export interface LogEntry {
  /** `[A-Za-z0-9._:-]{1,255}`, e.g. `window_processor_1`. */
  componentId: string;
  /** Rises per component (checked unless `enforceSequence` is off). A non-negative safe integer. */
  sequence: number;
  /** Microseconds since the Unix epoch. */
  timestamp: number;
  changes: readonly Change[];
  metadata?: Readonly<Record<string, string>>;
}

export interface DecodedEntry {
  componentId: string;
  sequence: number;
  timestamp: number;
  changes: DecodedChange[];
  /** Read-only: entries without metadata share one frozen empty object. */
  metadata: Readonly<Record<string, string>>;
}

export interface LogRecord {
  lsn: number;
  entry: DecodedEntry;
}

export function put(key: Bytes, value: Bytes): Change {
  return { op: 'put', key, value };
}

export function del(key: Bytes): Change {
  return { op: 'delete', key };
}

export function clear(): Change {
  return { op: 'clear' };
}

/** The current time in microseconds since the epoch, the unit of `LogEntry.timestamp`. */
export function nowMicros(clock: Clock = systemClock): number {
  return clock.now() * 1000;
}
