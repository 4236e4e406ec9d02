import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MODULE_LOGGERS, TIDEMARK_CONFIG } from '../app/tokens';
import type { TidemarkConfig } from '../config/config.schema';
import type { ModuleLoggers } from '../observability/create-logger';
import type { ObjectStore } from '../storage/object-store';
import { OBJECT_STORE, StorageModule } from '../storage/storage.module';
import { SegmentedWal } from '../wal/segmented-wal';
import { WalModule } from '../wal/wal.module';
import { WalRetentionGuard } from '../wal/wal-retention-guard';
import { CatalogFile } from './catalog/catalog-file';
import { CheckpointCatalog } from './catalog/catalog';
import { CheckpointController, releaseCoveredSegments } from './checkpoint.controller';
import { IncrementalCheckpointSystem } from './incremental-checkpoint-system';
import { CheckpointMerger } from './merge/checkpoint-merger';

/**
 * The checkpoint system of this node: the catalog in `{dataDir}/catalog.json`, the merger, the object store
 * (StorageModule) and the WAL (WalModule), wired into one IncrementalCheckpointSystem.
 *
 * - Opening the system (a new fencing token, the state rebuilt from the newest checkpoint plus the WAL)
 *   happens while the app initialises; then the WAL's retention guard becomes "a committed checkpoint
 *   covers the segment" and segments already covered are released.
 * - Periodic checkpoints and chain optimisation start on application bootstrap.
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
        WalRetentionGuard,
        OBJECT_STORE,
        CheckpointCatalog,
        CheckpointMerger,
      ],
      useFactory: async (
        config: TidemarkConfig,
        loggers: ModuleLoggers,
        wal: SegmentedWal,
        guard: WalRetentionGuard,
        store: ObjectStore,
        catalog: CheckpointCatalog,
        merger: CheckpointMerger,
      ): Promise<IncrementalCheckpointSystem> => {
        const logger = loggers.child('checkpoint');
        const system = await IncrementalCheckpointSystem.open(
          { wal, store, catalog, merger, logger },
          { ...config.checkpoint, prefix: config.storage.prefix },
        );
        guard.set((segment) => system.canDeleteSegment(segment));
        // Segments a checkpoint now covers go at once, not only at the next seal (periodic ones too).
        system.onCheckpointCommitted(() => releaseCoveredSegments(wal, logger));
        releaseCoveredSegments(wal, logger);
        return system;
      },
    },
  ],
  exports: [IncrementalCheckpointSystem, CheckpointCatalog],
})
export class CheckpointModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(IncrementalCheckpointSystem) private readonly system: IncrementalCheckpointSystem,
    @Inject(CheckpointMerger) private readonly merger: CheckpointMerger,
    @Inject(WalRetentionGuard) private readonly guard: WalRetentionGuard,
  ) {}

  onApplicationBootstrap(): void {
    this.system.start();
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.system.stop();
    } finally {
      this.guard.set(undefined);
      await this.merger.close();
    }
  }
}
