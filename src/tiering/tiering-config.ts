import type { RetentionPolicy } from './maintenance/retention-policy';

/** The tiering layer's settings (durations in ms); the configuration's `tiering` section. */
export interface TieringConfig {
  /** BullMQ on this Redis when set (cluster mode); jobs in process otherwise. */
  redisUrl?: string;
  /** Prefix of Redis keys (queues and leases). */
  redisKeyPrefix: string;
  upload: {
    /** A pack of sealed segments closes at this size: at most one PUT per this many bytes. */
    packTargetBytes: number;
    /** A partial pack is shipped anyway after waiting this long. */
    maxPackDelayMs: number;
    /** Packs uploaded at once. */
    concurrency: number;
    /** How often the reconciler looks for sealed segments not yet uploaded (it also runs at start). */
    reconcileIntervalMs: number;
  };
  retention: RetentionPolicy & { intervalMs: number };
  gc: { graceMs: number; intervalMs: number; fullSweepIntervalMs: number };
  lease: { ttlMs: number; renewIntervalMs: number };
}

export const DEFAULT_TIERING_CONFIG: Readonly<TieringConfig> = Object.freeze({
  redisKeyPrefix: 'tidemark',
  upload: {
    packTargetBytes: 8 * 1024 * 1024,
    maxPackDelayMs: 60_000,
    concurrency: 2,
    reconcileIntervalMs: 30_000,
  },
  retention: { keepFullCheckpoints: 2, pitrWindowMs: 86_400_000, intervalMs: 600_000 },
  gc: { graceMs: 3_600_000, intervalMs: 3_600_000, fullSweepIntervalMs: 86_400_000 },
  lease: { ttlMs: 15_000, renewIntervalMs: 5_000 },
});
