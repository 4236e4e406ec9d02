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
// The cloud adapters are not re-exported here (that would load their SDKs): 'tidemark/s3', 'tidemark/gcs',
// 'tidemark/azure', or createBackend, which loads the one it is asked for.
export type { S3StoreOptions } from './s3/s3-options';
export type { GcsStoreOptions } from './gcs/gcs-options';
export type { AzureBlobStoreOptions } from './azure/azure-options';
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
