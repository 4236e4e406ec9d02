export { SegmentedWal } from './segmented-wal';
export * from './entry';
export type { WalOptions, WalStats, SegmentInfo, LatencySummary } from './wal-options';
export { DEFAULT_WAL_OPTIONS } from './wal-options';
export { encodeBatch, decodeBatch } from './batch-codec';
export { inspectWal, formatInspection, type WalInspection, type SegmentInspection } from './inspect';
