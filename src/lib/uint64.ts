/**
 * LSNs, sequences and timestamps are kept as JS numbers (safe integers, < 2^53) and stored as
 * little-endian u64 on disk. Two u32 halves avoid BigInt on the hot path.
 */
const TWO_32 = 0x1_0000_0000;

export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32LE(value >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

export function readU64(buf: Buffer, offset: number): number {
  const high = buf.readUInt32LE(offset + 4);
  if (high > 0x1fffff) return Number.NaN; // beyond 2^53: never written by us, so corrupt
  return high * TWO_32 + buf.readUInt32LE(offset);
}

/**
 * `readU64` by byte indexing, for hot paths that checked the 8 bytes are there: no call into
 * `Buffer#readUInt32LE` and its own bounds check (`node --cpu-prof` of the entry decoder).
 */
export function peekU64(buf: Uint8Array, offset: number): number {
  const high = peekU32(buf, offset + 4);
  if (high > 0x1fffff) return Number.NaN; // beyond 2^53: never written by us, so corrupt
  return high * TWO_32 + peekU32(buf, offset);
}

/** A little-endian u32 by byte indexing, for hot paths that checked the 4 bytes are there. */
export function peekU32(buf: Uint8Array, offset: number): number {
  return (buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16)) + buf[offset + 3]! * 0x100_0000;
}
