/**
 * One whole node — WAL, catalog, checkpoint system, tiering — over a store and a job queue that the test
 * chooses, as the service wires it (src/tiering/nest/tiering.module.ts) but without Nest.
 */
import { CheckpointCatalog } from '../../src/checkpoint/catalog/catalog';
import { CatalogFile } from '../../src/checkpoint/catalog/catalog-file';
import { IncrementalCheckpointSystem } from '../../src/checkpoint/incremental-checkpoint-system';
import { CheckpointMerger } from '../../src/checkpoint/merge/checkpoint-merger';
import type { ObjectStore } from '../../src/storage';
import { InProcessJobQueue } from '../../src/jobs/in-process-job-queue';
import type { JobQueue } from '../../src/jobs/job-queue';
import { JobRunner } from '../../src/jobs/job-runner';
import { LocalLeaseProvider, type LeaseProvider } from '../../src/tiering/lease';
import { UploadedSegments } from '../../src/wal/archive/uploaded-segments';
import { DEFAULT_TIERING_CONFIG, type TieringConfig } from '../../src/tiering/tiering-config';
import { TieringNode } from '../../src/tiering/tiering-node';
import { SegmentedWal, type LogEntry } from '../../src/wal';
import { WalRetentionGuard } from '../../src/wal/wal-retention-guard';

export interface TestNode {
  dataDir: string;
  wal: SegmentedWal;
  catalog: CheckpointCatalog;
  system: IncrementalCheckpointSystem;
  uploads: UploadedSegments;
  queue: JobQueue;
  tiering: TieringNode;
  close(): Promise<void>;
}

export interface TestNodeOptions {
  nodeId?: string;
  segmentSize?: number;
  retentionSegments?: number;
  tiering?: Partial<Omit<TieringConfig, 'upload'>> & { upload?: Partial<TieringConfig['upload']> };
  /** Builds the queue around the node's runner (default: in process). */
  queue?: (runner: JobRunner) => JobQueue;
  leases?: LeaseProvider;
  /** The store the checkpoint system writes through (default: `store`). */
  checkpointStore?: ObjectStore;
}

export async function openTestNode(
  dataDir: string,
  store: ObjectStore,
  options: TestNodeOptions = {},
): Promise<TestNode> {
  const guard = new WalRetentionGuard();
  const wal = await SegmentedWal.open(`${dataDir}/wal`, {
    segmentSize: options.segmentSize ?? 16 * 1024,
    retentionSegments: options.retentionSegments ?? 0,
    preallocate: false,
    canDelete: (segment) => guard.canDelete(segment),
  });
  const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dataDir));
  const merger = new CheckpointMerger({ maxChainLength: 3 });
  const nodeId = options.nodeId ?? 'node-1';
  const system = await IncrementalCheckpointSystem.open(
    { wal, store: options.checkpointStore ?? store, catalog, merger },
    { nodeId, checkpointInterval: 0, cleanupInterval: 0, targetBlockSize: 4096 },
  );
  const uploads = await UploadedSegments.open(dataDir);
  const runner = new JobRunner();
  const queue = options.queue?.(runner) ?? new InProcessJobQueue(runner);
  const leases = options.leases ?? new LocalLeaseProvider();
  const tiering = new TieringNode(
    { wal, store, catalog, system, uploads, queue, runner, leases },
    {
      ...DEFAULT_TIERING_CONFIG,
      ...options.tiering,
      upload: {
        ...DEFAULT_TIERING_CONFIG.upload,
        packTargetBytes: 32 * 1024,
        maxPackDelayMs: 0,
        reconcileIntervalMs: 100,
        ...options.tiering?.upload,
      },
      retention: { ...DEFAULT_TIERING_CONFIG.retention, intervalMs: 0, ...options.tiering?.retention },
      gc: { ...DEFAULT_TIERING_CONFIG.gc, intervalMs: 0, fullSweepIntervalMs: 0, ...options.tiering?.gc },
      nodeId,
      prefix: 'tidemark',
      compactionIntervalMs: 0,
    },
  );
  guard.set((segment) => tiering.canDeleteSegment(segment));
  system.onCheckpointCommitted(() => void wal.cleanup().catch(() => undefined));
  await tiering.start();
  return {
    dataDir,
    wal,
    catalog,
    system,
    uploads,
    queue,
    tiering,
    close: async () => {
      tiering.stopScheduling();
      await queue.close();
      await tiering.stop();
      await system.stop();
      await merger.close();
      guard.set(undefined);
      await wal.close();
      await leases.close();
      await uploads.close();
    },
  };
}

/** Entries over a few components; keys repeat so that state is smaller than the log. */
export function entryAt(sequence: number, component = `c${sequence % 3}`): LogEntry {
  const key = `k${sequence % 211}`;
  const change =
    sequence % 17 === 0
      ? { op: 'delete' as const, key }
      : { op: 'put' as const, key, value: Buffer.alloc(60 + (sequence % 50), sequence & 0xff) };
  return { componentId: component, sequence, timestamp: 1_700_000_000_000_000 + sequence, changes: [change] };
}

export async function appendEntries(wal: SegmentedWal, from: number, count: number): Promise<void> {
  const entries: LogEntry[] = [];
  for (let s = from; s < from + count; s++) entries.push(entryAt(s));
  await wal.appendBatch(entries);
}

export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
