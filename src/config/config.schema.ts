import * as path from 'node:path';
import { z } from 'zod';
import { clusterSchema } from './cluster.schema';
import type { BlockCodec } from '../checkpoint/block/codecs';
import { DEFAULT_CHECKPOINT_SYSTEM_CONFIG } from '../checkpoint/checkpoint-system-config';
import { DEFAULT_MERGER_CONFIG } from '../checkpoint/merge/merger-config';
import { DEFAULT_WAL_OPTIONS } from '../wal';
import { recoverySchema } from './recovery.schema';
import { storageSchema } from './storage.schema';
import { tieringSchema } from './tiering.schema';
import { bool, nonEmptyString, nonNegativeInt, oneOf, positiveInt } from './schema-primitives';

/**
 * Tidemark's one configuration schema. Every key has a default, so an empty configuration is the embedded
 * single-node mode: listen on 127.0.0.1:7070, data in ./data, the WAL in ./data/wal, the object store in
 * ./data/store.
 * Objects are strict: an unknown key (a typo in the YAML file) is an error, not silently ignored.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const logLevel = z.enum(LOG_LEVELS, {
  errorMap: () => ({ message: `expected one of ${LOG_LEVELS.join(', ')}` }),
});

const PORT = 'expected a port number (0-65535)';

const serverSchema = z
  .object({
    host: nonEmptyString('a host name or address').default('127.0.0.1'),
    port: z
      .number({ invalid_type_error: PORT, required_error: PORT })
      .int(PORT)
      .min(0, PORT)
      .max(65535, PORT)
      .default(7070),
    /** Largest request body accepted (JSON or octet-stream), in bytes. */
    bodyLimit: positiveInt(256 * 1024 * 1024),
    /**
     * How long a shutdown (SIGTERM, SIGINT) may take, ms: then what has not closed is cut off — the WAL is
     * closed (its lock released) and the process exits. Below Kubernetes' default grace of 30 s.
     */
    shutdownTimeoutMs: positiveInt(20_000),
  })
  .strict();

const walSchema = z
  .object({
    /** Defaults to `{dataDir}/wal`. */
    dir: nonEmptyString('a directory path').optional(),
    segmentSize: positiveInt(DEFAULT_WAL_OPTIONS.segmentSize),
    enableSync: bool(DEFAULT_WAL_OPTIONS.enableSync),
    bufferSize: positiveInt(DEFAULT_WAL_OPTIONS.bufferSize),
    maxBatchSize: positiveInt(DEFAULT_WAL_OPTIONS.maxBatchSize),
    retentionSegments: nonNegativeInt(DEFAULT_WAL_OPTIONS.retentionSegments),
    enableCompression: bool(DEFAULT_WAL_OPTIONS.enableCompression),
    compressionThreshold: nonNegativeInt(DEFAULT_WAL_OPTIONS.compressionThreshold),
    maxEntryBytes: positiveInt(DEFAULT_WAL_OPTIONS.maxEntryBytes),
    enforceSequence: bool(DEFAULT_WAL_OPTIONS.enforceSequence),
    /** Refuse entry timestamps that cannot be µs since the epoch (before 2000, from 2200). */
    validateTimestamps: bool(DEFAULT_WAL_OPTIONS.validateTimestamps),
    preallocate: bool(DEFAULT_WAL_OPTIONS.preallocate),
  })
  .strict();

const CODECS = ['zstd', 'lz4', 'snappy', 'none'] as const satisfies readonly BlockCodec[];
const MERGE_STRATEGIES = ['sequential', 'optimal'] as const;
const CONFLICT_RESOLUTIONS = ['last-write-wins', 'first-write-wins', 'timestamp-priority'] as const;

const checkpointDefaults = DEFAULT_CHECKPOINT_SYSTEM_CONFIG;

/** The checkpoint system (IncrementalCheckpointSystem); its key prefix is `storage.prefix`. */
const checkpointSchema = z
  .object({
    /** Periodic checkpoints (kind auto), ms; 0 turns them off. */
    checkpointInterval: nonNegativeInt(checkpointDefaults.checkpointInterval),
    /** Periodic chain optimisation, ms; 0 turns it off. */
    cleanupInterval: nonNegativeInt(checkpointDefaults.cleanupInterval),
    maxIncrementalChainLength: positiveInt(checkpointDefaults.maxIncrementalChainLength),
    nodeId: nonEmptyString('a node id').default(checkpointDefaults.nodeId),
    codec: oneOf(CODECS).default(checkpointDefaults.codec),
    compressionThreshold: nonNegativeInt(checkpointDefaults.compressionThreshold),
    targetBlockSize: positiveInt(checkpointDefaults.targetBlockSize),
    enableDeduplication: bool(checkpointDefaults.enableDeduplication),
    blockConcurrency: positiveInt(checkpointDefaults.blockConcurrency),
  })
  .strict();

const MAX_THREADS = 'expected an integer from 1 to 256';

/** The checkpoint merger (CheckpointMerger's MergerConfig). */
const mergerSchema = z
  .object({
    maxChainLength: positiveInt(DEFAULT_MERGER_CONFIG.maxChainLength),
    mergeStrategy: oneOf(MERGE_STRATEGIES).default(DEFAULT_MERGER_CONFIG.mergeStrategy),
    conflictResolution: oneOf(CONFLICT_RESOLUTIONS).default(DEFAULT_MERGER_CONFIG.conflictResolution),
    parallelThreads: z
      .number({ invalid_type_error: MAX_THREADS, required_error: MAX_THREADS })
      .int(MAX_THREADS)
      .min(1, MAX_THREADS)
      .max(256, MAX_THREADS)
      .default(DEFAULT_MERGER_CONFIG.parallelThreads),
    enableDeltaCompression: bool(DEFAULT_MERGER_CONFIG.enableDeltaCompression),
    compressionThreshold: nonNegativeInt(DEFAULT_MERGER_CONFIG.compressionThreshold),
    enableDeduplication: bool(DEFAULT_MERGER_CONFIG.enableDeduplication),
  })
  .strict();

const logSchema = z
  .object({
    level: logLevel.default('info'),
    /** Per-module levels, e.g. `{ wal: debug, http: warn }`; a module not named logs at `level`. */
    modules: z.record(nonEmptyString('a module name'), logLevel).default({}),
  })
  .strict();

export const configSchema = z
  .object({
    server: serverSchema.default({}),
    dataDir: nonEmptyString('a directory path').default('./data'),
    wal: walSchema.default({}),
    storage: storageSchema.default({}),
    checkpoint: checkpointSchema.default({}),
    merger: mergerSchema.default({}),
    tiering: tieringSchema.default({}),
    recovery: recoverySchema.default({}),
    log: logSchema.default({}),
    cluster: clusterSchema.default({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const { endpoints, join } = config.cluster;
    const self = config.checkpoint.nodeId;
    if (endpoints.length > 0 && !join && !endpoints.some((e) => e.id === self)) {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster', 'endpoints'],
        message: `this node (checkpoint.nodeId "${self}") is not among the endpoints`,
      });
    }
  })
  .transform((config) => ({
    ...config,
    wal: { ...config.wal, dir: config.wal.dir ?? path.join(config.dataDir, 'wal') },
    storage:
      config.storage.backend === 'LocalFile'
        ? { ...config.storage, basePath: config.storage.basePath ?? path.join(config.dataDir, 'store') }
        : config.storage,
  }));

/** What the YAML file and the environment may say (everything optional). */
export type TidemarkConfigInput = z.input<typeof configSchema>;
/** The validated configuration, every default filled in. */
export type TidemarkConfig = z.output<typeof configSchema>;
export type WalConfig = TidemarkConfig['wal'];
export type StorageConfig = TidemarkConfig['storage'];
export type LogConfig = TidemarkConfig['log'];
export type CheckpointConfig = TidemarkConfig['checkpoint'];
export type MergerSettings = TidemarkConfig['merger'];
export type TieringSettings = TidemarkConfig['tiering'];
export type { ClusterSettings } from './cluster.schema';
