import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bytes, DecodedEntry, LogEntry, LogRecord, SegmentedWal } from '../../../src/wal';
import { clear, del, put } from '../../../src/wal';

export function tempDir(prefix = 'tidemark-wal-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A deterministic entry: puts, a delete every 7th, a clear every 50th, values of varying size. */
export function makeEntry(componentId: string, sequence: number, valueBytes = 40): LogEntry {
  const changes = [put(`key-${sequence % 97}`, Buffer.alloc(valueBytes + (sequence % 13), sequence & 0xff))];
  if (sequence % 7 === 0) changes.push(del(`key-${(sequence * 3) % 97}`));
  if (sequence % 50 === 0) changes.push(clear());
  return {
    componentId,
    sequence,
    timestamp: 1_700_000_000_000_000 + sequence,
    changes,
    metadata: { n: String(sequence) },
  };
}

export async function readAll(
  wal: SegmentedWal,
  range?: { fromLsn?: number; toLsn?: number },
): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for await (const record of wal.read(range)) records.push(record);
  return records;
}

/** The entry as it reads back: bytes as Buffers, metadata always present. */
export function decoded(entry: LogEntry): unknown {
  return {
    componentId: entry.componentId,
    sequence: entry.sequence,
    timestamp: entry.timestamp,
    metadata: { ...(entry.metadata ?? {}) },
    changes: entry.changes.map((change) =>
      change.op === 'clear'
        ? { op: 'clear' }
        : change.op === 'delete'
          ? { op: 'delete', key: Buffer.from(change.key) }
          : { op: 'put', key: Buffer.from(change.key), value: Buffer.from(change.value) },
    ),
  };
}

/** A compact, exact text form of an entry (written or read back), cheap to compare in bulk. */
export function fingerprint(entry: LogEntry | DecodedEntry): string {
  const hex = (bytes: Bytes) => Buffer.from(bytes as Buffer).toString('hex');
  const changes = entry.changes.map((change) =>
    change.op === 'clear'
      ? 'c'
      : change.op === 'delete'
        ? `d:${hex(change.key)}`
        : `p:${hex(change.key)}=${hex(change.value)}`,
  );
  return `${entry.componentId}|${entry.sequence}|${entry.timestamp}|${changes.join(',')}|${JSON.stringify(entry.metadata ?? {})}`;
}
