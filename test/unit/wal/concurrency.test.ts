/**
 * Concurrent appends: many promises in flight get dense, unique LSNs, every batch keeps its LSNs
 * contiguous, and everything reads back as appended. (That a batch cut by a kill is all-or-nothing is
 * checked by crash.test.ts.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SegmentedWal } from '../../../src/wal';
import type { DecodedEntry, LogEntry, LogRecord } from '../../../src/wal/entry';
import type { WalOptions } from '../../../src/wal/wal-options';

const COMPONENTS = ['window_processor_1', 'join:orders.v2', 'agg-3', 'Sessionizer_7'];

/** Builds entries with sequences rising per component in the order they are made (= the call order). */
class EntryMaker {
  private readonly next = new Map<string, number>();
  private count = 0;

  make(): LogEntry {
    const n = this.count++;
    const componentId = COMPONENTS[n % COMPONENTS.length]!;
    const sequence = (this.next.get(componentId) ?? 0) + 1;
    this.next.set(componentId, sequence);
    const value = Buffer.alloc(n % 7 === 0 ? 2000 : 40 + (n % 90), n % 251);
    return {
      componentId,
      sequence,
      timestamp: 1_700_000_000_000_000 + n,
      changes: [
        { op: 'put', key: `key-${n}`, value },
        { op: 'delete', key: Buffer.from([n & 0xff, 0, 0xff]) },
      ],
      metadata: { n: String(n) },
    };
  }
}

/** A plain, cheaply comparable form of an entry (jest compares Buffers byte by byte, slowly). */
function plain(entry: LogEntry | DecodedEntry): unknown {
  const hex = (b: Buffer | Uint8Array | string): string =>
    (typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b)).toString('hex');
  return {
    componentId: entry.componentId,
    sequence: entry.sequence,
    timestamp: entry.timestamp,
    changes: entry.changes.map((c) =>
      c.op === 'put'
        ? { op: 'put', key: hex(c.key), value: hex(c.value) }
        : c.op === 'delete'
          ? { op: 'delete', key: hex(c.key) }
          : { op: 'clear' },
    ),
    metadata: { ...entry.metadata },
  };
}

async function readAll(wal: SegmentedWal, fromLsn: number, toLsn: number): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for await (const record of wal.read({ fromLsn, toLsn })) records.push(record);
  return records;
}

/** The records read back are exactly `entries` at `lsns`, in LSN order. */
function expectReadBack(records: LogRecord[], entries: LogEntry[], lsns: number[]): void {
  const byLsn = new Map(lsns.map((lsn, i) => [lsn, entries[i]!]));
  expect(records.map((r) => r.lsn)).toEqual([...lsns].sort((a, b) => a - b));
  for (const record of records) {
    for (const change of record.entry.changes) {
      if (change.op !== 'clear') expect(Buffer.isBuffer(change.key)).toBe(true);
      if (change.op === 'put') expect(Buffer.isBuffer(change.value)).toBe(true);
    }
  }
  expect(records.map((r) => plain(r.entry))).toEqual(records.map((r) => plain(byLsn.get(r.lsn)!)));
}

/** `lsns` are unique and, sorted, exactly first .. first + n - 1. */
function expectDense(lsns: number[], first: number): void {
  const sorted = [...lsns].sort((a, b) => a - b);
  expect(sorted).toEqual(Array.from({ length: lsns.length }, (_, i) => first + i));
}

/** Per component, LSNs rise with sequences (what enforceSequence needs of the order of concurrent calls). */
function expectSequenceOrder(entries: LogEntry[], lsns: number[]): void {
  const last = new Map<string, { sequence: number; lsn: number }>();
  const order = entries.map((entry, i) => ({ entry, lsn: lsns[i]! })).sort((a, b) => a.lsn - b.lsn);
  for (const { entry, lsn } of order) {
    const previous = last.get(entry.componentId);
    if (previous !== undefined) expect(entry.sequence).toBeGreaterThan(previous.sequence);
    last.set(entry.componentId, { sequence: entry.sequence, lsn });
  }
}

const variants: Array<[string, Partial<WalOptions>]> = [
  ['durable', { enableSync: true }],
  ['not synced', { enableSync: false }],
  // Small segments and small flushes: the appends span rotations and many group commits.
  [
    'durable, small segments and flushes',
    { enableSync: true, segmentSize: 64 * 1024, maxBatchSize: 16, bufferSize: 8192 },
  ],
];

describe.each(variants)('WAL concurrency (%s)', (_name, options) => {
  let dir: string;
  let wal: SegmentedWal;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-wal-concurrency-'));
    wal = await SegmentedWal.open(dir, { ...options, canDelete: () => false });
  });

  afterEach(async () => {
    await wal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives 1,000 concurrent appends dense unique LSNs and reads them back', async () => {
    const maker = new EntryMaker();
    // Something already in the log, so LSNs are checked from a point other than 1.
    const seedLsn = await wal.append(maker.make());
    expect(seedLsn).toBe(1);
    const first = wal.stats().nextLsn;
    expect(first).toBe(2);

    const entries = Array.from({ length: 1000 }, () => maker.make());
    const lsns = await Promise.all(entries.map((entry) => wal.append(entry)));

    expectDense(lsns, first);
    expectSequenceOrder(entries, lsns);
    expect(wal.stats().lastLsn).toBe(first + 999);
    expectReadBack(await readAll(wal, first, first + 999), entries, lsns);

    // And the same after a clean close and reopen.
    await wal.close();
    wal = await SegmentedWal.open(dir, { ...options, canDelete: () => false });
    expect(wal.stats().lastLsn).toBe(first + 999);
    expectReadBack(await readAll(wal, first, first + 999), entries, lsns);
  });

  it('keeps each batch contiguous when batches and single appends interleave', async () => {
    const maker = new EntryMaker();
    const calls: Array<{ entries: LogEntry[]; batch: boolean }> = [];
    for (let i = 0; i < 600; i++) {
      if (i % 4 === 0) {
        const size = 1 + ((i * 7) % 40);
        calls.push({ entries: Array.from({ length: size }, () => maker.make()), batch: true });
      } else {
        calls.push({ entries: [maker.make()], batch: false });
      }
    }
    const first = wal.stats().nextLsn;
    const results = await Promise.all(
      calls.map(async (call) =>
        call.batch ? wal.appendBatch(call.entries) : [await wal.append(call.entries[0]!)],
      ),
    );

    for (const [i, call] of calls.entries()) {
      const lsns = results[i]!;
      expect(lsns).toHaveLength(call.entries.length);
      // A batch occupies one contiguous run of LSNs, in the order of its entries.
      expect(lsns).toEqual(lsns.map((_, j) => lsns[0]! + j));
    }
    const entries = calls.flatMap((c) => c.entries);
    const lsns = results.flat();
    expectDense(lsns, first);
    expectSequenceOrder(entries, lsns);
    expectReadBack(await readAll(wal, first, first + lsns.length - 1), entries, lsns);
  });

  it('reads a sub-range inclusively at both ends while appends are in flight', async () => {
    const maker = new EntryMaker();
    const entries = Array.from({ length: 300 }, () => maker.make());
    const lsns = await Promise.all(entries.map((entry) => wal.append(entry)));
    const more = Promise.all(Array.from({ length: 300 }, () => wal.append(maker.make())));
    const records = await readAll(wal, 101, 200);
    expect(records.map((r) => r.lsn)).toEqual(Array.from({ length: 100 }, (_, i) => 101 + i));
    const inRange = lsns.flatMap((lsn, i) => (lsn >= 101 && lsn <= 200 ? [i] : []));
    expectReadBack(
      records,
      inRange.map((i) => entries[i]!),
      inRange.map((i) => lsns[i]!),
    );
    expectDense(await more, 301);
  });
});
