import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { httpLoggingOptions } from './app/http-logging';
import { ProblemFilter } from './app/problem.filter';
import { RuntimeModule } from './app/runtime.module';
import type { TidemarkConfig } from './config/config.schema';
import type { ModuleLoggers } from './observability/create-logger';
import { TieringModule } from './tiering/nest/tiering.module';
import { ObservabilityModule } from './observability/observability.module';

/**
 * The service: configuration and loggers, request logging, the problem filter, health, the WAL, checkpoint
 * and jobs APIs. The WAL and checkpoint modules come in through TieringModule only, so shutdown runs
 * tiering, then the checkpoint system, then the WAL (see tiering.module.ts and checkpoint.module.ts).
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
        TieringModule.forRoot(config),
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
