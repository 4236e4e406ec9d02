import type { LatencySummary } from '../../src/wal/wal-options';

/** The WAL benchmark's figures and their table (wal-bench.ts measures; this file only reports). */
export interface LatencyFigures {
  p50Micros: number;
  p99Micros: number;
  maxMicros: number;
}

export interface WalBenchResult {
  name: string;
  kind: 'raw' | 'batch' | 'single' | 'no-sync';
  entries: number;
  seconds: number;
  entriesPerSec: number;
  ratioToRaw?: number;
  goal?: string;
  goalMet?: boolean;
  /** Per append, call to resolve (single appends only). */
  latency?: LatencyFigures;
  /** The WAL's own fdatasync latency over its most recent flushes (stats().fsync). */
  walFsync?: LatencySummary;
  flushes?: number;
  entriesPerFlush?: number;
  inFlight?: number;
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function printTable(results: WalBenchResult[], raw: number): void {
  const header = [
    'measurement',
    'entries/s',
    'x raw',
    'goal',
    'met',
    'latency p50/p99 µs',
    'WAL fsync p50/p99 µs',
    'entries/flush',
  ];
  const rows = results.map((r) => [
    r.name,
    fmt(r.entriesPerSec),
    (r.entriesPerSec / raw).toFixed(2),
    r.goal ?? '',
    r.goalMet === undefined ? '' : r.goalMet ? 'yes' : 'no',
    r.latency ? `${fmt(r.latency.p50Micros)} / ${fmt(r.latency.p99Micros)}` : '',
    r.walFsync && r.walFsync.count > 0 ? `${fmt(r.walFsync.p50Micros)} / ${fmt(r.walFsync.p99Micros)}` : '',
    r.entriesPerFlush === undefined ? '' : fmt(r.entriesPerFlush),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}
