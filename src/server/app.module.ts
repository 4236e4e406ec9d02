import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { httpLoggingOptions } from './http/http-logging';
import { ProblemFilter } from './http/problem.filter';
import { RuntimeModule } from './runtime.module';
import type { TidemarkConfig } from '../config/config.schema';
import type { ModuleLoggers } from '../node/create-logger';
import { ObservabilityModule } from './health/health.module';
import { RecoveryModule } from './recovery/recovery.module';

/**
 * The service: configuration and loggers, request logging, the problem filter, health, the WAL, checkpoint,
 * jobs and recovery APIs. Tiering comes in through RecoveryModule only, and the WAL and checkpoint modules
 * through TieringModule only, so shutdown runs recovery (aborts recoveries in flight, ends its worker
 * threads), then tiering, then the checkpoint system, then the WAL (see recovery.module.ts,
 * tiering.module.ts and checkpoint.module.ts).
 */
@Module({})
export class AppModule {
  static forRoot(config: TidemarkConfig, loggers: ModuleLoggers): DynamicModule {
    return {
      module: AppModule,
      imports: [
        RuntimeModule.forRoot(config, loggers),
        LoggerModule.forRoot({ pinoHttp: httpLoggingOptions(loggers.child('http')) }),
        ObservabilityModule,
        RecoveryModule.forRoot(config),
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
