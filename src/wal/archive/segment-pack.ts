import type { SegmentInfo } from '..';
import type { PackedSegment } from './uploaded-segments';

/**
 * Packing: consecutive sealed segments go to the store as one object (the files concatenated; a segment
 * file is self-delimiting — header, frames, footer, trailer — so a reader can split a pack without an
 * index), so that small segments cost one PUT per `targetBytes`, not one each. Large segments (the default
 * 64 MiB) are packs of one: one PUT up to the store's multipart threshold, parts (16 MiB) above it.
 *
 * Boundaries are a function of the segments alone — a pack starts at the oldest segment not uploaded and
 * closes as soon as it holds `targetBytes` — so planning again after a crash gives the same packs and the
 * same keys, and a re-upload overwrites rather than duplicates. Only a partial pack (flushed because it
 * waited too long) can differ; the WAL reader takes overlapping packs in its stride.
 */
export interface PackPlanOptions {
  targetBytes: number;
  /** Also return the last, partial pack (it has waited long enough). */
  flushPartial: boolean;
}

export function planPacks(pending: readonly SegmentInfo[], options: PackPlanOptions): SegmentInfo[][] {
  const packs: SegmentInfo[][] = [];
  let current: SegmentInfo[] = [];
  let bytes = 0;
  for (const segment of pending) {
    if (current.length > 0 && segment.firstLsn !== current[current.length - 1]!.lastLsn + 1) {
      // A gap (an empty segment, or one uploaded already): packs hold one contiguous LSN range.
      packs.push(current);
      current = [];
      bytes = 0;
    }
    current.push(segment);
    bytes += segment.sizeBytes;
    if (bytes >= options.targetBytes) {
      packs.push(current);
      current = [];
      bytes = 0;
    }
  }
  if (current.length > 0 && options.flushPartial) packs.push(current);
  return packs;
}

/** Where each segment lies inside its pack. */
export function packLayout(segments: readonly SegmentInfo[]): PackedSegment[] {
  let offset = 0;
  return segments.map((segment) => {
    const packed: PackedSegment = {
      firstLsn: segment.firstLsn,
      lastLsn: segment.lastLsn,
      offset,
      size: segment.sizeBytes,
      entryCount: segment.entryCount,
      minTimestamp: segment.minTimestamp,
      maxTimestamp: segment.maxTimestamp,
    };
    offset += segment.sizeBytes;
    return packed;
  });
}
