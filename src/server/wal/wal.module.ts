import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { MODULE_LOGGERS, TIDEMARK_CONFIG } from '../tokens';
import type { TidemarkConfig } from '../../config/config.schema';
import type { ModuleLoggers } from '../../node/create-logger';
import { SegmentedWal } from '../../wal/segmented-wal';
import { WalController } from './wal.controller';
import { WalRetentionGuard } from '../../wal/wal-retention-guard';

/**
 * The service's one WAL, opened from `config.wal` when the app starts (a second process on the same
 * directory fails start-up with LOCKED) and closed when it shuts down. Closing waits for
 * `onApplicationShutdown`, which Nest calls after the HTTP server has stopped taking requests, and — as
 * modules that import this one sit deeper in Nest's module tree, whose shutdown hooks run shallowest
 * first — after theirs (the checkpoint module stops its work on the WAL there).
 *
 * Retention asks the `WalRetentionGuard` before deleting an old sealed segment; it keeps everything until
 * the checkpoint module installs "a committed checkpoint covers the segment".
 */
@Module({
  controllers: [WalController],
  providers: [
    WalRetentionGuard,
    {
      provide: SegmentedWal,
      inject: [TIDEMARK_CONFIG, MODULE_LOGGERS, WalRetentionGuard],
      useFactory: (
        config: TidemarkConfig,
        loggers: ModuleLoggers,
        guard: WalRetentionGuard,
      ): Promise<SegmentedWal> => {
        const { dir, ...options } = config.wal;
        return SegmentedWal.open(dir, {
          ...options,
          canDelete: (segment) => guard.canDelete(segment),
          logger: loggers.child('wal'),
        });
      },
    },
  ],
  exports: [SegmentedWal, WalRetentionGuard],
})
export class WalModule implements OnApplicationShutdown {
  constructor(@Inject(SegmentedWal) private readonly wal: SegmentedWal) {}

  async onApplicationShutdown(): Promise<void> {
    await this.wal.close();
  }
}
