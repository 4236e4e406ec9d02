export {
  writeStateToDirectory,
  readStateDirectory,
  stateFileName,
  RECOVERY_FILE,
  RECOVERY_DIR_FORMAT_VERSION,
  type RecoveryDirectoryManifest,
} from './directory-writer';
export { writeStateFile, readStateFile, STATE_FILE_MAGIC, STATE_FILE_VERSION } from './state-file';
export { toNdjson, readNdjson, ndjsonErrorLine, NDJSON_FORMAT, NDJSON_VERSION } from './ndjson';
export {
  toBinaryStream,
  readBinaryStream,
  binaryErrorFrame,
  BINARY_MAGIC,
  BINARY_VERSION,
} from './binary-stream';
export { readRecoveryStream, type RecoveryStreamSource } from './recovery-stream-reader';
export { summarizeRecovery, describeError, type RecoverySummary } from './recovery-summary';
export type { StreamedRecovery } from './streamed-recovery';
