/**
 * The WAL archive's face: how sealed segments leave the node (planned into packs, streamed with their
 * checksum, recorded once verified) and how a pack is read back (split into segments, their records read
 * from memory). Tiering ships through it, recovery and verification read through it.
 */
export { planPacks, packLayout, type PackPlanOptions } from './segment-pack';
export { checkSealedSegment, checksumStream, Crc32cTap, openPackStream } from './pack-checksum';
export { splitPack, type SplitSegment } from './pack-splitter';
export {
  UploadedSegments,
  UPLOADED_SEGMENTS_FILE,
  type UploadedPack,
  type PackedSegment,
} from './uploaded-segments';
export { readSegmentBuffer } from '../segment-buffer-reader';
