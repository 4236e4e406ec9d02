import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { TidemarkConfig } from '../config/config.schema';
import type { ModuleLoggers } from '../node/create-logger';
import { MODULE_LOGGERS, TIDEMARK_CONFIG } from './tokens';

/** Makes the loaded configuration and the module loggers injectable everywhere. */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(config: TidemarkConfig, loggers: ModuleLoggers): DynamicModule {
    return {
      module: RuntimeModule,
      providers: [
        { provide: TIDEMARK_CONFIG, useValue: config },
        { provide: MODULE_LOGGERS, useValue: loggers },
      ],
      exports: [TIDEMARK_CONFIG, MODULE_LOGGERS],
    };
  }
}
