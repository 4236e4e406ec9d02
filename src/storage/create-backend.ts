import type { Clock } from '../lib/clock';
import { invalidArgument } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type { AzureBlobStoreOptions } from './azure/azure-options';
import { LocalFileStore } from './fs/local-file-store';
import type { GcsStoreOptions } from './gcs/gcs-options';
import { InstrumentedStore, type StoreMetricsSnapshot } from './instrumented-store';
import { MemoryStore } from './memory/memory-store';
import type { ObjectStore } from './object-store';
import { RetryingStore, type RetryOptions } from './retrying-store';
import type { S3StoreOptions } from './s3/s3-options';

/** Which store and its settings; the configuration's `storage` section fits (its `prefix` is for keys). */
export type BackendConfig =
  | { backend: 'LocalFile'; basePath: string; syncWrites?: boolean }
  | { backend: 'Memory' }
  | ({ backend: 'S3'; accessKeyId?: string; secretAccessKey?: string } & Omit<
      S3StoreOptions,
      'credentials' | 'logger' | 'client'
    >)
  | ({ backend: 'Gcs' } & Omit<GcsStoreOptions, 'logger' | 'storage' | 'clock'>)
  | ({ backend: 'Azure' } & Omit<AzureBlobStoreOptions, 'logger' | 'serviceClient'>);

/** Components injected into the store: logging, the clock, and retry settings (sleep and random for tests). */
export interface BackendComponents {
  logger?: Logger;
  /** What retries wait on and the adapters keep time on (default: the system clock). */
  clock?: Clock;
  retry?: RetryOptions;
}

export interface StorageBackend {
  /** The store to use: retries around instrumentation around the adapter. */
  store: ObjectStore;
  /** Counters of the requests the adapter served, every retry attempt included. */
  snapshot(): StoreMetricsSnapshot;
}

/**
 * Builds the object store the configuration names, with the decorators every store gets: instrumentation next
 * to the adapter (so each attempt is counted, as a cloud bills it) and retries outside it.
 */
export function createBackend(config: BackendConfig, components: BackendComponents = {}): StorageBackend {
  const instrumented = new InstrumentedStore(createAdapter(config, components));
  const store = new RetryingStore(instrumented, {
    logger: components.logger,
    clock: components.clock,
    ...components.retry,
  });
  return { store, snapshot: () => instrumented.snapshot() };
}

function createAdapter(config: BackendConfig, components: BackendComponents): ObjectStore {
  switch (config.backend) {
    case 'LocalFile':
      return new LocalFileStore({
        basePath: config.basePath,
        syncWrites: config.syncWrites,
        logger: components.logger,
      });
    case 'Memory':
      return new MemoryStore({ clock: components.clock });
    case 'S3': {
      const { backend: _backend, accessKeyId, secretAccessKey, ...options } = config;
      const credentials =
        accessKeyId !== undefined && secretAccessKey !== undefined
          ? { accessKeyId, secretAccessKey }
          : undefined;
      return new (loadS3().S3Store)({ ...options, credentials, logger: components.logger });
    }
    case 'Gcs': {
      const { backend: _backend, ...options } = config;
      return new (loadGcs().GcsStore)({ ...options, logger: components.logger, clock: components.clock });
    }
    case 'Azure': {
      const { backend: _backend, ...options } = config;
      return new (loadAzure().AzureBlobStore)({ ...options, logger: components.logger });
    }
    default:
      throw invalidArgument(
        `unknown storage backend ${JSON.stringify((config as { backend: unknown }).backend)}`,
      );
  }
}

// Each cloud SDK loads only when its backend is used: the library face and an embedded node never pay for
// the hundreds of modules behind them (a test checks that requiring 'tidemark' loads none).
function loadS3(): typeof import('./s3') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./s3');
}

function loadGcs(): typeof import('./gcs') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./gcs');
}

function loadAzure(): typeof import('./azure') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./azure');
}
