/** Bytes of a page; a longer piece gets a buffer of its own. */
const PAGE_BYTES = 1024 * 1024;
const OWN_PAGE_BYTES = PAGE_BYTES / 4;
/** An address is page × PAGE_SPAN + offset: exact in a double for 2^21 pages. */
const PAGE_SPAN = 2 ** 32;
const MAX_PAGES = 2 ** 21;
/** Up to this many bytes, a copy is a byte loop (`node --cpu-prof`: a native copy call cost ~200 ns). */
const SHORT_COPY = 64;
const EMPTY = Buffer.alloc(0);

/**
 * Append-only bytes in fixed-size pages, addressed by a number. Pages, not one growing buffer: growing by
 * doubling copied the whole arena each time and touched twice its size in fresh memory, which on this VM
 * costs more than the copying (first touch of a page: `node --cpu-prof` put 0.8 s of a 96 MB ingest in
 * the appends). A piece never spans two pages, so a view of it is one `subarray`; bytes once written are
 * never written again, so views stay valid however long they are held.
 */
export class PagedArena {
  private readonly pages: Buffer[] = [];
  /** The page pieces go into now (pages of their own may come after it). */
  private last: Buffer | undefined;
  private lastPage = -1;
  private lastUsed = 0;
  /** Bytes appended so far. */
  used = 0;

  append(bytes: Uint8Array): number {
    return this.appendRange(bytes, 0, bytes.length);
  }

  /** Appends `source[start, end)`; returns its address. */
  appendRange(source: Uint8Array, start: number, end: number): number {
    const length = end - start;
    const address = this.reserve(length);
    const page = Math.floor(address / PAGE_SPAN);
    const target = this.pages[page]!;
    const at = address - page * PAGE_SPAN;
    // A byte loop beats a native call for the short keys and values most state holds.
    if (length <= SHORT_COPY) for (let i = 0; i < length; i++) target[at + i] = source[start + i]!;
    else target.set(source.subarray(start, end), at);
    return address;
  }

  /**
   * Takes `bytes` in as a page of its own, without a copy; returns its address. The caller hands them over:
   * nobody may write them afterwards (a decoded block's run, say). `heldBytes`: the memory the page keeps
   * alive (the whole buffer `bytes` is a view of), counted as used.
   */
  adopt(bytes: Buffer, heldBytes = bytes.length): number {
    if (this.pages.length >= MAX_PAGES) throw new Error('PagedArena: no page address left to adopt into');
    this.pages.push(bytes);
    this.used += heldBytes;
    return (this.pages.length - 1) * PAGE_SPAN;
  }

  /** Whether the `length` bytes at `address` equal `bytes[start, start + length)`. */
  equals(address: number, bytes: Uint8Array, start: number, length: number): boolean {
    const page = Math.floor(address / PAGE_SPAN);
    const stored = this.pages[page]!;
    const at = address - page * PAGE_SPAN;
    for (let i = 0; i < length; i++) if (stored[at + i] !== bytes[start + i]) return false;
    return true;
  }

  /** Byte order of the pieces at `a` and `b` (negative, 0, positive). */
  compare(a: number, aLength: number, b: number, bLength: number): number {
    const aPage = Math.floor(a / PAGE_SPAN);
    const bPage = Math.floor(b / PAGE_SPAN);
    const aBytes = this.pages[aPage]!;
    const bBytes = this.pages[bPage]!;
    const aAt = a - aPage * PAGE_SPAN;
    const bAt = b - bPage * PAGE_SPAN;
    const common = aLength < bLength ? aLength : bLength;
    for (let i = 0; i < common; i++) {
      const d = aBytes[aAt + i]! - bBytes[bAt + i]!;
      if (d !== 0) return d;
    }
    return aLength - bLength;
  }

  /** A view of `length` bytes at `address`. */
  view(address: number, length: number): Buffer {
    if (length === 0) return EMPTY;
    const page = Math.floor(address / PAGE_SPAN);
    const offset = address - page * PAGE_SPAN;
    return this.pages[page]!.subarray(offset, offset + length);
  }

  /** Copies `length` bytes at `address` into `target` at `at`; returns `length`. */
  copyOut(address: number, length: number, target: Buffer, at: number): number {
    const page = Math.floor(address / PAGE_SPAN);
    const offset = address - page * PAGE_SPAN;
    const source = this.pages[page]!;
    if (length <= SHORT_COPY) {
      for (let i = 0; i < length; i++) target[at + i] = source[offset + i]!;
      return length;
    }
    return source.copy(target, at, offset, offset + length);
  }

  /** Whether `adopt` can take `count` more pages (an address is exact for 2^21 pages). */
  canAdopt(count: number): boolean {
    return this.pages.length + count < MAX_PAGES;
  }

  private reserve(length: number): number {
    if (length > OWN_PAGE_BYTES) {
      this.pages.push(Buffer.allocUnsafeSlow(length));
      this.used += length;
      return (this.pages.length - 1) * PAGE_SPAN;
    }
    if (this.last === undefined || this.lastUsed + length > this.last.length) {
      this.last = Buffer.allocUnsafeSlow(PAGE_BYTES);
      this.lastPage = this.pages.push(this.last) - 1;
      this.lastUsed = 0;
    }
    const address = this.lastPage * PAGE_SPAN + this.lastUsed;
    this.lastUsed += length;
    this.used += length;
    return address;
  }
}
