import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { MODULE_LOGGERS, TIDEMARK_CONFIG } from '../tokens';
import type { TidemarkConfig } from '../../config/config.schema';
import type { ModuleLoggers } from '../../node/create-logger';
import type { Logger } from '../../lib/logger';
import { probeWritable } from './probe-writable';

/** `walDir: up` when a file can be created, fsynced and removed in the WAL directory. */
@Injectable()
export class WalDirHealthIndicator {
  private readonly log: Logger;

  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(TIDEMARK_CONFIG) private readonly config: TidemarkConfig,
    @Inject(MODULE_LOGGERS) loggers: ModuleLoggers,
  ) {
    this.log = loggers.child('health');
  }

  async isWritable(key = 'walDir') {
    const indicator = this.indicators.check(key);
    const dir = this.config.wal.dir;
    try {
      await probeWritable(dir);
      return indicator.up({ dir });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.warn({ dir, err: error }, 'WAL directory is not writable');
      return indicator.down({ dir, message });
    }
  }
}
