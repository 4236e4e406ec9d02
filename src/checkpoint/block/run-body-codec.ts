import { TidemarkError } from '../../lib/errors';
import { allocatePackedRun } from '../run/run-transfer';
import type { SortedRun } from '../run/sorted-run';

/**
 * The raw body of a format-2 block: a sorted run laid out in columns, so that like bytes sit together for
 * the compressor and a decoder fills typed arrays without an object per record (docs/checkpoint-blocks.md):
 *
 *   count varint | flags u8 | keyPrefixLen varint × count | keySuffixLen varint × count
 *   | valueLen varint × count | [delete bitmap ⌈count/8⌉ B] | lsn column | timestamp column
 *   | key suffixes | values
 *
 * Keys are front-coded: each stores the length of the prefix it shares with the key before it, then the
 * rest (window keys share most of their bytes). A delete has value length 0 and its bit set (bit i%8 of
 * byte i/8). flags: bit 0 the bitmap is present; bits 1–2 the LSN column's mode, bits 3–4 the timestamp's:
 *   0 constant: one varint;  1 deltas: the first value, then zigzag(v[i] − v[i−1]) for the rest;
 *   2 offsets: the minimum, then v[i] − minimum for every record.
 * Mode 1 (chosen when every delta fits 51 bits) turns a run whose LSNs rise with its keys into a column
 * of equal small bytes; mode 2 covers the rest. Varints are LEB128, up to 2^53 − 1.
 * Measured on the bench's window state (1 MiB blocks, zstd 3): format 1 stores 37.0% of the logical bytes,
 * this layout 31.1%.
 */

const FLAG_DELETES = 1;
const MODE_CONSTANT = 0;
const MODE_DELTAS = 1;
const MODE_OFFSETS = 2;
const LSN_SHIFT = 1;
const TIMESTAMP_SHIFT = 3;
/** Deltas up to this magnitude zigzag into a safe integer. */
const MAX_DELTA = 2 ** 51;
const MAX_VARINT_BYTES = 8;
/** Up to this many bytes a JS loop copies faster than Buffer.copy. */
const SHORT_COPY = 24;

/**
 * The encoded body of `run` records [start, end), after `headerRoom` unwritten bytes. SERIALIZATION_ERROR
 * when the keys do not rise strictly.
 */
export function encodeRunBody(run: SortedRun, start: number, end: number, headerRoom: number): Buffer {
  const count = end - start;
  const keyBytes = run.keyBytes;
  const keyStarts = run.keyStarts;
  const valueStarts = run.valueStarts;
  const values = valueStarts[end]! - valueStarts[start]!;
  // Upper bound: 3 length varints of ≤ 5 bytes, the bitmap, two columns of ≤ 8-byte varints, the bytes.
  const bound =
    headerRoom +
    6 +
    count * 15 +
    Math.ceil(count / 8) +
    2 * (MAX_VARINT_BYTES * (count + 1)) +
    (keyStarts[end]! - keyStarts[start]!) +
    values;
  const out = Buffer.allocUnsafe(bound);
  let at = writeVarint(out, count, headerRoom);
  const flagsAt = at++;
  const deletes = run.deletes;
  let anyDelete = false;
  if (deletes !== undefined) for (let i = start; i < end && !anyDelete; i++) anyDelete = deletes[i] === 1;
  // Front-coded keys: shared prefix lengths, then suffix lengths.
  const prefixes = new Uint32Array(count);
  for (let i = start; i < end; i++) {
    let shared = 0;
    if (i > start) {
      const a = keyStarts[i - 1]!;
      const b = keyStarts[i]!;
      const length = keyStarts[i + 1]! - b;
      const limit = Math.min(b - a, length);
      while (shared < limit && keyBytes[a + shared] === keyBytes[b + shared]) shared++;
      // What the decoder will check: each key strictly above the one before.
      if (shared === length || (shared < b - a && keyBytes[b + shared]! < keyBytes[a + shared]!)) {
        throw new TidemarkError('SERIALIZATION_ERROR', `record ${i - start}: keys must rise strictly`, {
          details: { index: i - start },
        });
      }
    }
    prefixes[i - start] = shared;
    at = writeVarint(out, shared, at);
  }
  for (let i = start; i < end; i++) {
    const suffix = keyStarts[i + 1]! - keyStarts[i]! - prefixes[i - start]!;
    at = writeVarint(out, suffix, at);
  }
  for (let i = start; i < end; i++) at = writeVarint(out, valueStarts[i + 1]! - valueStarts[i]!, at);
  if (anyDelete) {
    const bitmap = Math.ceil(count / 8);
    out.fill(0, at, at + bitmap);
    for (let i = start; i < end; i++)
      if (deletes![i] === 1) out[at + ((i - start) >> 3)]! |= 1 << ((i - start) & 7);
    at += bitmap;
  }
  const lsn = writeColumn(out, at, run.lsns, start, end);
  const timestamp = writeColumn(out, lsn.at, run.timestamps, start, end);
  at = timestamp.at;
  out[flagsAt] =
    (anyDelete ? FLAG_DELETES : 0) | (lsn.mode << LSN_SHIFT) | (timestamp.mode << TIMESTAMP_SHIFT);
  for (let i = start; i < end; i++) {
    const from = keyStarts[i]! + prefixes[i - start]!;
    const to = keyStarts[i + 1]!;
    // A native copy costs more than a short loop: suffixes of front-coded keys are mostly a few bytes.
    if (to - from > SHORT_COPY) at += keyBytes.copy(out, at, from, to);
    else for (let b = from; b < to; b++) out[at++] = keyBytes[b]!;
  }
  at += run.valueBytes.copy(out, at, valueStarts[start]!, valueStarts[end]!);
  return out.subarray(0, at);
}

function writeColumn(
  out: Buffer,
  start: number,
  column: Float64Array,
  from: number,
  to: number,
): { at: number; mode: number } {
  let at = start;
  if (to === from) return { at: writeVarint(out, 0, at), mode: MODE_CONSTANT };
  let min = column[from]!;
  let constant = true;
  let deltasFit = true;
  for (let i = from + 1; i < to; i++) {
    const v = column[i]!;
    if (v < min) min = v;
    if (v !== column[from]) constant = false;
    if (Math.abs(v - column[i - 1]!) > MAX_DELTA) deltasFit = false;
  }
  if (constant) return { at: writeVarint(out, column[from]!, at), mode: MODE_CONSTANT };
  if (deltasFit) {
    at = writeVarint(out, column[from]!, at);
    for (let i = from + 1; i < to; i++) {
      const d = column[i]! - column[i - 1]!;
      at = writeVarint(out, d >= 0 ? 2 * d : -2 * d - 1, at);
    }
    return { at, mode: MODE_DELTAS };
  }
  at = writeVarint(out, min, at);
  for (let i = from; i < to; i++) at = writeVarint(out, column[i]! - min, at);
  return { at, mode: MODE_OFFSETS };
}

function writeVarint(out: Buffer, value: number, at: number): number {
  if (value < 0x80) {
    out[at] = value;
    return at + 1;
  }
  if (value <= 0x7fff_ffff) {
    let small = value;
    while (small >= 0x80) {
      out[at++] = (small & 0x7f) | 0x80;
      small >>>= 7;
    }
    out[at++] = small;
    return at;
  }
  let v = value;
  while (v >= 0x80) {
    out[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[at++] = v;
  return at;
}

function corrupt(message: string, offset: number): TidemarkError {
  return new TidemarkError('DESERIALIZATION_ERROR', `malformed block body: ${message} at byte ${offset}`, {
    details: { offset },
  });
}

/** A cursor over a body: varint reads that refuse to run past its end or past 2^53. */
class BodyReader {
  at = 0;
  constructor(readonly bytes: Buffer) {}

  varint(what: string): number {
    const bytes = this.bytes;
    let value = 0;
    let scale = 1;
    for (let n = 0; n < MAX_VARINT_BYTES; n++) {
      if (this.at >= bytes.length) throw corrupt(`truncated ${what}`, this.at);
      const byte = bytes[this.at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) throw corrupt(`${what} beyond 2^53`, this.at);
        return value;
      }
      scale *= 0x80;
    }
    throw corrupt(`${what}: varint too long`, this.at);
  }
}

/**
 * The run a format-2 body holds (`expectedCount` records, from the block header), in one buffer
 * (run-transfer.ts) a block worker moves as it is: keys rebuilt into it, values copied (one memcpy). Checks the
 * layout whole — lengths within the body, no byte left over, deletes without values — and that the keys
 * strictly rise (front coding makes that one byte comparison per key). DESERIALIZATION_ERROR otherwise.
 */
export function decodeRunBody(raw: Buffer, expectedCount: number): SortedRun {
  const reader = new BodyReader(raw);
  const count = reader.varint('record count');
  if (count !== expectedCount) throw corrupt(`${count} records, the header says ${expectedCount}`, 0);
  // Every record takes at least three length bytes: a count beyond that is corrupt, not an allocation.
  if (count * 3 > raw.length) throw corrupt(`${count} records cannot fit ${raw.length} bytes`, 0);
  if (reader.at >= raw.length) throw corrupt('truncated flags', reader.at);
  const flags = raw[reader.at++]!;
  const lsnMode = (flags >> LSN_SHIFT) & 3;
  const timestampMode = (flags >> TIMESTAMP_SHIFT) & 3;
  if (flags >> 5 !== 0 || lsnMode > MODE_OFFSETS || timestampMode > MODE_OFFSETS) {
    throw corrupt(`unknown flags 0x${flags.toString(16)}`, reader.at - 1);
  }
  const prefixes = new Uint32Array(count);
  for (let i = 0; i < count; i++) prefixes[i] = reader.varint('key prefix length');
  if (count > 0 && prefixes[0] !== 0) throw corrupt('the first key shares a prefix', reader.at);
  const keyStarts = new Uint32Array(count + 1);
  let suffixTotal = 0;
  for (let i = 0; i < count; i++) {
    const suffix = reader.varint('key suffix length');
    suffixTotal += suffix;
    if (suffixTotal > raw.length) throw corrupt('key suffixes beyond the body', reader.at);
    const prefix = prefixes[i]!;
    if (i > 0 && prefix > keyStarts[i]! - keyStarts[i - 1]!) {
      throw corrupt(`key ${i} shares more bytes than the key before it has`, reader.at);
    }
    // Keys are rebuilt into one buffer: their whole lengths may not outgrow what a Uint32 offset holds.
    const next = keyStarts[i]! + prefix + suffix;
    if (next > 0xffff_ffff) throw corrupt('keys beyond 4 GiB', reader.at);
    keyStarts[i + 1] = next;
  }
  const valueStarts = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) {
    const length = reader.varint('value length');
    const next = valueStarts[i]! + length;
    if (next > raw.length) throw corrupt('values beyond the body', reader.at);
    valueStarts[i + 1] = next;
  }
  let deletes: Uint8Array | undefined;
  if ((flags & FLAG_DELETES) !== 0) {
    const bitmap = Math.ceil(count / 8);
    if (reader.at + bitmap > raw.length) throw corrupt('truncated delete bitmap', reader.at);
    deletes = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      if ((raw[reader.at + (i >> 3)]! >> (i & 7)) & 1) {
        if (valueStarts[i + 1] !== valueStarts[i]) throw corrupt(`delete ${i} has a value`, reader.at);
        deletes[i] = 1;
      }
    }
    reader.at += bitmap;
  }
  // One buffer for the whole run (run-transfer.ts): a block worker moves it to the caller as it is.
  const run = allocatePackedRun(count, deletes !== undefined, keyStarts[count]!, valueStarts[count]!);
  readColumn(reader, lsnMode, run.lsns, 'lsn');
  readColumn(reader, timestampMode, run.timestamps, 'timestamp');
  const suffixAt = reader.at;
  const valuesAt = suffixAt + suffixTotal;
  if (valuesAt + valueStarts[count]! !== raw.length) {
    throw corrupt(
      `the body holds ${raw.length} bytes, its columns account for ${valuesAt + valueStarts[count]!}`,
      suffixAt,
    );
  }
  run.keyStarts.set(keyStarts);
  run.valueStarts.set(valueStarts);
  if (deletes !== undefined) run.deletes!.set(deletes);
  rebuildKeys(raw, suffixAt, prefixes, keyStarts, count, run.keyBytes);
  raw.copy(run.valueBytes, 0, valuesAt);
  return run;
}

/** Fills `column` (one value per record) from the body. */
function readColumn(reader: BodyReader, mode: number, column: Float64Array, what: string): void {
  const count = column.length;
  const first = reader.varint(what);
  if (mode === MODE_CONSTANT) {
    column.fill(first);
    return;
  }
  if (mode === MODE_DELTAS) {
    let value = first;
    if (count > 0) column[0] = value;
    for (let i = 1; i < count; i++) {
      const zigzag = reader.varint(what);
      // Integer arithmetic below 2^31 (profiled: the double division was most of the column's time).
      value +=
        zigzag < 0x8000_0000
          ? (zigzag >>> 1) ^ -(zigzag & 1)
          : zigzag % 2 === 0
            ? zigzag / 2
            : -(zigzag + 1) / 2;
      if (value < 0 || value > Number.MAX_SAFE_INTEGER) throw corrupt(`${what} out of range`, reader.at);
      column[i] = value;
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    const value = first + reader.varint(what);
    if (value > Number.MAX_SAFE_INTEGER) throw corrupt(`${what} beyond 2^53`, reader.at);
    column[i] = value;
  }
}

/** Front-coded keys back to whole keys in `keys`, checking that each is above the one before. */
function rebuildKeys(
  raw: Buffer,
  suffixAt: number,
  prefixes: Uint32Array,
  keyStarts: Uint32Array,
  count: number,
  keys: Buffer,
): void {
  let from = suffixAt;
  for (let i = 0; i < count; i++) {
    const start = keyStarts[i]!;
    const end = keyStarts[i + 1]!;
    const prefix = prefixes[i]!;
    if (i > 0) {
      const previous = keyStarts[i - 1]!;
      for (let b = 0; b < prefix; b++) keys[start + b] = keys[previous + b]!;
      // Strictly above the key before: longer than the shared prefix, and where they differ, greater.
      const previousLength = start - previous;
      if (end - start <= prefix || (prefix < previousLength && raw[from]! <= keys[previous + prefix]!)) {
        throw corrupt(`key ${i} is not above the key before it`, from);
      }
    }
    for (let b = start + prefix; b < end; b++) keys[b] = raw[from++]!;
  }
}
