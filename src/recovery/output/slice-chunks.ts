import { writeVarint, varintSize } from '../../checkpoint/block/varint';
import type { RunSlice } from '../../checkpoint/run/run-slice';
import { writeU64 } from '../../lib/uint64';

/**
 * A recovered component's records written straight from its run slices into output chunks of about
 * `chunkBytes` (never an object per record): each record's bytes are laid out by `layout`, which says how
 * long a record is and writes it.
 */
interface RecordLayout {
  size(keyLength: number, valueLength: number): number;
  write(out: Buffer, at: number, slice: RunSlice, i: number): number;
}

function* chunks(slices: readonly RunSlice[], chunkBytes: number, layout: RecordLayout): Generator<Buffer> {
  let chunk = Buffer.allocUnsafe(chunkBytes);
  let at = 0;
  for (const slice of slices) {
    const { run } = slice;
    for (let i = slice.start; i < slice.end; i++) {
      const size = layout.size(
        run.keyStarts[i + 1]! - run.keyStarts[i]!,
        run.valueStarts[i + 1]! - run.valueStarts[i]!,
      );
      if (at + size > chunk.length) {
        if (at > 0) yield chunk.subarray(0, at);
        chunk = Buffer.allocUnsafe(Math.max(chunkBytes, size));
        at = 0;
      }
      at = layout.write(chunk, at, slice, i);
    }
  }
  if (at > 0) yield chunk.subarray(0, at);
}

/** The state file's records (record-codec.ts, as puts): op u8 1 | keyLen varint | key | valueLen varint | value | lsn u64 | timestamp u64. */
const STATE_FILE_RECORD: RecordLayout = {
  size: (k, v) => 1 + varintSize(k) + k + varintSize(v) + v + 16,
  write(out, at, { run }, i) {
    const ks = run.keyStarts[i]!;
    const ke = run.keyStarts[i + 1]!;
    const vs = run.valueStarts[i]!;
    const ve = run.valueStarts[i + 1]!;
    out[at++] = 1;
    at = writeVarint(out, ke - ks, at);
    at += run.keyBytes.copy(out, at, ks, ke);
    at = writeVarint(out, ve - vs, at);
    at += run.valueBytes.copy(out, at, vs, ve);
    writeU64(out, run.lsns[i]!, at);
    writeU64(out, run.timestamps[i]!, at + 8);
    return at + 16;
  },
};

/** The binary stream's records: keyLen u32 | key | valueLen u32 | value. */
const STREAM_RECORD: RecordLayout = {
  size: (k, v) => 8 + k + v,
  write(out, at, { run }, i) {
    const ks = run.keyStarts[i]!;
    const ke = run.keyStarts[i + 1]!;
    const vs = run.valueStarts[i]!;
    const ve = run.valueStarts[i + 1]!;
    out.writeUInt32LE(ke - ks, at);
    at += 4;
    at += run.keyBytes.copy(out, at, ks, ke);
    out.writeUInt32LE(ve - vs, at);
    at += 4;
    return at + run.valueBytes.copy(out, at, vs, ve);
  },
};

export function stateFileChunks(slices: readonly RunSlice[], chunkBytes: number): Generator<Buffer> {
  return chunks(slices, chunkBytes, STATE_FILE_RECORD);
}

export function streamRecordChunks(slices: readonly RunSlice[], chunkBytes: number): Generator<Buffer> {
  return chunks(slices, chunkBytes, STREAM_RECORD);
}
