/**
 * Tidemark's library face: `import { SegmentedWal, put } from 'tidemark'`. Nothing here loads Nest.
 */
export {
  SegmentedWal,
  put,
  del,
  clear,
  nowMicros,
  DEFAULT_WAL_OPTIONS,
  encodeBatch,
  decodeBatch,
  decodeSegment,
  inspectWal,
  formatInspection,
  type Bytes,
  type Change,
  type DecodedChange,
  type DecodedEntry,
  type DecodedSegment,
  type LatencySummary,
  type LogEntry,
  type LogRecord,
  type SegmentFooter,
  type SegmentHeader,
  type SegmentInfo,
  type WalInspection,
  type WalOptions,
  type WalStats,
} from './wal';
export {
  TidemarkError,
  ErrorCodes,
  type ErrorCode,
  type ErrorKind,
  type ErrorOptions,
} from './lib/errors/tidemark-error';
export { loadConfig, type LoadConfigOptions } from './config/config.loader';
export { configSchema, type TidemarkConfig, type TidemarkConfigInput } from './config/config.schema';
export { silentLogger, type Logger } from './lib/logger';
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

// ── checkpoints ──────────────────────────────────────────────────────────────────────────────────────
export {
  IncrementalCheckpointSystem,
  type CheckpointKindRequest,
  type CheckpointSystemDeps,
} from './checkpoint/incremental-checkpoint-system';
export {
  DEFAULT_CHECKPOINT_SYSTEM_CONFIG,
  type CheckpointSystemConfig,
} from './checkpoint/checkpoint-system-config';
export {
  CheckpointMerger,
  DEFAULT_MERGER_CONFIG,
  resolveMergerConfig,
  type CheckpointMergerOptions,
  type ConflictResolution,
  type IncrementalComponentSummary,
  type IncrementalPlan,
  type MergeStats,
  type MergeStrategy,
  type MergerConfig,
  type WalRange,
} from './checkpoint/merge';
export {
  CheckpointCatalog,
  CatalogFile,
  CATALOG_FILE_NAME,
  rebuildCatalog,
  type CatalogData,
  type ChainSummary,
  type CheckpointStatus,
  type CheckpointSummary,
  type RebuildProblem,
  type RebuildResult,
  type RemoveOptions,
  type RemoveResult,
} from './checkpoint/catalog';
export { StateMaterializer } from './checkpoint/state/state-materializer';
export {
  compareKeys,
  type ComponentDelta,
  type ComponentSnapshot,
  type Delta,
  type DeltaRecord,
  type Snapshot,
  type StateRecord,
} from './checkpoint/state/state-types';
export {
  encodeBlock,
  decodeBlock,
  verifyBlock,
  blockHash,
  type BlockInfo,
  type BlockOptions,
  type EncodedBlock,
} from './checkpoint/block/block-codec';
export { BLOCK_CODECS, type BlockCodec } from './checkpoint/block/codecs';
export {
  MANIFEST_FORMAT_VERSION,
  CHECKPOINT_KINDS,
  decodeManifest,
  encodeManifest,
  validateManifest,
  type CheckpointKind,
  type ComponentManifest,
  type Manifest,
  type ManifestBlockRef,
  type ManifestStats,
} from './checkpoint/manifest';
export {
  writeFullCheckpoint,
  writeIncrementalCheckpoint,
  type CheckpointWriteContext,
} from './checkpoint/write/checkpoint-writer';
export {
  loadCheckpointState,
  readManifest,
  type CheckpointReadContext,
} from './checkpoint/write/checkpoint-reader';

// ── tiering (the cloud adapters and Redis-backed parts: 'tidemark/s3', '/gcs', '/azure', '/redis') ──
export * from './tiering';

// ── the node: the composition root a processor (or the service) opens a whole node with ──────────────
export { openNode, type NodeComponents, type NodeLoggers } from './node/open-node';
export { TidemarkNode, type NodeParts } from './node/tidemark-node';
export { SegmentRetention } from './node/segment-retention';
export { systemClock, type Clock, type Timer } from './lib/clock';

// ── recovery: the engine, the store verifier, the recovered-state formats ────────────────────────────
export * from './recovery';
