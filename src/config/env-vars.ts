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
  {
    name: 'TIDEMARK_SHUTDOWN_TIMEOUT_MS',
    key: 'server.shutdownTimeoutMs',
    kind: 'integer',
    description: 'longest shutdown before what is left is cut off, ms',
  },
  { name: 'DATA_DIR', key: 'dataDir', kind: 'string', description: 'where Tidemark keeps its data' },
  {
    name: 'TIDEMARK_DATA_DIR',
    key: 'dataDir',
    kind: 'string',
    description: 'same as DATA_DIR, wins over it',
  },
  {
    name: 'REDIS_URL',
    key: 'tiering.redisUrl',
    kind: 'string',
    description: 'Redis for BullMQ jobs and the lease (cluster mode); unset: jobs in process',
  },
  {
    name: 'TIDEMARK_UPLOAD_PACK_BYTES',
    key: 'tiering.upload.packTargetBytes',
    kind: 'integer',
    description: 'ship sealed WAL segments in objects of at least this size, bytes',
  },
  {
    name: 'TIDEMARK_UPLOAD_MAX_DELAY_MS',
    key: 'tiering.upload.maxPackDelayMs',
    kind: 'integer',
    description: 'ship a partial pack once it has waited this long, ms',
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
    name: 'TIDEMARK_WAL_VALIDATE_TIMESTAMPS',
    key: 'wal.validateTimestamps',
    kind: 'boolean',
    description: 'refuse timestamps that cannot be µs since the epoch (before 2000, from 2200)',
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
  {
    name: 'TIDEMARK_CHECKPOINT_INTERVAL_MS',
    key: 'checkpoint.checkpointInterval',
    kind: 'integer',
    description: 'periodic checkpoints, ms (0: off)',
  },
  {
    name: 'TIDEMARK_CHECKPOINT_CLEANUP_INTERVAL_MS',
    key: 'checkpoint.cleanupInterval',
    kind: 'integer',
    description: 'periodic chain optimisation, ms (0: off)',
  },
  {
    name: 'TIDEMARK_CHECKPOINT_MAX_CHAIN_LENGTH',
    key: 'checkpoint.maxIncrementalChainLength',
    kind: 'integer',
    description: 'incrementals before an auto checkpoint is full',
  },
  {
    name: 'TIDEMARK_NODE_ID',
    key: 'checkpoint.nodeId',
    kind: 'string',
    description: 'id of this node, written into manifests',
  },
  {
    name: 'TIDEMARK_CLUSTER_ENDPOINTS',
    key: 'cluster.endpoints',
    kind: 'string',
    description:
      'the cluster\'s voters, "id=host:port" separated by commas (this node included); unset: embedded',
  },
  {
    name: 'TIDEMARK_CLUSTER_LISTEN',
    key: 'cluster.listen',
    kind: 'string',
    description: "where the Raft listener binds, host:port (default: this node's endpoint)",
  },
  {
    name: 'TIDEMARK_CLUSTER_SECRET',
    key: 'cluster.secret',
    kind: 'string',
    description: 'shared secret that signs every Raft RPC (at least 16 characters)',
  },
  {
    name: 'TIDEMARK_CLUSTER_JOIN',
    key: 'cluster.join',
    kind: 'boolean',
    description: 'this node is being added to a running cluster',
  },
  {
    name: 'TIDEMARK_ELECTION_TIMEOUT_MS',
    key: 'cluster.electionTimeoutMs',
    kind: 'integer',
    description: 'Raft election timeout, ms (randomised up to twice this)',
  },
  {
    name: 'TIDEMARK_HEARTBEAT_INTERVAL_MS',
    key: 'cluster.heartbeatIntervalMs',
    kind: 'integer',
    description: 'Raft leader heartbeat interval, ms',
  },
  {
    name: 'TIDEMARK_PARTITION_TOLERANCE_MS',
    key: 'cluster.partitionToleranceMs',
    kind: 'integer',
    description: 'a member not heard from this long is reported unreachable, ms',
  },
  {
    name: 'TIDEMARK_CLUSTER_SNAPSHOT_EVERY',
    key: 'cluster.snapshotEvery',
    kind: 'integer',
    description: 'applied Raft entries between snapshots of the cluster state',
  },
  {
    name: 'TIDEMARK_TEST_FAULTS',
    key: 'cluster.testFaults',
    kind: 'boolean',
    description: 'test only: SIGUSR2 cuts this node off from its Raft peers, and heals it',
  },
  {
    name: 'TIDEMARK_LEADER_HINT_TTL_MS',
    key: 'cluster.leaderHintTtlMs',
    kind: 'integer',
    description: "how long the leader's hint in Redis lasts without renewal, ms",
  },
  {
    name: 'TIDEMARK_CLUSTER_API_URL',
    key: 'cluster.apiUrl',
    kind: 'string',
    description: "this node's REST API as other processes reach it (kept in the leader hint)",
  },
  {
    name: 'TIDEMARK_CLUSTER_CHECKPOINT_INTERVAL_MS',
    key: 'cluster.checkpoints.intervalMs',
    kind: 'integer',
    description: 'begin a cluster checkpoint this often, ms (0: only when asked)',
  },
  {
    name: 'TIDEMARK_CLUSTER_CHECKPOINT_TIMEOUT_MS',
    key: 'cluster.checkpoints.timeoutMs',
    kind: 'integer',
    description: 'abort a cluster checkpoint not committed this long after it began, ms',
  },
  {
    name: 'TIDEMARK_CLUSTER_CHECKPOINT_MIN_PAUSE_MS',
    key: 'cluster.checkpoints.minPauseMs',
    kind: 'integer',
    description: 'least time between the end of one cluster checkpoint and the next, ms',
  },
  {
    name: 'TIDEMARK_CLUSTER_CHECKPOINT_MAX_CONCURRENT',
    key: 'cluster.checkpoints.maxConcurrent',
    kind: 'integer',
    description: 'cluster checkpoints in flight at once',
  },
  {
    name: 'TIDEMARK_CLUSTER_CHECKPOINT_TOLERABLE_FAILURES',
    key: 'cluster.checkpoints.tolerableFailures',
    kind: 'integer',
    description: 'failed cluster checkpoints in a row before the cluster reports itself failing',
  },
  {
    name: 'TIDEMARK_CLUSTER_CHECKPOINTS_RETAINED',
    key: 'cluster.checkpoints.retained',
    kind: 'integer',
    description: 'newest committed cluster checkpoints every node keeps restorable',
  },
  {
    name: 'TIDEMARK_CHECKPOINT_CODEC',
    key: 'checkpoint.codec',
    kind: 'string',
    description: 'block codec: zstd, lz4, snappy or none',
  },
  {
    name: 'TIDEMARK_CHECKPOINT_COMPRESSION_THRESHOLD',
    key: 'checkpoint.compressionThreshold',
    kind: 'integer',
    description: 'smallest block compressed, bytes',
  },
  {
    name: 'TIDEMARK_CHECKPOINT_BLOCK_SIZE',
    key: 'checkpoint.targetBlockSize',
    kind: 'integer',
    description: 'target block size of chunking, bytes',
  },
  {
    name: 'TIDEMARK_CHECKPOINT_DEDUPLICATION',
    key: 'checkpoint.enableDeduplication',
    kind: 'boolean',
    description: 'store identical blocks once',
  },
  {
    name: 'TIDEMARK_CHECKPOINT_BLOCK_CONCURRENCY',
    key: 'checkpoint.blockConcurrency',
    kind: 'integer',
    description: 'blocks encoded and uploaded at once',
  },
  {
    name: 'TIDEMARK_MERGE_MAX_CHAIN_LENGTH',
    key: 'merger.maxChainLength',
    kind: 'integer',
    description: 'merge a chain longer than this into a full checkpoint',
  },
  {
    name: 'TIDEMARK_MERGE_STRATEGY',
    key: 'merger.mergeStrategy',
    kind: 'string',
    description: 'sequential or optimal',
  },
  {
    name: 'TIDEMARK_MERGE_CONFLICT_RESOLUTION',
    key: 'merger.conflictResolution',
    kind: 'string',
    description: 'last-write-wins, first-write-wins or timestamp-priority',
  },
  {
    name: 'TIDEMARK_MERGE_THREADS',
    key: 'merger.parallelThreads',
    kind: 'integer',
    description: 'worker threads of the optimal strategy',
  },
  {
    name: 'TIDEMARK_MERGE_DELTA_COMPRESSION',
    key: 'merger.enableDeltaCompression',
    kind: 'boolean',
    description: 'compress incremental blocks',
  },
  {
    name: 'TIDEMARK_MERGE_COMPRESSION_THRESHOLD',
    key: 'merger.compressionThreshold',
    kind: 'integer',
    description: 'incremental blocks smaller than this stay raw, bytes',
  },
  {
    name: 'TIDEMARK_MERGE_DEDUPLICATION',
    key: 'merger.enableDeduplication',
    kind: 'boolean',
    description: 'store identical incremental blocks once',
  },
  {
    name: 'TIDEMARK_RECOVERY_THREADS',
    key: 'recovery.maxParallelThreads',
    kind: 'integer',
    description: 'worker threads that check and decompress blocks during recovery',
  },
  {
    name: 'TIDEMARK_RECOVERY_TIMEOUT_MS',
    key: 'recovery.recoveryTimeout',
    kind: 'integer',
    description: 'abort a recovery running longer than this, ms (0: no limit)',
  },
  {
    name: 'TIDEMARK_RECOVERY_OPTIMISTIC',
    key: 'recovery.optimisticRecovery',
    kind: 'boolean',
    description: 'a failing component does not stop the others',
  },
  {
    name: 'TIDEMARK_RECOVERY_PREFETCH',
    key: 'recovery.prefetchStrategy',
    kind: 'string',
    description: 'block prefetch: none, sequential or adaptive',
  },
  {
    name: 'TIDEMARK_RECOVERY_FETCH_CONCURRENCY',
    key: 'recovery.fetchConcurrency',
    kind: 'integer',
    description: 'blocks fetched at once during recovery',
  },
  {
    name: 'TIDEMARK_RECOVERY_VERIFICATION_LEVEL',
    key: 'recovery.verificationLevel',
    kind: 'string',
    description: 'recovery checks: basic, standard or full',
  },
];
