import {
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { MODULE_LOGGERS, TIDEMARK_CONFIG } from '../tokens';
import type { TidemarkConfig } from '../../config/config.schema';
import type { ModuleLoggers } from '../../node/create-logger';
import type { ObjectStore } from '../../storage/object-store';
import { OBJECT_STORE, StorageModule } from '../storage.module';
import { SegmentedWal } from '../../wal/segmented-wal';
import { WalModule } from '../wal/wal.module';
import { CatalogFile } from '../../checkpoint/catalog/catalog-file';
import { CheckpointCatalog } from '../../checkpoint/catalog/catalog';
import { CheckpointController } from './checkpoint.controller';
import { IncrementalCheckpointSystem } from '../../checkpoint/incremental-checkpoint-system';
import { CheckpointMerger } from '../../checkpoint/merge/checkpoint-merger';

/**
 * The checkpoint system of this node: the catalog in `{dataDir}/catalog.json`, the merger, the object store
 * (StorageModule) and the WAL (WalModule), wired into one IncrementalCheckpointSystem.
 *
 * - Opening the system (a new fencing token, the state rebuilt from the newest checkpoint plus the WAL)
 *   happens while the app initialises. The WAL's retention guard is the tiering module's to install
 *   (uploaded AND covered by a checkpoint).
 * - Periodic checkpoints start on application bootstrap; chain optimisation is a tiering job.
 * - On shutdown the timers stop, the operation in progress finishes and the merger's workers end — before
 *   the WAL closes: this module imports WalModule, so WalModule lies deeper in Nest's module tree and its
 *   `onApplicationShutdown` runs after this one's (Nest runs shutdown hooks shallowest module first).
 *   AppModule imports this module and not WalModule directly, so that holds by construction;
 *   test/http/checkpoint-api.test.ts checks the order.
 */
@Module({
  imports: [WalModule, StorageModule],
  controllers: [CheckpointController],
  providers: [
    {
      provide: CheckpointCatalog,
      inject: [TIDEMARK_CONFIG],
      useFactory: (config: TidemarkConfig): Promise<CheckpointCatalog> =>
        CheckpointCatalog.open(CatalogFile.inDataDir(config.dataDir)),
    },
    {
      provide: CheckpointMerger,
      inject: [TIDEMARK_CONFIG],
      useFactory: (config: TidemarkConfig): CheckpointMerger => new CheckpointMerger(config.merger),
    },
    {
      provide: IncrementalCheckpointSystem,
      inject: [
        TIDEMARK_CONFIG,
        MODULE_LOGGERS,
        SegmentedWal,
        OBJECT_STORE,
        CheckpointCatalog,
        CheckpointMerger,
      ],
      useFactory: async (
        config: TidemarkConfig,
        loggers: ModuleLoggers,
        wal: SegmentedWal,
        store: ObjectStore,
        catalog: CheckpointCatalog,
        merger: CheckpointMerger,
      ): Promise<IncrementalCheckpointSystem> => {
        // Chain compaction runs as a background job of the tiering module, at checkpoint.cleanupInterval.
        return IncrementalCheckpointSystem.open(
          { wal, store, catalog, merger, logger: loggers.child('checkpoint') },
          { ...config.checkpoint, cleanupInterval: 0, prefix: config.storage.prefix },
        );
      },
    },
  ],
  exports: [IncrementalCheckpointSystem, CheckpointCatalog, WalModule, StorageModule],
})
export class CheckpointModule implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  constructor(
    @Inject(IncrementalCheckpointSystem) private readonly system: IncrementalCheckpointSystem,
    @Inject(CheckpointMerger) private readonly merger: CheckpointMerger,
  ) {}

  onApplicationBootstrap(): void {
    this.system.start();
  }

  /** The first thing a shutdown does: no new periodic checkpoint. */
  onModuleDestroy(): void {
    this.system.stopTimers();
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.system.stop();
    } finally {
      await this.merger.close();
    }
  }
}
