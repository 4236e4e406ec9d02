import { promises as fs } from 'node:fs';
import { CheckpointCatalog } from '../checkpoint/catalog/catalog';
import { CatalogFile } from '../checkpoint/catalog/catalog-file';
import { IncrementalCheckpointSystem } from '../checkpoint/incremental-checkpoint-system';
import { availableParallelism } from 'node:os';
import { WorkerBlockEncoder } from '../checkpoint/block/block-encoder';
import { CheckpointMerger } from '../checkpoint/merge/checkpoint-merger';
import type { TidemarkConfig } from '../config/config.schema';
import { InProcessJobQueue } from '../jobs/in-process-job-queue';
import type { JobQueue } from '../jobs/job-queue';
import { JobRunner } from '../jobs/job-runner';
import { systemClock, type Clock } from '../lib/clock';
import { silentLogger, type Logger } from '../lib/logger';
import { BlockPool } from '../recovery/block-pool';
import { RecoveryEngine } from '../recovery/recovery-engine';
import { createBackend } from '../storage/create-backend';
import type { ObjectStore } from '../storage/object-store';
import { LocalLeaseProvider } from '../tiering/lease/local-lease-provider';
import type { LeaseProvider } from '../tiering/lease/lease-provider';
import { TieringNode } from '../tiering/tiering-node';
import { DirLock, SegmentedWal } from '../wal';
import { UploadedSegments } from '../wal/archive';
import { openCoordinator } from './open-coordinator';
import { SegmentRetention } from './segment-retention';
import { TidemarkNode } from './tidemark-node';

/** Loggers by module (`wal`, `checkpoint`, `tiering`, `storage`): pino children in the service. */
export interface NodeLoggers {
  child(module: string): Logger;
}

/**
 * What a node is built from besides its settings: the adapters behind its ports. Each has a default for
 * the embedded mode — the store the settings name, jobs in process (BullMQ, with workers in this process,
 * when `tiering.redisUrl` is set), a local lease (a Redis lease with `redisUrl`), silent logs, the
 * system clock.
 */
export interface NodeComponents {
  store?: ObjectStore;
  /** Builds the queue around the node's job runner (the service passes a BullMQ producer; its workers are Nest's). */
  queue?: (runner: JobRunner) => JobQueue;
  leases?: LeaseProvider;
  loggers?: NodeLoggers;
  /** The one clock every part keeps time on (a simulation or a test sets the pace with its own). */
  clock?: Clock;
}

const silentLoggers: NodeLoggers = { child: () => silentLogger };
const DATA_DIRECTORY = { what: 'data directory', owner: 'node' };

/**
 * Opens one node from settings and components — the one place a node is wired (the service, the benchmarks
 * and the tests' whole-node fixture come here; `tidemark recover` reads a node's data through
 * open-recovery-reader.ts instead, changing nothing): first the data directory's lock (one node per
 * directory, and nothing in it read before that), the catalog and the uploads record, so that the segment
 * retention policy exists before the WAL that asks it; then the WAL, the checkpoint system (a new fencing
 * token, the state rebuilt from the newest checkpoint plus the WAL), the job queue and tiering, the Raft
 * coordinator (its log in `{dataDir}/raft`), and a recovery engine over all of it. Nothing runs in the background until `start()` (job workers included);
 * `close()` undoes it all in order.
 */
export async function openNode(
  settings: TidemarkConfig,
  components: NodeComponents = {},
): Promise<TidemarkNode> {
  const loggers = components.loggers ?? silentLoggers;
  const clock = components.clock ?? systemClock;
  // One node per data directory, and nothing in it read (or repaired) before that is sure.
  await fs.mkdir(settings.dataDir, { recursive: true });
  const lock = await DirLock.acquire(settings.dataDir, DATA_DIRECTORY);
  const opened: { close(): Promise<unknown> }[] = [{ close: () => lock.release() }];
  try {
    const store =
      components.store ?? createBackend(settings.storage, { logger: loggers.child('storage'), clock }).store;
    const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(settings.dataDir));
    const uploads = await UploadedSegments.open(settings.dataDir);
    opened.push(uploads);
    const retention = new SegmentRetention(uploads, catalog);
    const { dir, ...walOptions } = settings.wal;
    const wal = await SegmentedWal.open(dir, {
      ...walOptions,
      canDelete: (segment) => retention.canDelete(segment),
      logger: loggers.child('wal'),
      clock,
    });
    opened.push(wal);
    const merger = new CheckpointMerger(settings.merger);
    opened.push(merger);
    // Checkpoint blocks are encoded and compressed on worker threads (in a build; inline from sources).
    const encoder = WorkerBlockEncoder.create(availableParallelism());
    opened.push(encoder);
    // …and the newest checkpoint's blocks checked and decoded on worker threads when the node opens.
    const decoder = new BlockPool(availableParallelism());
    opened.push(decoder);
    const prefix = settings.storage.prefix;
    const nodeId = settings.checkpoint.nodeId;
    const system = await IncrementalCheckpointSystem.open(
      { wal, store, catalog, merger, encoder, decoder, logger: loggers.child('checkpoint'), clock },
      // Chain compaction runs as a tiering job (at checkpoint.cleanupInterval), not on the system's timer.
      { ...settings.checkpoint, cleanupInterval: 0, prefix },
    );
    opened.push({ close: () => system.stop() });
    const runner = new JobRunner(loggers.child('tiering'));
    const jobs = components.queue
      ? { queue: components.queue(runner) }
      : defaultJobs(settings, runner, clock);
    const queue = jobs.queue;
    opened.push(queue);
    const leases = components.leases ?? defaultLeases(settings, clock);
    opened.push(leases);
    const tiering = new TieringNode(
      {
        ...{ wal, store, catalog, system, uploads, queue, runner, leases },
        logger: loggers.child('tiering'),
        clock,
      },
      {
        ...settings.tiering,
        nodeId,
        prefix,
        compactionIntervalMs: settings.checkpoint.cleanupInterval,
      },
    );
    const coordinator = await openCoordinator(settings, clock, loggers.child('coordination'), {
      system,
      store,
    });
    opened.push(coordinator.raft);
    const hint = coordinator.leaderHint?.hint;
    if (hint !== undefined) opened.push(hint);
    const recoveryMerger = new CheckpointMerger(settings.merger);
    const recovery = new RecoveryEngine(
      { store, prefix, nodeId, catalog, wal, uploads, clock },
      recoveryMerger,
      settings.recovery,
    );
    return new TidemarkNode(
      {
        ...{ settings, store, catalog, uploads, retention, wal, merger, system },
        ...{ runner, queue, leases, tiering, recovery, coordinator, clock, startJobs: jobs.startWorkers },
        releaseDataDir: () => lock.release(),
        blockPools: [encoder, decoder],
      },
      recoveryMerger,
      loggers.child('tiering'),
    );
  } catch (error) {
    for (const part of opened.reverse()) await part.close().catch(() => undefined);
    throw error;
  }
}

/**
 * In process, or BullMQ when Redis is configured — with its workers in this process, started with the node
 * (a service that runs them as Nest WorkerHosts passes its own queue instead).
 */
function defaultJobs(
  settings: TidemarkConfig,
  runner: JobRunner,
  clock: Clock,
): { queue: JobQueue; startWorkers?: () => void } {
  const { redisUrl } = settings.tiering;
  if (redisUrl === undefined) return { queue: new InProcessJobQueue(runner, { clock }) };
  const queue = new (loadBullMq().BullMqJobQueue)({ redisUrl, prefix: queuePrefix(settings), clock });
  return { queue, startWorkers: () => queue.startWorkers(runner) };
}

function defaultLeases(settings: TidemarkConfig, clock: Clock): LeaseProvider {
  const { redisUrl, redisKeyPrefix } = settings.tiering;
  if (redisUrl === undefined) return new LocalLeaseProvider({ clock });
  return new (loadRedisLease().RedisLeaseProvider)({
    url: redisUrl,
    keyPrefix: `${redisKeyPrefix}:`,
    clock,
  });
}

// BullMQ and ioredis load only when Redis is configured: an embedded node and the library face never pay.
function loadBullMq(): typeof import('../jobs/bullmq/bullmq-job-queue') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../jobs/bullmq/bullmq-job-queue');
}

function loadRedisLease(): typeof import('../tiering/lease/redis-lease-provider') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../tiering/lease/redis-lease-provider');
}

/** Redis keys of one node's queues: its jobs act on its own disk and catalog. */
export function queuePrefix(settings: TidemarkConfig): string {
  return `${settings.tiering.redisKeyPrefix}:${settings.checkpoint.nodeId}`;
}
