/**
 * MurmurHash3's 32-bit finaliser: spreads every input bit over the whole word (a bijection), so a
 * hash's low bits are fit for bucket indices and content-defined cut tests. Returns an unsigned 32-bit value.
 */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
