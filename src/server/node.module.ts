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
import { CheckpointCatalog } from '../checkpoint/catalog/catalog';
import { IncrementalCheckpointSystem } from '../checkpoint/incremental-checkpoint-system';
import { CheckpointMerger } from '../checkpoint/merge/checkpoint-merger';
import type { TidemarkConfig } from '../config/config.schema';
import { bullConnection } from '../jobs/bullmq/bull-connection';
import { BullMqJobQueue } from '../jobs/bullmq/bullmq-job-queue';
import { JOB_LANES } from '../jobs/job-lanes';
import { JobRunner } from '../jobs/job-runner';
import type { ModuleLoggers } from '../node/create-logger';
import { openNode, queuePrefix } from '../node/open-node';
import { CLOSE_STEP_MS, TidemarkNode } from '../node/tidemark-node';
import { RecoveryEngine } from '../recovery/recovery-engine';
import { TieringNode } from '../tiering/tiering-node';
import { SegmentedWal } from '../wal';
import { UploadedSegments } from '../wal/archive';
import { CheckpointCoordinator } from '../coordination/barrier/checkpoint-coordinator';
import { ClusterStateMachine } from '../coordination/cluster/cluster-state-machine';
import { MetadataRecord } from '../coordination/cluster/metadata-record';
import { RaftNode } from '../coordination/raft/raft-node';
import { CheckpointController } from './checkpoints/checkpoint.controller';
import { ClusterCheckpointsController } from './cluster/cluster-checkpoints.controller';
import { ClusterController } from './cluster/cluster.controller';
import { JobsController } from './jobs/jobs.controller';
import { MaintenanceProcessor, UploadsProcessor } from './jobs/tiering.processor';
import { ActiveRecoveries } from './recovery/active-recoveries';
import { RecoveryController } from './recovery/recovery.controller';
import { JOB_QUEUE, MODULE_LOGGERS, OBJECT_STORE, TIDEMARK_CONFIG } from './tokens';
import { WalController } from './wal/wal.controller';

/** The parts of the node controllers and processors inject, each taken from the one TidemarkNode. */
const PARTS = [
  [SegmentedWal, (node: TidemarkNode) => node.wal],
  [CheckpointCatalog, (node: TidemarkNode) => node.catalog],
  [CheckpointMerger, (node: TidemarkNode) => node.merger],
  [IncrementalCheckpointSystem, (node: TidemarkNode) => node.system],
  [UploadedSegments, (node: TidemarkNode) => node.uploads],
  [JobRunner, (node: TidemarkNode) => node.runner],
  [JOB_QUEUE, (node: TidemarkNode) => node.queue],
  [TieringNode, (node: TidemarkNode) => node.tiering],
  [RecoveryEngine, (node: TidemarkNode) => node.recovery],
  [OBJECT_STORE, (node: TidemarkNode) => node.store],
  [RaftNode, (node: TidemarkNode) => node.coordinator.raft],
  [MetadataRecord, (node: TidemarkNode) => node.coordinator.metadata],
  [ClusterStateMachine, (node: TidemarkNode) => node.coordinator.state],
  [CheckpointCoordinator, (node: TidemarkNode) => node.coordinator.checkpoints],
] as const;

/**
 * The node in the service: opened by the composition root (node/open-node.ts) while the app initialises,
 * its parts injectable, the REST API's controllers beside it. With `tiering.redisUrl` the job queue is a
 * BullMQ producer and its workers are Nest WorkerHosts handing jobs to the node's runner; without, jobs run
 * in process. Lifecycle, in this one module: `start` on bootstrap; on shutdown, first no new work
 * (`onModuleDestroy`, before the HTTP server closes), then recoveries in flight aborted, workers closed and
 * the node closed in its own order (tidemark-node.ts).
 */
@Module({})
export class NodeModule implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
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
      module: NodeModule,
      imports: bull,
      controllers: [
        WalController,
        CheckpointController,
        JobsController,
        RecoveryController,
        ClusterController,
        ClusterCheckpointsController,
      ],
      providers: [
        {
          provide: TidemarkNode,
          inject: [MODULE_LOGGERS],
          useFactory: (loggers: ModuleLoggers): Promise<TidemarkNode> =>
            openNode(config, {
              loggers,
              // Producer only: the workers are the WorkerHosts below.
              ...(redisUrl === undefined
                ? {}
                : { queue: () => new BullMqJobQueue({ redisUrl, prefix: queuePrefix(config) }) }),
            }),
        },
        ...PARTS.map(([token, part]) => ({ provide: token, inject: [TidemarkNode], useFactory: part })),
        ActiveRecoveries,
        ...(redisUrl === undefined ? [] : [UploadsProcessor, MaintenanceProcessor]),
      ],
      exports: [TidemarkNode, ...PARTS.map(([token]) => token)],
    };
  }

  constructor(
    @Inject(TidemarkNode) private readonly node: TidemarkNode,
    @Inject(ActiveRecoveries) private readonly runs: ActiveRecoveries,
    @Inject(TIDEMARK_CONFIG) private readonly config: TidemarkConfig,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.node.start();
  }

  onModuleDestroy(): void {
    this.node.stopWork();
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.runs.close();
      if (this.config.tiering.redisUrl !== undefined) {
        await Promise.allSettled(
          [UploadsProcessor, MaintenanceProcessor].map((processor) =>
            this.moduleRef.get(processor, { strict: false }).shutDown(CLOSE_STEP_MS),
          ),
        );
      }
    } finally {
      // Whatever the steps before did, the node closes and its WAL's lock is released.
      await this.node.close();
    }
  }
}
