/**
 * Materialiser ingest from the WAL, as the checkpoint system does it (catchUp: `wal.readFrames` →
 * `StateMaterializer.applyFrame`, entries parsed in place): a SegmentedWal (product defaults, but no fdatasync and no preallocation: the
 * log is built, not measured) holding the state as one put per entry — what a stream processor appends —
 * components interleaved; then, timed, the whole log read into an empty materialiser. MB/s of changes:
 * keys + values applied per second. Also the read alone (no apply), to show where the time goes, and the
 * machine's limit: the same bytes copied into fresh memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { StateMaterializer } from '../../src/checkpoint/state/state-materializer';
import type { Snapshot } from '../../src/checkpoint/state/state-types';
import { SegmentedWal, type LogEntry } from '../../src/wal';

export interface IngestResult {
  entries: number;
  /** Keys + values of the puts. */
  changeBytes: number;
  walBytes: number;
  /** Read + apply: the fastest of `runs`. */
  seconds: number;
  mbPerSec: number;
  entriesPerSec: number;
  /** Read alone: frames read and CRC-checked, entries decoded into records (what `wal.read` costs). */
  readSeconds: number;
  readMbPerSec: number;
  /**
   * The limit for any in-memory state: the change bytes copied into newly allocated 1 MiB buffers (best
   * of 3, like the ingest: later runs may get memory the earlier ones freed). Memory the process never
   * touched costs ~10 µs a 4 KiB page on this VM (100 MB: 260–410 ms), which bounds a materialiser that
   * must hold new bytes however little work it does per record.
   */
  freshCopyMbPerSec: number;
  ratioToFreshCopy: number;
}

const BATCH = 1000;

export async function measureIngest(snapshot: Snapshot, baseDir: string, runs = 2): Promise<IngestResult> {
  const dir = fs.mkdtempSync(path.join(baseDir, 'tidemark-ingest-'));
  const wal = await SegmentedWal.open(dir, { enableSync: false, preallocate: false });
  try {
    const { entries, changeBytes } = await fill(wal, snapshot);
    const walBytes = wal.segments().reduce((sum, s) => sum + s.sizeBytes, 0);
    const readSeconds = await timed(async () => {
      for await (const records of wal.readBatches({ fromLsn: 1 })) void records;
    });
    let seconds = Infinity;
    for (let r = 0; r < runs; r++) {
      let materializer: StateMaterializer | undefined = new StateMaterializer();
      seconds = Math.min(
        seconds,
        await timed(async () => {
          for await (const frame of wal.readFrames({ fromLsn: 1 }, { transient: true })) {
            materializer!.applyFrame(frame);
          }
        }),
      );
      if (materializer.lsn !== entries) throw new Error(`ingest ended at LSN ${materializer.lsn}`);
      materializer = undefined;
    }
    const freshCopyMbPerSec = changeBytes / 1e6 / freshCopySeconds(changeBytes);
    return {
      freshCopyMbPerSec,
      ratioToFreshCopy: changeBytes / 1e6 / seconds / freshCopyMbPerSec,
      entries,
      changeBytes,
      walBytes,
      seconds,
      mbPerSec: changeBytes / 1e6 / seconds,
      entriesPerSec: entries / seconds,
      readSeconds,
      readMbPerSec: changeBytes / 1e6 / readSeconds,
    };
  } finally {
    await wal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Fastest of 3: `bytes` copied from a 1 MiB source into 1 MiB buffers allocated for the purpose. */
function freshCopySeconds(bytes: number): number {
  const source = Buffer.alloc(1 << 20, 0x5a);
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    let pages: Buffer[] | undefined = [];
    const started = performance.now();
    for (let left = bytes; left > 0; left -= source.length) {
      const page = Buffer.allocUnsafeSlow(source.length);
      source.copy(page, 0, 0, Math.min(left, source.length));
      pages.push(page);
    }
    best = Math.min(best, (performance.now() - started) / 1000);
    pages = undefined;
  }
  return best;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** One put per entry, one record of each component in turn, sequences rising per component. */
async function fill(
  wal: SegmentedWal,
  snapshot: Snapshot,
): Promise<{ entries: number; changeBytes: number }> {
  const components = [...snapshot.components.values()];
  const longest = Math.max(0, ...components.map((c) => c.records.length));
  let batch: LogEntry[] = [];
  let entries = 0;
  let changeBytes = 0;
  for (let i = 0; i < longest; i++) {
    for (const { componentId, records } of components) {
      const record = records[i];
      if (record === undefined) continue;
      const change = { op: 'put' as const, key: record.key, value: record.value };
      batch.push({ componentId, sequence: i + 1, timestamp: record.timestamp, changes: [change] });
      changeBytes += record.key.length + record.value.length;
      if (batch.length === BATCH) {
        entries += (await wal.appendBatch(batch)).length;
        batch = [];
      }
    }
  }
  if (batch.length > 0) entries += (await wal.appendBatch(batch)).length;
  return { entries, changeBytes };
}
