import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { httpLoggingOptions } from './http/http-logging';
import { ProblemFilter } from './http/problem.filter';
import { RuntimeModule } from './runtime.module';
import type { TidemarkConfig } from '../config/config.schema';
import type { ModuleLoggers } from '../node/create-logger';
import { HealthModule } from './health/health.module';
import { NodeModule } from './node.module';

/**
 * The service: configuration and loggers, request logging, the problem filter, health, and the node with
 * the WAL, checkpoint, jobs and recovery APIs (node.module.ts, which also owns the shutdown order).
 */
@Module({})
export class AppModule {
  static forRoot(config: TidemarkConfig, loggers: ModuleLoggers): DynamicModule {
    return {
      module: AppModule,
      imports: [
        RuntimeModule.forRoot(config, loggers),
        LoggerModule.forRoot({ pinoHttp: httpLoggingOptions(loggers.child('http')) }),
        HealthModule,
        NodeModule.forRoot(config),
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
