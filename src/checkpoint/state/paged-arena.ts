/** Bytes of a page; a longer piece gets a buffer of its own. */
const PAGE_BYTES = 1024 * 1024;
const OWN_PAGE_BYTES = PAGE_BYTES / 4;
/** An address is page × PAGE_SPAN + offset: exact in a double for 2^21 pages. */
const PAGE_SPAN = 2 ** 32;

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
    const address = this.reserve(bytes.length);
    this.set(address, bytes);
    return address;
  }

  /** A view of `length` bytes at `address`. */
  view(address: number, length: number): Buffer {
    const page = Math.floor(address / PAGE_SPAN);
    const offset = address - page * PAGE_SPAN;
    return this.pages[page]!.subarray(offset, offset + length);
  }

  /** Copies `length` bytes at `address` into `target` at `at`; returns `length`. */
  copyOut(address: number, length: number, target: Buffer, at: number): number {
    const page = Math.floor(address / PAGE_SPAN);
    const offset = address - page * PAGE_SPAN;
    return this.pages[page]!.copy(target, at, offset, offset + length);
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

  private set(address: number, bytes: Uint8Array): void {
    const page = Math.floor(address / PAGE_SPAN);
    this.pages[page]!.set(bytes, address - page * PAGE_SPAN);
  }
}
