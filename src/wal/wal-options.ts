import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';

/** A segment as the retention policy and the tiering layer see it. */
export interface SegmentInfo {
  /** File name inside the WAL directory: `{firstLsn, 20 digits}.wal`. */
  name: string;
  path: string;
  firstLsn: number;
  /** `firstLsn - 1` for an empty segment. */
  lastLsn: number;
  entryCount: number;
  sizeBytes: number;
  sealed: boolean;
  /** crc32c of the frames between header and footer; only known once sealed. */
  bodyCrc?: number;
  /** Entry timestamps (µs) the segment spans; 0 when it holds no entries. */
  minTimestamp: number;
  maxTimestamp: number;
}

export interface WalOptions {
  /** Rotate to a new segment once the active one would pass this many bytes. */
  segmentSize: number;
  /** fdatasync before an append resolves (group commit). Off: resolve after the write. */
  enableSync: boolean;
  /** Upper bound, in bytes, of one flush (one write + one fdatasync). A single larger frame still goes alone. */
  bufferSize: number;
  /** Upper bound, in entries, of one flush. */
  maxBatchSize: number;
  /** Sealed segments kept locally whatever `canDelete` says. */
  retentionSegments: number;
  /** zstd-compress frame payloads of at least `compressionThreshold` bytes. */
  enableCompression: boolean;
  compressionThreshold: number;
  /** Largest encoded entry accepted. */
  maxEntryBytes: number;
  /** Refuse an entry whose sequence does not rise for its component. */
  enforceSequence: boolean;
  /**
   * Refuse a timestamp that cannot be µs since the epoch (before 2000 or from 2200 on, read as µs): a time
   * in milliseconds would otherwise be stored as January 1970. Off: any non-negative safe integer.
   */
  validateTimestamps: boolean;
  /** Zero-fill the next segment ahead of time so fdatasync need not update the file size. */
  preallocate: boolean;
  /** Asked before an old sealed segment is deleted; a node passes "uploaded and covered" (node/segment-retention.ts). */
  canDelete: (segment: SegmentInfo) => boolean | Promise<boolean>;
  logger?: Logger;
  /** Segment headers' creation times and fsync latency (default: the system clock). */
  clock?: Clock;
}

export const DEFAULT_WAL_OPTIONS: Readonly<Omit<WalOptions, 'logger' | 'clock'>> = {
  segmentSize: 64 * 1024 * 1024,
  enableSync: true,
  bufferSize: 1024 * 1024,
  maxBatchSize: 16_384,
  retentionSegments: 10,
  enableCompression: false,
  compressionThreshold: 4096,
  maxEntryBytes: 16 * 1024 * 1024,
  enforceSequence: true,
  validateTimestamps: true,
  preallocate: true,
  canDelete: () => false, // the bare library keeps every sealed segment until told what may go
};

export interface LatencySummary {
  count: number;
  p50Micros: number;
  p99Micros: number;
  maxMicros: number;
}

export interface WalStats {
  /** Oldest LSN still held locally; `nextLsn` when the log is empty. */
  firstLsn: number;
  /** Newest durable (or written, without sync) LSN; `firstLsn - 1` when empty. */
  lastLsn: number;
  nextLsn: number;
  segments: number;
  sealedSegments: number;
  bytes: number;
  appendedEntries: number;
  flushes: number;
  /** Latency of fdatasync over the most recent flushes. */
  fsync: LatencySummary;
  /** What open found and mended: bytes of a torn tail it cut, and where. */
  recovery: { truncatedBytes: number; truncatedAt?: { file: string; offset: number } };
  /** Sealed segments deleted by retention since open. */
  deletedSegments: number;
}
