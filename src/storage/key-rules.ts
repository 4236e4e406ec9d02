import { echoInput, invalidArgument, quoteInput } from '../lib/errors';

/** What a refusal repeats of the caller's key: cut, as every error's echo is. */
const shown = (value: unknown) => (typeof value === 'string' ? echoInput(value) : value);

/**
 * The rules every object key obeys, checked by every adapter on every call, so no caller's string can steer
 * a key outside the store's prefix or outside a local store's directory — and every adapter accepts the
 * same keys. A key is segments joined by `/`:
 * - not empty, at most {@link MAX_KEY_BYTES} bytes of UTF-8, at most {@link MAX_SEGMENT_BYTES} per segment;
 * - no empty segment (so no leading, trailing or doubled `/`: no absolute paths);
 * - no segment that begins with `.` (so no `.` or `..`; names beginning with a dot are reserved for an
 *   adapter's own housekeeping, e.g. the local store's temporary files);
 * - no backslash, NUL, other control characters (U+0000–U+001F, U+007F) or lone surrogates.
 */

export const MAX_KEY_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 200;

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `segment` may not be one segment of a key, or undefined when it may. */
export function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'empty path segment';
  if (segment.startsWith('.')) return 'path segment begins with "."';
  if (FORBIDDEN.test(segment)) return 'backslash, NUL or control character';
  if (LONE_SURROGATE.test(segment)) return 'invalid UTF-16 (lone surrogate)';
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
    return `path segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  return undefined;
}

/** Why `key` is not a valid object key, or undefined when it is. */
export function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key === '') return 'empty key';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `key longer than ${MAX_KEY_BYTES} bytes`;
  for (const segment of key.split('/')) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Throws INVALID_ARGUMENT unless `key` is a valid object key. */
export function assertValidKey(key: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined)
    throw invalidArgument(`invalid object key ${quoteInput(key)}: ${problem}`, { key: shown(key) });
}

/** Throws INVALID_ARGUMENT unless `part` may be one segment of a key (a node id, say). */
export function assertValidSegment(what: string, part: string): void {
  const problem =
    typeof part === 'string' ? (part.includes('/') ? 'contains "/"' : segmentProblem(part)) : 'not a string';
  if (problem !== undefined)
    throw invalidArgument(`invalid ${what} ${quoteInput(part)}: ${problem}`, { [what]: shown(part) });
}

/**
 * A listing prefix is matched as plain text (`a/b` matches `a/b/c` and `a/bc`). It is empty (everything), or
 * a key, or a key followed by `/`, or a key followed by `/` and the start of a segment — so a valid prefix is
 * exactly one that a valid key could begin with.
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  const problem =
    typeof prefix === 'string'
      ? keyProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix)
      : 'not a string';
  if (problem !== undefined) {
    throw invalidArgument(`invalid listing prefix ${quoteInput(prefix)}: ${problem}`, {
      prefix: shown(prefix),
    });
  }
}

/**
 * The order of keys in a listing: by Unicode code point, which is the order of their UTF-8 bytes — the order
 * S3, GCS and Azure list in. (JavaScript's `<` compares UTF-16 units and differs above U+D7FF.)
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (code points above U+FFFF) after U+E000–U+FFFF, keeping every other order. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
