/**
 * Tidemark's library face: `import { SegmentedWal, put } from 'tidemark'`. Nothing here loads Nest.
 */
export { SegmentedWal } from './wal/segmented-wal';
export {
  put,
  del,
  clear,
  nowMicros,
  type Bytes,
  type Change,
  type DecodedChange,
  type DecodedEntry,
  type LogEntry,
  type LogRecord,
} from './wal/entry';
export {
  DEFAULT_WAL_OPTIONS,
  type LatencySummary,
  type SegmentInfo,
  type WalOptions,
  type WalStats,
} from './wal/wal-options';
export { encodeBatch, decodeBatch } from './wal/batch-codec';
export { inspectWal, formatInspection, type WalInspection } from './wal/inspect';
export {
  TidemarkError,
  ErrorCodes,
  type ErrorCode,
  type ErrorKind,
  type ErrorOptions,
} from './errors/tidemark-error';
export { loadConfig, type LoadConfigOptions } from './config/config.loader';
export { configSchema, type TidemarkConfig, type TidemarkConfigInput } from './config/config.schema';
export { silentLogger, type Logger } from './observability/logger';
export {
  createBackend,
  LocalFileStore,
  MemoryStore,
  RetryingStore,
  InstrumentedStore,
  getBuffer,
  blockKey,
  blocksPrefix,
  manifestKey,
  checkpointPrefix,
  checkpointsPrefix,
  walSegmentKey,
  walNodePrefix,
  walPrefix,
  parseBlockKey,
  parseManifestKey,
  parseWalSegmentKey,
  type ObjectStore,
  type ObjectBody,
  type PutOptions,
  type PutResult,
  type ByteRange,
  type ObjectInfo,
  type ListedObject,
  type BackendConfig,
  type StorageBackend,
  type RetryOptions,
  type StoreMetricsSnapshot,
} from './storage';
