import { Module } from '@nestjs/common';
import { MODULE_LOGGERS, TIDEMARK_CONFIG } from './tokens';
import type { TidemarkConfig } from '../config/config.schema';
import type { ModuleLoggers } from '../node/create-logger';
import { createBackend, type StorageBackend } from '../storage/create-backend';
import type { ObjectStore } from '../storage/object-store';

/** Injection tokens: the `StorageBackend` (store + request counters) and its `ObjectStore`. */
export const STORAGE_BACKEND = Symbol('STORAGE_BACKEND');
export const OBJECT_STORE = Symbol('OBJECT_STORE');

/** The object store `config.storage` names, with retries and instrumentation (create-backend.ts). */
@Module({
  providers: [
    {
      provide: STORAGE_BACKEND,
      inject: [TIDEMARK_CONFIG, MODULE_LOGGERS],
      useFactory: (config: TidemarkConfig, loggers: ModuleLoggers): StorageBackend =>
        createBackend(config.storage, { logger: loggers.child('storage') }),
    },
    {
      provide: OBJECT_STORE,
      inject: [STORAGE_BACKEND],
      useFactory: (backend: StorageBackend): ObjectStore => backend.store,
    },
  ],
  exports: [STORAGE_BACKEND, OBJECT_STORE],
})
export class StorageModule {}
