import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { httpLoggingOptions } from './app/http-logging';
import { ProblemFilter } from './app/problem.filter';
import { RuntimeModule } from './app/runtime.module';
import type { TidemarkConfig } from './config/config.schema';
import type { ModuleLoggers } from './observability/create-logger';
import { CheckpointModule } from './checkpoint/checkpoint.module';
import { ObservabilityModule } from './observability/observability.module';

/**
 * The service: configuration and loggers, request logging, the problem filter, health, the WAL API and the
 * checkpoint API. WalModule comes in through CheckpointModule only, so the WAL closes after the checkpoint
 * system has stopped (see checkpoint.module.ts).
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
        CheckpointModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
