/**
 * The 'small-records' state of state-generators.ts: half deduplication-cache entries (16 random bytes →
 * 8-byte big-endian µs timestamp within the last hour), half counters (`clicks:DE:48213` → 8-byte big-endian
 * count, log-uniform). Generated in key order, so no sort of millions of keys is needed.
 */
import type { Snapshot, StateRecord } from '../../src/checkpoint/state/state-types';
import { HOUR_US, int, lsnAt, mendOrder, picker, T0 } from './generated-records';
import type { Slab } from './recovery-bench-state';

const COUNTRY = picker<string>(
  ['AU', 'BR', 'CA', 'DE', 'ES', 'FR', 'GB', 'IN', 'IT', 'JP', 'MX', 'NL', 'PL', 'SE', 'US'].map(
    (c, i) => [c, c === 'US' ? 30 : 1 + ((i * 7) % 9)] as const,
  ),
);
const METRIC = picker<string>([
  ['carts', 1],
  ['clicks', 4],
  ['impressions', 6],
  ['orders', 1],
]);

function u64(slab: Slab, n: number): Buffer {
  const b = slab.take(8);
  b.writeUInt32BE(Math.floor(n / 0x1_0000_0000), 0);
  b.writeUInt32BE(n >>> 0, 4);
  return b;
}

/** A changed small record: a dedup entry seen again (new timestamp), a counter incremented. */
export function bumped(slab: Slab, value: Buffer, rand: () => number): Buffer {
  const n = value.readUInt32BE(0) * 0x1_0000_0000 + value.readUInt32BE(4);
  return u64(slab, n > 1e15 ? T0 * 1000 + Math.floor(rand() * 60e6) : n + 1 + int(rand, 5));
}

export function smallRecords(targetBytes: number, rand: () => number, slab: Slab): Snapshot {
  // 24 B a dedup entry, ~27 B a counter: the same number of each.
  const each = Math.max(100, Math.round(targetBytes / 51));
  const time = () => T0 * 1000 - Math.floor(rand() * HOUR_US);
  const total = 2 * each;

  // Dedup keys are uniform random: draw their first 6 bytes sorted, then the rest, then mend the few ties.
  const prefixes = new Float64Array(each);
  for (let i = 0; i < each; i++)
    prefixes[i] = Math.floor(rand() * 2 ** 24) * 2 ** 24 + Math.floor(rand() * 2 ** 24);
  prefixes.sort();
  const dedup: StateRecord[] = [];
  for (let i = 0; i < each; i++) {
    const key = slab.take(16);
    key.writeUIntBE(prefixes[i]!, 0, 6);
    for (let j = 6; j < 16; j += 2) key.writeUInt16BE(int(rand, 0x10000), j);
    const t = time();
    dedup.push({ key, value: u64(slab, t), lsn: lsnAt(t, total), timestamp: t });
  }
  mendOrder(dedup);

  // Counters: groups `metric:CC:` in key order, each with random distinct item numbers, sorted as strings.
  const groups = new Map<string, number>();
  for (let i = 0; i < each; i++) {
    const prefix = `${METRIC(rand)}:${COUNTRY(rand)}:`;
    groups.set(prefix, (groups.get(prefix) ?? 0) + 1);
  }
  const counters: StateRecord[] = [];
  for (const prefix of [...groups.keys()].sort()) {
    for (const item of itemNumbers(groups.get(prefix)!, rand)) {
      const t = time();
      const count = Math.floor(Math.exp(rand() * Math.log(2e6))); // log-uniform: most counts are small
      counters.push({
        key: slab.text(prefix + item),
        value: u64(slab, count),
        lsn: lsnAt(t, total),
        timestamp: t,
      });
    }
  }
  return {
    lsn: total,
    components: new Map([
      ['counters', { componentId: 'counters', records: counters }],
      ['dedup_cache', { componentId: 'dedup_cache', records: dedup }],
    ]),
  };
}

/**
 * About `count` distinct item numbers in [1, 5,000,000), in the byte order of their decimal strings, without
 * sorting strings: n with d digits sorts as n·10^(7−d), ties (a prefix: 100 < 1000) shorter first.
 */
function itemNumbers(count: number, rand: () => number): string[] {
  const order = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const n = 1 + int(rand, 4_999_999);
    const digits = String(n).length;
    order[i] = n * 10 ** (7 - digits) * 8 + digits;
  }
  order.sort();
  const items: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0 && order[i] === order[i - 1]) continue;
    const digits = order[i]! % 8;
    items.push(String((order[i]! - digits) / 8 / 10 ** (7 - digits)));
  }
  return items;
}
