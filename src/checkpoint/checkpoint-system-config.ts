import { invalidArgument } from '../lib/errors';
import type { BlockCodec } from './block/codecs';

/** The reference's system configuration, in TypeScript idiom (durations in milliseconds). */
export interface CheckpointSystemConfig {
  /** Periodic checkpoints (kind auto); 0 turns them off. */
  checkpointInterval: number;
  /** Periodic chain optimisation: a chain longer than the merger's maxChainLength is merged into a full one; 0: off. */
  cleanupInterval: number;
  /** `auto` writes a full checkpoint once the newest chain has this many incrementals. */
  maxIncrementalChainLength: number;
  nodeId: string;
  /** Object-key prefix in the store. */
  prefix: string;
  codec: BlockCodec;
  /** Blocks below this many raw bytes stay uncompressed. */
  compressionThreshold: number;
  /** Target block size of content-defined chunking. */
  targetBlockSize: number;
  enableDeduplication: boolean;
  /** Blocks encoded and uploaded at once. */
  blockConcurrency: number;
}

export const DEFAULT_CHECKPOINT_SYSTEM_CONFIG: Readonly<CheckpointSystemConfig> = Object.freeze({
  checkpointInterval: 60_000,
  cleanupInterval: 3_600_000,
  maxIncrementalChainLength: 20,
  nodeId: 'node-1',
  prefix: 'tidemark',
  codec: 'zstd',
  compressionThreshold: 1024,
  targetBlockSize: 1024 * 1024,
  enableDeduplication: true,
  blockConcurrency: 4,
});

export function resolveSystemConfig(config: Partial<CheckpointSystemConfig>): CheckpointSystemConfig {
  const resolved = { ...DEFAULT_CHECKPOINT_SYSTEM_CONFIG, ...config };
  for (const key of ['checkpointInterval', 'cleanupInterval', 'compressionThreshold'] as const) {
    if (!Number.isSafeInteger(resolved[key]) || resolved[key] < 0) {
      throw invalidArgument(`checkpoint option ${key} must be a non-negative integer`);
    }
  }
  for (const key of ['maxIncrementalChainLength', 'targetBlockSize', 'blockConcurrency'] as const) {
    if (!Number.isSafeInteger(resolved[key]) || resolved[key] <= 0) {
      throw invalidArgument(`checkpoint option ${key} must be a positive integer`);
    }
  }
  return resolved;
}
