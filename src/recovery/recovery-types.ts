import type { Snapshot } from '../checkpoint/state/state-types';

/**
 * What to recover to: a checkpoint as it was committed, a log position, or a point in time (µs since the
 * epoch, as WAL entry timestamps are). `recoverTo` of a time yields the state after the longest prefix of
 * the log whose entries are all at or before that time.
 */
export type RecoveryTarget = { checkpointId: number } | { lsn: number } | { time: number };

export type PrefetchStrategy = 'none' | 'sequential' | 'adaptive';
export type VerificationLevel = 'basic' | 'standard' | 'full';

/** The reference's recovery configuration, in TypeScript idiom (durations in ms). */
export interface RecoveryConfig {
  /** Worker threads that verify, decompress and decode blocks (1 = none: on the calling thread). */
  maxParallelThreads: number;
  /** A recovery not done after this long is aborted cleanly (TIMEOUT); 0: no limit. */
  recoveryTimeout: number;
  /** A component that fails does not stop the others; the result reports it. */
  optimisticRecovery: boolean;
  /** none: fetch a block when it is decoded; sequential: keep `prefetchDepth` fetches ahead; adaptive: grow the depth while fetching is the bottleneck. */
  prefetchStrategy: PrefetchStrategy;
  /** Blocks fetched at once (and the sequential prefetch depth). */
  fetchConcurrency: number;
  verificationLevel: VerificationLevel;
}

export const DEFAULT_RECOVERY_CONFIG: Readonly<RecoveryConfig> = Object.freeze({
  maxParallelThreads: 2,
  recoveryTimeout: 0,
  optimisticRecovery: false,
  prefetchStrategy: 'adaptive',
  fetchConcurrency: 8,
  verificationLevel: 'standard',
});

/** One object a plan reads. */
export interface PlannedObject {
  key: string;
  bytes: number;
  kind: 'manifest' | 'block' | 'wal-pack' | 'wal-local';
}

export interface PlannedCheckpoint {
  id: number;
  kind: 'full' | 'incremental';
  lsn: number;
  timestamp: number;
  /** Blocks this checkpoint names for the components recovered. */
  blocks: number;
  blockBytes: number;
}

/** A dry run: what a recovery would read, and from where. `GET /v1/recovery/plan` returns it. */
export interface RecoveryPlan {
  target: RecoveryTarget;
  components: string[] | 'all';
  /** The chain restored: the full checkpoint first, then its incrementals up to the one chosen. Empty: from the log's start. */
  checkpoints: PlannedCheckpoint[];
  /** The WAL replayed after the checkpoint: (fromLsn - 1, toLsn]; toLsn is the target LSN or, for a time target, the last LSN that may qualify. */
  wal: { fromLsn: number; toLsn: number; local: PlannedObject[]; remote: PlannedObject[] } | undefined;
  /** Distinct objects read (blocks shared by chain links counted once), their bytes and GET requests. */
  objects: number;
  bytes: number;
  getRequests: number;
  /** From the bytes and a throughput measured or assumed (see estimateNote). */
  estimatedDurationMs: number;
  estimateNote: string;
}

export interface ComponentOutcome {
  componentId: string;
  /** Present when it was recovered. */
  keyCount?: number;
  bytes?: number;
  /** Where its state came from: the checkpoint restored (the newest link of its chain); absent: from the log alone. */
  fromCheckpoint?: number;
  /** WAL entries of this component replayed after that checkpoint. */
  walEntriesApplied?: number;
  /** Present when it failed (optimistic mode; otherwise the whole recovery rejects). */
  error?: { code: string; message: string };
}

export interface RecoveryResult {
  target: RecoveryTarget;
  /** The LSN the state is at (the cut). */
  lsn: number;
  /** The recovered state of the components that succeeded. */
  state: Snapshot;
  components: ComponentOutcome[];
  stats: {
    durationMs: number;
    blocksRead: number;
    bytesRead: number;
    logicalBytes: number;
    walEntries: number;
    verificationLevel: VerificationLevel;
  };
}

/** Progress reports while recovering (the CLI draws bars from them). */
export interface RecoveryProgress {
  phase: 'plan' | 'blocks' | 'wal' | 'verify' | 'done';
  /** Blocks fetched and checked so far, of the chain's blocks for the components recovered. */
  blocksDone: number;
  blocksTotal: number;
  /** Stored bytes of those blocks (WAL bytes are not counted). */
  bytesDone: number;
  bytesTotal: number;
  componentsDone: number;
  componentsTotal: number;
}
