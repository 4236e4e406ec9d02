import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { MODULE_LOGGERS, TIDEMARK_CONFIG } from '../app/tokens';
import type { TidemarkConfig } from '../config/config.schema';
import type { ModuleLoggers } from '../observability/create-logger';
import { SegmentedWal } from './segmented-wal';
import { WalController } from './wal.controller';

/**
 * The service's one WAL, opened from `config.wal` when the app starts (a second process on the same
 * directory fails start-up with LOCKED) and closed when it shuts down. Closing waits for
 * `onApplicationShutdown`, which Nest calls after the HTTP server has stopped taking requests.
 */
@Module({
  controllers: [WalController],
  providers: [
    {
      provide: SegmentedWal,
      inject: [TIDEMARK_CONFIG, MODULE_LOGGERS],
      useFactory: (config: TidemarkConfig, loggers: ModuleLoggers): Promise<SegmentedWal> => {
        const { dir, ...options } = config.wal;
        return SegmentedWal.open(dir, { ...options, logger: loggers.child('wal') });
      },
    },
  ],
  exports: [SegmentedWal],
})
export class WalModule implements OnApplicationShutdown {
  constructor(@Inject(SegmentedWal) private readonly wal: SegmentedWal) {}

  async onApplicationShutdown(): Promise<void> {
    await this.wal.close();
  }
}
