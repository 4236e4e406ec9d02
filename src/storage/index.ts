export * from './object-store';
export * from './object-keys';
export {
  assertValidKey,
  assertValidPrefix,
  compareKeys,
  keyProblem,
  MAX_KEY_BYTES,
  MAX_SEGMENT_BYTES,
} from './key-rules';
export { getBuffer, readAll } from './object-body';
export { isRetryable } from './storage-errors';
export { LocalFileStore, type LocalFileStoreOptions } from './fs/local-file-store';
export { MemoryStore, type MemoryStoreOptions } from './memory/memory-store';
export { S3Store, type S3StoreOptions } from './s3';
export { GcsStore, type GcsStoreOptions } from './gcs';
export { AzureBlobStore, type AzureBlobStoreOptions } from './azure';
export { RetryingStore, type RetryOptions } from './retrying-store';
export { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff';
export {
  InstrumentedStore,
  type OperationCounts,
  type StoreMetricsSnapshot,
  type StoreOperation,
} from './instrumented-store';
export {
  createBackend,
  type BackendComponents,
  type BackendConfig,
  type StorageBackend,
} from './create-backend';
