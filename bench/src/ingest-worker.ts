/**
 * The timed part of materializer-ingest.ts, on a thread of its own: its heap holds the materialiser and
 * nothing else, as a service's would — not the bench's generated state (millions of Buffers, which every
 * major GC the materialiser's allocations set off would mark again). Loaded by path:
 * bench/dist/bench/src/ingest-worker.js. Opens the WAL at `dir`, answers with the timings.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { StateMaterializer } from '../../src/checkpoint/state/state-materializer';
import { SegmentedWal } from '../../src/wal';

export interface IngestTask {
  dir: string;
  runs: number;
  entries: number;
  changeBytes: number;
}

export interface IngestTimings {
  /** Read + apply: the fastest of the runs. */
  seconds: number;
  readSeconds: number;
  freshCopySeconds: number;
}

async function main(task: IngestTask): Promise<IngestTimings> {
  const copySeconds = freshCopySeconds(task.changeBytes);
  const wal = await SegmentedWal.open(task.dir, { enableSync: false, preallocate: false });
  try {
    const readSeconds = await timed(async () => {
      for await (const records of wal.readBatches({ fromLsn: 1 })) void records;
    });
    let seconds = Infinity;
    for (let r = 0; r < task.runs; r++) {
      let materializer: StateMaterializer | undefined = new StateMaterializer();
      seconds = Math.min(
        seconds,
        await timed(async () => {
          for await (const frame of wal.readFrames({ fromLsn: 1 }, { transient: true })) {
            materializer!.applyFrame(frame);
          }
        }),
      );
      if (materializer.lsn !== task.entries) throw new Error(`ingest ended at LSN ${materializer.lsn}`);
      materializer = undefined;
    }
    return { seconds, readSeconds, freshCopySeconds: copySeconds };
  } finally {
    await wal.close();
  }
}

/**
 * `bytes` copied from a 1 MiB source into 1 MiB buffers allocated for the purpose, once, before any
 * ingest on this thread: memory new to it, as the materialiser's state is (later runs would get pages
 * freed by the earlier ones, and measure only the copy).
 */
function freshCopySeconds(bytes: number): number {
  const source = Buffer.alloc(1 << 20, 0x5a);
  const pages: Buffer[] = [];
  const started = performance.now();
  for (let left = bytes; left > 0; left -= source.length) {
    const page = Buffer.allocUnsafeSlow(source.length);
    source.copy(page, 0, 0, Math.min(left, source.length));
    pages.push(page);
  }
  return (performance.now() - started) / 1000;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

main(workerData as IngestTask).then(
  (timings) => parentPort!.postMessage({ ok: true, timings }),
  (error: unknown) => parentPort!.postMessage({ ok: false, message: String(error) }),
);
