import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { BullModule } from '@nestjs/bullmq';
import { MODULE_LOGGERS, TIDEMARK_CONFIG } from '../tokens';
import { settleWithin } from '../../lib/settle-within';
import { CheckpointCatalog } from '../../checkpoint/catalog/catalog';
import { releaseCoveredSegments } from '../checkpoints/checkpoint.controller';
import { CheckpointModule } from '../checkpoints/checkpoint.module';
import { IncrementalCheckpointSystem } from '../../checkpoint/incremental-checkpoint-system';
import type { TidemarkConfig } from '../../config/config.schema';
import type { ModuleLoggers } from '../../node/create-logger';
import type { Logger } from '../../lib/logger';
import type { ObjectStore } from '../../storage/object-store';
import { OBJECT_STORE } from '../storage.module';
import { SegmentedWal } from '../../wal/segmented-wal';
import { WalRetentionGuard } from '../../wal/wal-retention-guard';
import { bullConnection } from '../../jobs/bullmq/bull-connection';
import { BullMqJobQueue } from '../../jobs/bullmq/bullmq-job-queue';
import { InProcessJobQueue } from '../../jobs/in-process-job-queue';
import { JOB_LANES } from '../../jobs/job-lanes';
import type { JobQueue } from '../../jobs/job-queue';
import { JobRunner } from '../../jobs/job-runner';
import { LocalLeaseProvider, RedisLeaseProvider, type LeaseProvider } from '../../tiering/lease';
import { UploadedSegments } from '../../wal/archive/uploaded-segments';
import { TieringNode } from '../../tiering/tiering-node';
import { JobsController } from './jobs.controller';
import { MaintenanceProcessor, UploadsProcessor } from './tiering.processor';
import { JOB_QUEUE, LEASE_PROVIDER } from './tiering.tokens';

/** The longest a shutdown step that talks to Redis may take (well inside server.shutdownTimeoutMs). */
const SHUTDOWN_STEP_MS = 3_000;

/** Redis keys of one node's queues: its jobs act on its own disk and catalog. */
function queuePrefix(config: TidemarkConfig): string {
  return `${config.tiering.redisKeyPrefix}:${config.checkpoint.nodeId}`;
}

/**
 * The tiering layer in the service: with `tiering.redisUrl` (REDIS_URL) BullMQ queues whose workers are Nest
 * WorkerHosts and a Redis lease; without, jobs in process and a local lease (embedded mode). Either way
 * the same TieringNode: segment shipping, the upload reconciler, the maintenance lease and scheduler, and
 * the WAL retention guard "uploaded AND covered by a checkpoint".
 *
 * Shutdown: this module imports CheckpointModule (and through it the WAL), and AppModule imports only
 * this one, so its hook runs first: it stops scheduling, closes the workers (jobs in flight finish) and
 * the queue, then releases the lease — before the checkpoint system stops and the WAL closes.
 */
@Module({})
export class TieringModule implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  static forRoot(config: TidemarkConfig): DynamicModule {
    const redisUrl = config.tiering.redisUrl;
    const bull =
      redisUrl === undefined
        ? []
        : [
            BullModule.forRoot({
              connection: bullConnection(redisUrl, 'worker'),
              prefix: queuePrefix(config),
            }),
            BullModule.registerQueue(...JOB_LANES.map((name) => ({ name }))),
          ];
    return {
      module: TieringModule,
      imports: [CheckpointModule, ...bull],
      controllers: [JobsController],
      providers: [
        {
          provide: JobRunner,
          inject: [MODULE_LOGGERS],
          useFactory: (loggers: ModuleLoggers) => new JobRunner(loggers.child('tiering')),
        },
        {
          provide: JOB_QUEUE,
          inject: [JobRunner],
          useFactory: (runner: JobRunner): JobQueue =>
            redisUrl === undefined
              ? new InProcessJobQueue(runner)
              : new BullMqJobQueue({ redisUrl, prefix: queuePrefix(config) }),
        },
        {
          provide: LEASE_PROVIDER,
          useFactory: (): LeaseProvider =>
            redisUrl === undefined
              ? new LocalLeaseProvider()
              : new RedisLeaseProvider({ url: redisUrl, keyPrefix: `${config.tiering.redisKeyPrefix}:` }),
        },
        {
          provide: UploadedSegments,
          useFactory: () => UploadedSegments.open(config.dataDir),
        },
        {
          provide: TieringNode,
          inject: [
            MODULE_LOGGERS,
            SegmentedWal,
            WalRetentionGuard,
            OBJECT_STORE,
            CheckpointCatalog,
            IncrementalCheckpointSystem,
            UploadedSegments,
            JOB_QUEUE,
            JobRunner,
            LEASE_PROVIDER,
          ],
          useFactory: (
            loggers: ModuleLoggers,
            wal: SegmentedWal,
            guard: WalRetentionGuard,
            store: ObjectStore,
            catalog: CheckpointCatalog,
            system: IncrementalCheckpointSystem,
            uploads: UploadedSegments,
            queue: JobQueue,
            runner: JobRunner,
            leases: LeaseProvider,
          ): TieringNode => {
            const logger = loggers.child('tiering');
            const node = new TieringNode(
              { wal, store, catalog, system, uploads, queue, runner, leases, logger },
              {
                ...config.tiering,
                nodeId: config.checkpoint.nodeId,
                prefix: config.storage.prefix,
                compactionIntervalMs: config.checkpoint.cleanupInterval,
              },
            );
            guard.set((segment) => node.canDeleteSegment(segment));
            // Segments a checkpoint now covers (and already uploaded) go at once, not at the next seal.
            system.onCheckpointCommitted(() => releaseCoveredSegments(wal, logger));
            releaseCoveredSegments(wal, logger);
            return node;
          },
        },
        ...(redisUrl === undefined ? [] : [UploadsProcessor, MaintenanceProcessor]),
      ],
      exports: [TieringNode, JOB_QUEUE, UploadedSegments, CheckpointModule],
    };
  }

  private readonly logger: Logger;

  constructor(
    @Inject(TieringNode) private readonly node: TieringNode,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(LEASE_PROVIDER) private readonly leases: LeaseProvider,
    @Inject(WalRetentionGuard) private readonly guard: WalRetentionGuard,
    @Inject(TIDEMARK_CONFIG) private readonly config: TidemarkConfig,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(UploadedSegments) private readonly uploads: UploadedSegments,
    @Inject(MODULE_LOGGERS) loggers: ModuleLoggers,
  ) {
    this.logger = loggers.child('tiering');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.node.start();
  }

  /** The first thing a shutdown does (before the HTTP server closes): no new work from now on. */
  onModuleDestroy(): void {
    this.node.stopScheduling();
  }

  /**
   * Each step that talks to Redis is bounded (SHUTDOWN_STEP_MS), so an unreachable Redis cannot keep the
   * checkpoint system and the WAL behind this module from closing.
   */
  async onApplicationShutdown(): Promise<void> {
    const step = async (what: string, work: Promise<unknown>) => {
      if ((await settleWithin(work, SHUTDOWN_STEP_MS)) === 'timed-out') {
        this.logger.warn({ step: what, ms: SHUTDOWN_STEP_MS }, 'shutdown step cut off (Redis unreachable?)');
      }
    };
    try {
      this.node.stopScheduling();
      if (this.config.tiering.redisUrl !== undefined) {
        await Promise.all(
          [UploadsProcessor, MaintenanceProcessor].map((processor) =>
            this.moduleRef.get(processor, { strict: false }).shutDown(SHUTDOWN_STEP_MS),
          ),
        );
      }
      await step('job queue', this.queue.close());
      await step('lease release', this.node.stop());
      await step('lease provider', this.leases.close());
      await this.uploads.close();
    } finally {
      this.guard.set(undefined);
    }
  }
}
