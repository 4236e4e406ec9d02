/**
 * The checkpoint merger's settings: the reference's `MergerConfig`, in TypeScript idiom. Plain data a
 * user tweaks; `resolveMergerConfig` fills the defaults and refuses nonsense with INVALID_ARGUMENT.
 */
import { invalidArgument } from '../../lib/errors';

/** `sequential`: components one after another on the calling thread. `optimal`: planned, parallel. */
export type MergeStrategy = 'sequential' | 'optimal';

/** Which change wins when several hold one for the same key; see conflict-resolution.ts. */
export type ConflictResolution = 'last-write-wins' | 'first-write-wins' | 'timestamp-priority';

export interface MergerConfig {
  /** A chain with more incrementals than this should be merged into a new full checkpoint. */
  maxChainLength: number;
  /** Tell the block writer to compress incremental blocks (carried in IncrementalPlan). */
  enableDeltaCompression: boolean;
  /** Blocks smaller than this many bytes stay raw. */
  compressionThreshold: number;
  mergeStrategy: MergeStrategy;
  /** Tell the block writer to store identical blocks once (carried in IncrementalPlan). */
  enableDeduplication: boolean;
  conflictResolution: ConflictResolution;
  /** Worker threads of the `optimal` strategy. */
  parallelThreads: number;
}

export const DEFAULT_MERGER_CONFIG: Readonly<MergerConfig> = Object.freeze({
  maxChainLength: 10,
  enableDeltaCompression: true,
  compressionThreshold: 1024,
  mergeStrategy: 'sequential', // measured faster than 'optimal' on this machine: see docs/checkpoint-merge.md
  enableDeduplication: true,
  conflictResolution: 'last-write-wins',
  parallelThreads: 2,
});

const STRATEGIES: readonly MergeStrategy[] = ['sequential', 'optimal'];
const RULES: readonly ConflictResolution[] = ['last-write-wins', 'first-write-wins', 'timestamp-priority'];
const MAX_THREADS = 256;

function requireInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(
      `MergerConfig.${name} must be an integer in [${min}, ${max}], got ${String(value)}`,
      {
        field: name,
        value,
      },
    );
  }
}

function requireBoolean(name: string, value: unknown): void {
  if (typeof value !== 'boolean') {
    throw invalidArgument(`MergerConfig.${name} must be a boolean, got ${String(value)}`, {
      field: name,
      value,
    });
  }
}

function requireOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): void {
  if (!allowed.includes(value as T)) {
    throw invalidArgument(`MergerConfig.${name} must be one of ${allowed.join(', ')}, got ${String(value)}`, {
      field: name,
      value,
    });
  }
}

/** Defaults plus `input`, validated. Unknown fields are refused, so a typo does not pass silently. */
export function resolveMergerConfig(input: Partial<MergerConfig> = {}): MergerConfig {
  for (const field of Object.keys(input)) {
    if (!(field in DEFAULT_MERGER_CONFIG)) {
      throw invalidArgument(`MergerConfig has no field ${field}`, { field });
    }
  }
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const config: MergerConfig = { ...DEFAULT_MERGER_CONFIG, ...defined };
  requireInteger('maxChainLength', config.maxChainLength, 1, Number.MAX_SAFE_INTEGER);
  requireBoolean('enableDeltaCompression', config.enableDeltaCompression);
  requireInteger('compressionThreshold', config.compressionThreshold, 0, Number.MAX_SAFE_INTEGER);
  requireOneOf('mergeStrategy', config.mergeStrategy, STRATEGIES);
  requireBoolean('enableDeduplication', config.enableDeduplication);
  requireOneOf('conflictResolution', config.conflictResolution, RULES);
  requireInteger('parallelThreads', config.parallelThreads, 1, MAX_THREADS);
  return config;
}
