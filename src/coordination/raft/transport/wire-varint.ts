/**
 * Unsigned LEB128 for the safe integers of the Raft wire format (terms, indexes, counts, lengths): 7 bits a
 * byte, low bits first, the high bit set on every byte but the last. A safe integer (< 2^53) takes at most
 * 8 bytes. Written without BigInt: the low 7 bits of a safe integer survive the 32-bit truncation of `&`,
 * and values past 32 bits shift by division.
 */

/** The most bytes a safe integer takes (8 × 7 = 56 bits ≥ 53). */
export const MAX_VARINT_BYTES = 8;

const TWO_32 = 0x1_0000_0000;

/** Bytes `value` (a non-negative safe integer) takes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  let size = 4;
  for (let rest = Math.floor(value / 0x1000_0000); rest > 0; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

/** Writes `value` at `pos` (the caller measured the room); returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value > 0x7f) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value = value >= TWO_32 ? Math.floor(value / 0x80) : value >>> 7;
  }
  buf[pos++] = value;
  return pos;
}
