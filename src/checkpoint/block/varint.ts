/** Unsigned LEB128 varints for lengths (< 2^32) inside blocks. */

export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : value < 0x1000_0000 ? 4 : 5;
}

/** Writes `value` at `offset`; returns the offset after it. */
export function writeVarint(buf: Buffer, value: number, offset: number): number {
  let v = value;
  while (v >= 0x80) {
    buf[offset++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[offset++] = v;
  return offset;
}
