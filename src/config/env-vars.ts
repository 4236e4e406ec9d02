/**
 * The one table of environment variables Tidemark reads, each mapped to a key of the configuration schema.
 * When two variables name the same key, the later row wins (TIDEMARK_PORT over PORT).
 * The loader is the only code that looks at `process.env`.
 */

export type EnvKind = 'string' | 'integer' | 'boolean' | 'levels';

export interface EnvVar {
  name: string;
  /** Dotted path in the configuration, e.g. `wal.segmentSize`. */
  key: string;
  kind: EnvKind;
  description: string;
}

export const CONFIG_FILE_ENV = 'TIDEMARK_CONFIG';

export const ENV_VARS: readonly EnvVar[] = [
  { name: 'HOST', key: 'server.host', kind: 'string', description: 'address to listen on' },
  { name: 'TIDEMARK_HOST', key: 'server.host', kind: 'string', description: 'same as HOST, wins over it' },
  { name: 'PORT', key: 'server.port', kind: 'integer', description: 'port to listen on' },
  { name: 'TIDEMARK_PORT', key: 'server.port', kind: 'integer', description: 'same as PORT, wins over it' },
  {
    name: 'TIDEMARK_BODY_LIMIT',
    key: 'server.bodyLimit',
    kind: 'integer',
    description: 'largest request body, bytes',
  },
  { name: 'DATA_DIR', key: 'dataDir', kind: 'string', description: 'where Tidemark keeps its data' },
  {
    name: 'TIDEMARK_DATA_DIR',
    key: 'dataDir',
    kind: 'string',
    description: 'same as DATA_DIR, wins over it',
  },
  { name: 'LOG_LEVEL', key: 'log.level', kind: 'string', description: 'root log level' },
  {
    name: 'LOG_LEVELS',
    key: 'log.modules',
    kind: 'levels',
    description: 'per-module levels, e.g. "wal=debug,http=warn"',
  },
  { name: 'TIDEMARK_WAL_DIR', key: 'wal.dir', kind: 'string', description: 'WAL directory' },
  {
    name: 'TIDEMARK_WAL_SEGMENT_SIZE',
    key: 'wal.segmentSize',
    kind: 'integer',
    description: 'rotate segments at this size, bytes',
  },
  {
    name: 'TIDEMARK_WAL_ENABLE_SYNC',
    key: 'wal.enableSync',
    kind: 'boolean',
    description: 'fdatasync before acknowledging',
  },
  {
    name: 'TIDEMARK_WAL_BUFFER_SIZE',
    key: 'wal.bufferSize',
    kind: 'integer',
    description: 'largest flush, bytes',
  },
  {
    name: 'TIDEMARK_WAL_MAX_BATCH_SIZE',
    key: 'wal.maxBatchSize',
    kind: 'integer',
    description: 'largest flush, entries',
  },
  {
    name: 'TIDEMARK_WAL_RETENTION_SEGMENTS',
    key: 'wal.retentionSegments',
    kind: 'integer',
    description: 'sealed segments always kept locally',
  },
  {
    name: 'TIDEMARK_WAL_ENABLE_COMPRESSION',
    key: 'wal.enableCompression',
    kind: 'boolean',
    description: 'zstd-compress large frames',
  },
  {
    name: 'TIDEMARK_WAL_COMPRESSION_THRESHOLD',
    key: 'wal.compressionThreshold',
    kind: 'integer',
    description: 'smallest payload compressed, bytes',
  },
  {
    name: 'TIDEMARK_WAL_MAX_ENTRY_BYTES',
    key: 'wal.maxEntryBytes',
    kind: 'integer',
    description: 'largest entry accepted, bytes',
  },
  {
    name: 'TIDEMARK_WAL_ENFORCE_SEQUENCE',
    key: 'wal.enforceSequence',
    kind: 'boolean',
    description: 'refuse a sequence that does not rise',
  },
  {
    name: 'TIDEMARK_WAL_PREALLOCATE',
    key: 'wal.preallocate',
    kind: 'boolean',
    description: 'zero-fill the next segment ahead of time',
  },
  {
    name: 'TIDEMARK_STORAGE_BACKEND',
    key: 'storage.backend',
    kind: 'string',
    description: 'object store: LocalFile or Memory',
  },
  {
    name: 'TIDEMARK_STORAGE_PATH',
    key: 'storage.basePath',
    kind: 'string',
    description: 'directory of the LocalFile store',
  },
  {
    name: 'TIDEMARK_STORAGE_SYNC_WRITES',
    key: 'storage.syncWrites',
    kind: 'boolean',
    description: 'fsync each stored object before acknowledging',
  },
  {
    name: 'TIDEMARK_STORAGE_PREFIX',
    key: 'storage.prefix',
    kind: 'string',
    description: 'prefix of every object key',
  },
];
