/**
 * Recovery as the library gives it (docs/recovery.md): the engine, its configuration and results, the
 * store verifier behind `tidemark verify`, and the writers and readers of the recovered-state formats
 * (docs/formats.md). Nothing here loads Nest: the REST layer is in src/server/recovery/, wired by the service only.
 */
export { RecoveryEngine, type RecoverOptions, type RecoveryBackend } from './recovery-engine';
export {
  DEFAULT_RECOVERY_CONFIG,
  type ComponentOutcome,
  type PlannedCheckpoint,
  type PlannedObject,
  type PrefetchStrategy,
  type RecoveryConfig,
  type RecoveryPlan,
  type RecoveryProgress,
  type RecoveryResult,
  type RecoveryTarget,
  type VerificationLevel,
} from './recovery-types';
export type { RemotePack, WalSources } from './wal-source';
export { verifyStore, VERIFICATION_LEVELS } from './verification/verify-store';
export { formatReport as formatVerificationReport } from './verification/format-report';
export type {
  CheckpointVerification,
  VerificationReport,
  VerificationTotals,
  VerifyFault,
  VerifyOptions,
  VerifyProgress,
  VerifySource,
  VerifyStatus,
  WalPackVerification,
} from './verification/verify-report';
export {
  writeStateToDirectory,
  StateDirectoryWriter,
  readStateDirectory,
  stateFileName,
  RECOVERY_FILE,
  RECOVERY_DIR_FORMAT_VERSION,
  type RecoveryDirectoryManifest,
} from './output/directory-writer';
export { writeStateFile, readStateFile, STATE_FILE_MAGIC, STATE_FILE_VERSION } from './output/state-file';
export { toNdjson, readNdjson, NDJSON_FORMAT, NDJSON_VERSION } from './output/ndjson';
export { toBinaryStream, readBinaryStream, BINARY_MAGIC, BINARY_VERSION } from './output/binary-stream';
export { readRecoveryStream, type RecoveryStreamSource } from './output/recovery-stream-reader';
export { summarizeRecovery, type RecoverySummary } from './output/recovery-summary';
export type { StreamedRecovery } from './output/streamed-recovery';
