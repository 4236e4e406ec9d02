import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TIDEMARK_CONFIG } from '../tokens';
import { CheckpointCatalog } from '../../checkpoint/catalog/catalog';
import { CheckpointMerger } from '../../checkpoint/merge/checkpoint-merger';
import type { TidemarkConfig } from '../../config/config.schema';
import type { ObjectStore } from '../../storage/object-store';
import { OBJECT_STORE } from '../storage.module';
import { TieringModule } from '../jobs/tiering.module';
import { UploadedSegments } from '../../wal/archive/uploaded-segments';
import { SegmentedWal } from '../../wal/segmented-wal';
import { RecoveryEngine } from '../../recovery/recovery-engine';
import { ActiveRecoveries } from './active-recoveries';
import { RecoveryController } from './recovery.controller';

/** The merger the recovery engine merges incremental chains with (its own: closed with the engine). */
export const RECOVERY_MERGER = Symbol('RECOVERY_MERGER');

/**
 * The recovery engine in the service, reading this node's store, catalog, WAL and record of uploads, with
 * `config.recovery`; and the `/v1/recovery` API.
 *
 * It imports TieringModule (which re-exports the checkpoint module, and through it the WAL and the store),
 * and AppModule imports this module in TieringModule's place, so it is the shallowest of them and its
 * shutdown hook runs first (Nest runs shutdown hooks shallowest module first): recoveries in flight are
 * aborted and awaited, then the worker pool and the merger end — before tiering stops, the checkpoint
 * system stops and the WAL closes.
 */
@Module({})
export class RecoveryModule implements OnApplicationShutdown {
  static forRoot(config: TidemarkConfig): DynamicModule {
    return {
      module: RecoveryModule,
      imports: [TieringModule.forRoot(config)],
      controllers: [RecoveryController],
      providers: [
        ActiveRecoveries,
        {
          provide: RECOVERY_MERGER,
          inject: [TIDEMARK_CONFIG],
          useFactory: (settings: TidemarkConfig) => new CheckpointMerger(settings.merger),
        },
        {
          provide: RecoveryEngine,
          inject: [
            TIDEMARK_CONFIG,
            OBJECT_STORE,
            CheckpointCatalog,
            SegmentedWal,
            UploadedSegments,
            RECOVERY_MERGER,
          ],
          useFactory: (
            settings: TidemarkConfig,
            store: ObjectStore,
            catalog: CheckpointCatalog,
            wal: SegmentedWal,
            uploads: UploadedSegments,
            merger: CheckpointMerger,
          ): RecoveryEngine =>
            new RecoveryEngine(
              {
                store,
                prefix: settings.storage.prefix,
                nodeId: settings.checkpoint.nodeId,
                catalog,
                wal,
                uploads,
              },
              merger,
              settings.recovery,
            ),
        },
      ],
      exports: [RecoveryEngine],
    };
  }

  constructor(
    @Inject(ActiveRecoveries) private readonly runs: ActiveRecoveries,
    @Inject(RecoveryEngine) private readonly engine: RecoveryEngine,
    @Inject(RECOVERY_MERGER) private readonly merger: CheckpointMerger,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.runs.close();
      await this.engine.close();
    } finally {
      await this.merger.close();
    }
  }
}
