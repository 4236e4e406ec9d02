import { compareKeys } from '../key-rules';

/**
 * Puts a blob listing into UTF-8 byte order (`compareKeys`) as it streams by. Azure documents its listings as
 * sorted by name; azurite sorts by JavaScript string comparison (UTF-16 code units). The two orders differ
 * only where, after a common prefix, one name has a character above U+FFFF (a surrogate pair) and the other
 * one in U+E000–U+FFFF: UTF-16 puts the first before, UTF-8 after. So a name holding a surrogate is held back
 * while later names may still share its prefix up to that surrogate; every other name passes straight through
 * unless held names must go before it. Given a listing in either order, the output is in UTF-8 order, and only
 * the (rare) names after a held one under the same prefix are ever buffered.
 */
export class Utf8ListOrder<T extends { key: string }> {
  /** Held items, sorted by compareKeys. */
  private held: T[] = [];

  /** Takes the next listed item; returns the items that can no longer be preceded, in order. */
  push(item: T): T[] {
    const at = this.held.findIndex((other) => compareKeys(item.key, other.key) < 0);
    this.held.splice(at === -1 ? this.held.length : at, 0, item);
    let ready = 0;
    while (ready < this.held.length && settled(this.held[ready].key, item.key)) ready++;
    return this.held.splice(0, ready);
  }

  /** The listing ended: everything still held, in order. */
  flush(): T[] {
    return this.held.splice(0);
  }
}

/** No name listed after `latest` can sort before `key` in UTF-8 order. */
function settled(key: string, latest: string): boolean {
  const surrogate = key.search(/[\ud800-\udfff]/);
  return surrogate === -1 || !latest.startsWith(key.slice(0, surrogate));
}
