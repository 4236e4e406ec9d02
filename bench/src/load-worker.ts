/**
 * A checkpoint loaded back into a materialiser — what a node's open does before it replays its log, its
 * blocks decoded on worker threads as open-node.ts wires it — timed on a thread of its own: its heap holds
 * the loaded state and nothing else, as a service's would, not the bench's generated state (millions of
 * Buffers every major GC would mark again; see ingest-worker.ts). Loaded by path:
 * bench/dist/bench/src/load-worker.js; `loadInWorker` starts it.
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { CheckpointCatalog } from '../../src/checkpoint/catalog/catalog';
import type { CatalogData } from '../../src/checkpoint/catalog/catalog-file';
import { CheckpointMerger } from '../../src/checkpoint/merge';
import { StateMaterializer } from '../../src/checkpoint/state/state-materializer';
import { loadCheckpointState } from '../../src/checkpoint/write/checkpoint-reader';
import { BlockPool } from '../../src/recovery/block-pool';
import { LocalFileStore } from '../../src/storage';

export interface LoadTask {
  root: string;
  prefix: string;
  catalog: CatalogData;
  checkpointId: number;
  lsn: number;
  runs: number;
}

export interface LoadTimings {
  /** The fastest run: loadCheckpointState + StateMaterializer.fromSnapshot. */
  seconds: number;
  /** In that run, loadCheckpointState alone (fetch, check, decompress, decode, merge). */
  readSeconds: number;
  /** The first run, whose memory was new to the thread (a node's open is one such run). */
  firstSeconds: number;
}

const WORKER = path.join(__dirname, 'load-worker.js');

/** Runs `task` on a new thread; resolves with its timings. */
export function loadInWorker(task: LoadTask): Promise<LoadTimings> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: task });
    worker.once('message', (answer: { ok: true; timings: LoadTimings } | { ok: false; message: string }) => {
      void worker.terminate();
      if (answer.ok) resolve(answer.timings);
      else reject(new Error(`load worker: ${answer.message}`));
    });
    worker.once('error', reject);
  });
}

async function main(task: LoadTask): Promise<LoadTimings> {
  const store = new LocalFileStore({ basePath: task.root, syncWrites: false });
  const catalog = new CheckpointCatalog(task.catalog);
  const merger = new CheckpointMerger({ mergeStrategy: 'sequential' });
  // As a node opens: blocks checked and decoded on worker threads (open-node.ts), one per core.
  const decoder = new BlockPool(availableParallelism());
  let best = { seconds: Infinity, readSeconds: Infinity };
  let firstSeconds = 0;
  try {
    for (let r = 0; r < task.runs; r++) {
      const started = performance.now();
      const snapshot = await loadCheckpointState(
        { store, prefix: task.prefix, catalog, merger, decoder },
        task.checkpointId,
      );
      const read = performance.now();
      const loaded = StateMaterializer.fromSnapshot(snapshot, { adopt: true });
      const seconds = (performance.now() - started) / 1000;
      if (loaded.lsn !== task.lsn) throw new Error(`loaded LSN ${loaded.lsn}, expected ${task.lsn}`);
      if (r === 0) firstSeconds = seconds;
      if (seconds < best.seconds) best = { seconds, readSeconds: (read - started) / 1000 };
    }
    return { ...best, firstSeconds };
  } finally {
    await merger.close();
    await decoder.close();
  }
}

if (parentPort !== null && (workerData as Partial<LoadTask> | undefined)?.root !== undefined) {
  main(workerData as LoadTask).then(
    (timings) => parentPort!.postMessage({ ok: true, timings }),
    (error: unknown) => parentPort!.postMessage({ ok: false, message: String(error) }),
  );
}
