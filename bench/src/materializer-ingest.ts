/**
 * Materialiser ingest from the WAL, as the checkpoint system does it (catchUp: `wal.readFrames` →
 * `StateMaterializer.applyFrame`, entries parsed in place): a SegmentedWal (product defaults, but no fdatasync and no preallocation: the
 * log is built, not measured) holding the state as one put per entry — what a stream processor appends —
 * components interleaved; then, timed on a thread of its own (ingest-worker.ts), the whole log read into an
 * empty materialiser. MB/s of changes:
 * keys + values applied per second. Also the read alone (no apply), to show where the time goes, and the
 * machine's limit: the same bytes copied into fresh memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Snapshot } from '../../src/checkpoint/state/state-types';
import { SegmentedWal, type LogEntry } from '../../src/wal';
import type { IngestTask, IngestTimings } from './ingest-worker';

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
   * The limit for any in-memory state: the change bytes copied into newly allocated 1 MiB buffers, once,
   * on the ingest's thread before it ingests. Memory a process never touched costs ~10 µs a 4 KiB page on
   * this VM (100 MB: 260–410 ms), which bounds a materialiser that must hold new bytes however little work
   * it does per record; the allocator may hand back pages freed earlier, which makes this limit higher.
   */
  freshCopyMbPerSec: number;
  ratioToFreshCopy: number;
}

const BATCH = 1000;
const WORKER = path.join(__dirname, 'ingest-worker.js');

export async function measureIngest(snapshot: Snapshot, baseDir: string, runs = 2): Promise<IngestResult> {
  const dir = fs.mkdtempSync(path.join(baseDir, 'tidemark-ingest-'));
  try {
    const wal = await SegmentedWal.open(dir, { enableSync: false, preallocate: false });
    let filled: { entries: number; changeBytes: number; walBytes: number };
    try {
      const { entries, changeBytes } = await fill(wal, snapshot);
      filled = { entries, changeBytes, walBytes: wal.segments().reduce((sum, s) => sum + s.sizeBytes, 0) };
    } finally {
      await wal.close();
    }
    const { entries, changeBytes, walBytes } = filled;
    const timings = await inWorker({ dir, runs, entries, changeBytes });
    const mbPerSec = changeBytes / 1e6 / timings.seconds;
    const freshCopyMbPerSec = changeBytes / 1e6 / timings.freshCopySeconds;
    return {
      entries,
      changeBytes,
      walBytes,
      seconds: timings.seconds,
      mbPerSec,
      entriesPerSec: entries / timings.seconds,
      readSeconds: timings.readSeconds,
      readMbPerSec: changeBytes / 1e6 / timings.readSeconds,
      freshCopyMbPerSec,
      ratioToFreshCopy: mbPerSec / freshCopyMbPerSec,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function inWorker(task: IngestTask): Promise<IngestTimings> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: task });
    worker.once(
      'message',
      (answer: { ok: true; timings: IngestTimings } | { ok: false; message: string }) => {
        void worker.terminate();
        if (answer.ok) resolve(answer.timings);
        else reject(new Error(`ingest worker: ${answer.message}`));
      },
    );
    worker.once('error', reject);
  });
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
