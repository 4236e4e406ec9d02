export { SegmentedWal } from './segmented-wal';
export { WalRetentionGuard, type SegmentDeletePolicy } from './wal-retention-guard';
export * from './entry';
export type { WalOptions, WalStats, SegmentInfo, LatencySummary } from './wal-options';
export { DEFAULT_WAL_OPTIONS } from './wal-options';
export { encodeBatch, decodeBatch } from './batch-codec';
export { inspectWal, formatInspection, type WalInspection, type SegmentInspection } from './inspect';
