/**
 * A whole node in steady state for "10 minutes" on a simulated clock: the WAL appended to continuously,
 * segments sealed and shipped by `segment-upload` jobs, a checkpoint every 60 s, retention every 10 s,
 * compaction and GC every 60 s, the reconciler every 30 s — and what that costs in store requests, LIST
 * above all (goal 0). The node is opened by openNode, as the service and the tests open theirs; its own
 * periodic timers are off (interval 0) and the benchmark enqueues
 * the jobs itself at the simulated times, with the scheduler's job ids. The full GC sweep keeps its 24 h
 * interval, so it must not run in the window.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBackend, type StoreOperation } from '../../src/storage';
import { InProcessJobQueue } from '../../src/jobs/in-process-job-queue';
import type { JobContext, JobData, JobName } from '../../src/jobs/job-queue';
import { JobRunner } from '../../src/jobs/job-runner';
import { configSchema } from '../../src/config';
import { systemClock, type Clock } from '../../src/lib/clock';
import { openNode } from '../../src/node/open-node';
import { LocalLeaseProvider } from '../../src/tiering/lease/local-lease-provider';
import { CountingStore, totalOf, type KindCounts } from './tiering-bench-store';
import { EntrySource, MiB } from './tiering-bench-upload';

export interface SteadyOptions {
  simulatedSeconds: number;
  entriesPerSecond: number;
  components: number;
  keysPerComponent: number;
  segmentSize: number;
  packTargetBytes: number;
}

/** Simulated seconds between runs of each periodic task. */
export const STEADY_SCHEDULE = {
  checkpointEverySec: 60,
  retentionEverySec: 10,
  gcEverySec: 60,
  compactionEverySec: 60,
  reconcileEverySec: 30,
};
/** Shorter than the defaults so that every maintenance path deletes something inside 10 minutes. */
const STEADY_POLICY = { keepFullCheckpoints: 2, pitrWindowMs: 0, gcGraceMs: 30_000, mergerMaxChainLength: 2 };

interface JobStats {
  runs: number;
  failures: number;
  skippedNotHolder: number;
  seconds: number;
}

/** Counts the jobs the queue hands to the node's runner, and keeps what maintenance jobs report. */
class CountingRunner extends JobRunner {
  constructor(private readonly inner: JobRunner) {
    super();
  }

  readonly jobs = new Map<string, JobStats>();
  fullSweeps = 0;
  expiredCheckpoints = 0;
  deletedWalPacks = 0;
  deletedBlocks = 0;
  waitingBlocks = 0;
  merges = 0;

  override async run(name: string, data: JobData, context: JobContext): Promise<unknown> {
    const stats = this.jobs.get(name) ?? { runs: 0, failures: 0, skippedNotHolder: 0, seconds: 0 };
    this.jobs.set(name, stats);
    stats.runs++;
    if (name === 'garbage-collection' && data.fullSweep === true) this.fullSweeps++;
    const started = performance.now();
    try {
      const result = (await this.inner.run(name, data, context)) as Record<string, unknown> | null;
      if (result && 'skipped' in result) stats.skippedNotHolder++;
      if (name === 'retention' && result) {
        this.expiredCheckpoints += (result.expiredCheckpoints as number[] | undefined)?.length ?? 0;
        this.deletedWalPacks += (result.deletedWalPacks as number | undefined) ?? 0;
      }
      if (name === 'garbage-collection' && result && !('skipped' in result)) {
        this.deletedBlocks += result.deletedBlocks as number;
        this.waitingBlocks = result.waitingBlocks as number;
      }
      if (name === 'checkpoint-compaction' && result && result.merged != null) this.merges++;
      return result;
    } catch (error) {
      stats.failures++;
      throw error;
    } finally {
      stats.seconds += (performance.now() - started) / 1000;
    }
  }
}

export interface SteadyResult {
  simulatedSeconds: number;
  realSeconds: number;
  entries: number;
  walBytes: number;
  uploadedBytes: number;
  packsUploaded: number;
  segmentsSealed: number;
  /** Sealed segments still waiting for their pack when the window closed. */
  segmentsPending: number;
  checkpoints: { full: number; incremental: number; merged: number; inCatalogAtEnd: number };
  localSegments: { deleted: number; atEnd: number };
  retention: { expiredCheckpoints: number; deletedWalPacks: number };
  /** Blocks GC deleted; unreferenced ones still in their grace period at its last run; full sweeps run. */
  gc: { deletedBlocks: number; waitingBlocks: number; fullSweepRuns: number };
  jobs: Record<string, JobStats>;
  /** ObjectStore calls (InstrumentedStore: every attempt). */
  requests: Record<StoreOperation, number>;
  /** The same calls by kind of key (DELETE: keys). */
  requestsByKind: Record<StoreOperation, KindCounts>;
  /** Pack PUTs per MiB of log shipped; and every PUT (blocks and manifests too) per MiB of log shipped. */
  walPutsPerMiB: number;
  allPutsPerMiBOfLog: number;
  checkpointBytesPut: number;
  settings: SteadyOptions & typeof STEADY_SCHEDULE & typeof STEADY_POLICY;
}

export async function runSteady(root: string, options: SteadyOptions): Promise<SteadyResult> {
  const dir = await fs.promises.mkdtemp(path.join(root, 'tidemark-bench-steady-'));
  const dataDir = path.join(dir, 'node');
  const backend = createBackend({
    backend: 'LocalFile',
    basePath: path.join(dir, 'store'),
    syncWrites: true,
  });
  const store = new CountingStore(backend.store);
  const started = Date.now();
  let simulatedMs = 0;
  const now = () => started + simulatedMs;
  // Simulated wall time for the whole node (manifests, packs, jobs, retention windows, GC grace);
  // monotonic time and timers stay the machine's (leases, drain timeouts).
  const clock: Clock = { ...systemClock, now };
  const settings = configSchema.parse({
    dataDir,
    wal: { segmentSize: options.segmentSize },
    storage: { backend: 'LocalFile', basePath: path.join(dir, 'store') },
    checkpoint: { nodeId: 'node-1', checkpointInterval: 0, cleanupInterval: 0 },
    merger: { maxChainLength: STEADY_POLICY.mergerMaxChainLength },
    tiering: {
      // The benchmark reconciles and schedules on the simulated clock itself.
      upload: { packTargetBytes: options.packTargetBytes, reconcileIntervalMs: 0 },
      retention: {
        keepFullCheckpoints: STEADY_POLICY.keepFullCheckpoints,
        pitrWindowMs: STEADY_POLICY.pitrWindowMs,
        intervalMs: 0,
      },
      gc: { graceMs: STEADY_POLICY.gcGraceMs, intervalMs: 0 },
    },
  });
  let counted: CountingRunner | undefined;
  const node = await openNode(settings, {
    store,
    clock,
    queue: (runner) => new InProcessJobQueue((counted = new CountingRunner(runner)), { clock }),
    // The lease lives in real time: its renewals run on real timers, so its expiry must too.
    leases: new LocalLeaseProvider(),
  });
  const runner = counted!;
  const { wal, system, tiering, queue, catalog } = node;
  const checkpoints = { full: 0, incremental: 0 };
  let sealedBytes = 0;
  let sealedSegments = 0;
  wal.onSegmentSealed((segment) => {
    sealedBytes += segment.sizeBytes;
    sealedSegments++;
  });
  try {
    await node.start();
    for (let waited = 0; tiering.tenure() === undefined; waited += 10) {
      if (waited > 10_000) throw new Error('the node did not acquire its maintenance lease');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const schedule = (name: JobName, everySec: number) =>
      queue.enqueue(name, {}, { jobId: `${name}.${Math.floor(now() / (everySec * 1000))}` });

    const source = new EntrySource(options.components, options.keysPerComponent);
    const realStarted = performance.now();
    const s = STEADY_SCHEDULE;
    for (let second = 1; second <= options.simulatedSeconds; second++) {
      // A second's entries in batches of 100 from concurrent appenders (group commit merges them).
      const batches: Promise<number[]>[] = [];
      for (let left = options.entriesPerSecond; left > 0; left -= 100) {
        batches.push(wal.appendBatch(source.next(Math.min(100, left), now() * 1000)));
      }
      await Promise.all(batches);
      simulatedMs = second * 1000;
      if (second % s.reconcileEverySec === 0) await tiering.reconciler.reconcile();
      if (second % s.retentionEverySec === 0) await schedule('retention', s.retentionEverySec);
      if (second % s.checkpointEverySec === 0) {
        const summary = await system.checkpoint({ kind: 'auto' });
        checkpoints[summary.kind === 'full' ? 'full' : 'incremental']++;
        await schedule('garbage-collection', s.gcEverySec);
      }
      if (second % s.compactionEverySec === s.compactionEverySec / 2) {
        await schedule('checkpoint-compaction', s.compactionEverySec);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await queue.drain(600_000); // what the window set going finishes inside it
    const realSeconds = (performance.now() - realStarted) / 1000;

    const counts = backend.snapshot();
    const requests = Object.fromEntries(
      Object.entries(counts.operations).map(([op, c]) => [op, c.calls]),
    ) as Record<StoreOperation, number>;
    const byKind = store.snapshot().requests;
    const { putBytes } = store.snapshot();
    const walStats = wal.stats();
    const active = wal.segments().find((segment) => !segment.sealed);
    return {
      simulatedSeconds: options.simulatedSeconds,
      realSeconds,
      entries: walStats.appendedEntries,
      walBytes: sealedBytes + (active?.sizeBytes ?? 0),
      uploadedBytes: putBytes.wal,
      packsUploaded: byKind.PUT.wal,
      segmentsSealed: sealedSegments,
      segmentsPending: tiering.shipper.pending().length,
      checkpoints: {
        ...checkpoints,
        merged: runner.merges,
        inCatalogAtEnd: catalog.list().length,
      },
      localSegments: { deleted: walStats.deletedSegments, atEnd: walStats.segments },
      retention: { expiredCheckpoints: runner.expiredCheckpoints, deletedWalPacks: runner.deletedWalPacks },
      gc: {
        deletedBlocks: runner.deletedBlocks,
        waitingBlocks: runner.waitingBlocks,
        fullSweepRuns: runner.fullSweeps,
      },
      jobs: Object.fromEntries(runner.jobs),
      requests,
      requestsByKind: byKind,
      walPutsPerMiB: byKind.PUT.wal / (putBytes.wal / MiB || 1),
      allPutsPerMiBOfLog: totalOf(byKind.PUT) / (putBytes.wal / MiB || 1),
      checkpointBytesPut: putBytes.blocks + putBytes.manifests,
      settings: { ...options, ...STEADY_SCHEDULE, ...STEADY_POLICY },
    };
  } finally {
    await node.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
