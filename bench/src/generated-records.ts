/**
 * What the generators of state-generators.ts share: the clock their records are stamped on, weighted picks,
 * and sorting records by key bytes.
 */
import type { StateRecord } from '../../src/checkpoint/state/state-types';

export const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);
export const HOUR_US = 3600e6;

/** LSNs follow time: a record written at µs `t` of the hour before T0 gets the LSN of that moment. */
export const lsnAt = (t: number, total: number): number =>
  1 + Math.floor(((t - (T0 * 1000 - HOUR_US)) / HOUR_US) * (total - 1));

/** [value, weight]: real traffic is skewed, a few values most of the time. */
export type Weighted<T> = readonly (readonly [T, number])[];

export function picker<T>(table: Weighted<T>): (rand: () => number) => T {
  const total = table.reduce((s, [, w]) => s + w, 0);
  return (rand) => {
    let x = rand() * total;
    for (const [v, w] of table) if ((x -= w) < 0) return v;
    return table[table.length - 1]![0];
  };
}

export const int = (rand: () => number, n: number): number => Math.floor(rand() * n);

/** Insertion sort by key bytes, for records already sorted but for a few neighbours; drops duplicate keys. */
export function mendOrder(records: StateRecord[]): void {
  for (let i = 1; i < records.length; i++) {
    for (let j = i; j > 0 && Buffer.compare(records[j - 1]!.key, records[j]!.key) > 0; j--) {
      [records[j - 1], records[j]] = [records[j]!, records[j - 1]!];
    }
  }
  let w = 1;
  for (let i = 1; i < records.length; i++) {
    if (!records[i]!.key.equals(records[w - 1]!.key)) records[w++] = records[i]!;
  }
  if (records.length > 0) records.length = w;
}

/** Sorts by key bytes through latin1 strings (one char per byte: string order is byte order; far faster). */
export function sortByKey(records: StateRecord[]): void {
  const keyed = records.map((r) => ({ id: r.key.toString('latin1'), r }));
  keyed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  keyed.forEach((k, i) => (records[i] = k.r));
  mendOrder(records);
}
