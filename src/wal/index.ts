/**
 * The WAL's public face: what the rest of Tidemark (and the library) may use. Everything else in src/wal is
 * its own business; the archive (packs, the uploads record) has its face in archive/index.ts. The layer
 * check refuses an import of any other WAL file from outside src/wal.
 */
export { SegmentedWal } from './segmented-wal';
export * from './entry';
export type { WalOptions, WalStats, SegmentInfo, LatencySummary } from './wal-options';
export { DEFAULT_WAL_OPTIONS } from './wal-options';
export { encodeBatch, decodeBatch } from './batch-codec';
export { isValidComponentId } from './entry-codec';
export { parseEntries, checkEntries, type EntrySink } from './entry-decoder';
export type { EntryFrame } from './wal-reader';
export {
  inspectWal,
  formatInspection,
  inspectionFault,
  whyOpenWouldWrite,
  type WalInspection,
  type SegmentInspection,
} from './inspect';
export { decodeSegment, type DecodedSegment } from './segment-decoder';
export type { SegmentHeader } from './segment-header';
export type { SegmentFooter } from './segment-footer';
export { DirLock } from './dir-lock';
