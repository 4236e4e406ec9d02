const EQUALS = 0x3d;

/** 1 for each character code of the base64 alphabet. */
const ALPHABET = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') {
  ALPHABET[char.charCodeAt(0)] = 1;
}

/**
 * Whether `text` is base64 with padding (`A-Z a-z 0-9 + /`, length a multiple of 4, at most two `=` at the
 * end). One pass over the characters: the regular expression used before, with a repeated group, overflowed
 * the stack on values of a few MiB, while an entry may be up to `wal.maxEntryBytes` (16 MiB by default).
 */
export function isBase64(text: string): boolean {
  const length = text.length;
  if (length % 4 !== 0) return false;
  let end = length;
  if (end > 0 && text.charCodeAt(end - 1) === EQUALS) end--;
  if (end > 0 && end < length && text.charCodeAt(end - 1) === EQUALS) end--;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || ALPHABET[code] === 0) return false;
  }
  return true;
}
