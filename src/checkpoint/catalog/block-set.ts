import { invalidArgument } from '../../lib/errors';
import type { CatalogData } from './catalog-file';

const HASH = /^[0-9a-f]{64}$/;

interface BlockEntry {
  storedBytes: number;
  /** Committed checkpoints whose manifests name the block. */
  refs: Set<number>;
}

/**
 * The blocks known to be in the store, each with the committed checkpoints that name it, and the reverse
 * (the blocks each checkpoint names). A block with no references is present but unused: a block written
 * for a checkpoint not yet committed, or one whose checkpoints were all removed — GC's candidates.
 */
export class BlockSet {
  private readonly blocks = new Map<string, BlockEntry>();
  private readonly blocksOf = new Map<number, string[]>();

  get size(): number {
    return this.blocks.size;
  }

  has(hash: string): boolean {
    return this.blocks.has(hash);
  }

  /** Bytes of the stored object, when the block is known. */
  storedBytes(hash: string): number | undefined {
    return this.blocks.get(hash)?.storedBytes;
  }

  /** Marks a block present (no references). INVALID_ARGUMENT for a hash that is not 64 lowercase hex. */
  add(hash: string, storedBytes: number): void {
    if (typeof hash !== 'string' || !HASH.test(hash)) {
      throw invalidArgument(`invalid block hash ${JSON.stringify(hash)}: expected 64 lowercase hex digits`);
    }
    if (!Number.isSafeInteger(storedBytes) || storedBytes < 0) {
      throw invalidArgument(`invalid storedBytes ${String(storedBytes)} of block ${hash}`);
    }
    if (!this.blocks.has(hash)) this.blocks.set(hash, { storedBytes, refs: new Set() });
  }

  refs(hash: string): number[] | undefined {
    const entry = this.blocks.get(hash);
    return entry === undefined ? undefined : [...entry.refs].sort((a, b) => a - b);
  }

  /** Adds `id`'s references to `hashes` (adding unknown blocks); returns what undoes it. */
  reference(id: number, hashes: ReadonlyMap<string, number>): () => void {
    const created: string[] = [];
    for (const [hash, storedBytes] of hashes) {
      let entry = this.blocks.get(hash);
      if (entry === undefined) {
        entry = { storedBytes, refs: new Set() };
        this.blocks.set(hash, entry);
        created.push(hash);
      }
      entry.refs.add(id);
    }
    this.blocksOf.set(id, [...hashes.keys()]);
    return () => {
      this.release(id);
      for (const hash of created) if (this.blocks.get(hash)?.refs.size === 0) this.blocks.delete(hash);
    };
  }

  /** Drops `id`'s references; returns the blocks left with none, and what undoes it. */
  release(id: number): { unreferenced: string[]; undo: () => void } {
    const hashes = this.blocksOf.get(id) ?? [];
    const unreferenced: string[] = [];
    for (const hash of hashes) {
      const entry = this.blocks.get(hash);
      if (entry === undefined) continue;
      entry.refs.delete(id);
      if (entry.refs.size === 0) unreferenced.push(hash);
    }
    this.blocksOf.delete(id);
    const undo = () => {
      this.blocksOf.set(id, hashes);
      for (const hash of hashes) this.blocks.get(hash)?.refs.add(id);
    };
    return { unreferenced: unreferenced.sort(), undo };
  }

  unreferenced(): string[] {
    return [...this.blocks]
      .filter(([, entry]) => entry.refs.size === 0)
      .map(([hash]) => hash)
      .sort();
  }

  /** Removes the blocks among `hashes` that have no references; returns those, and what undoes it. */
  forget(hashes: readonly string[]): { forgotten: string[]; undo: () => void } {
    const removed: [string, BlockEntry][] = [];
    for (const hash of hashes) {
      const entry = this.blocks.get(hash);
      if (entry === undefined || entry.refs.size > 0) continue;
      this.blocks.delete(hash);
      removed.push([hash, entry]);
    }
    const undo = () => {
      for (const [hash, entry] of removed) if (!this.blocks.has(hash)) this.blocks.set(hash, entry);
    };
    return { forgotten: removed.map(([hash]) => hash), undo };
  }

  toData(): CatalogData['blocks'] {
    const data: CatalogData['blocks'] = {};
    for (const hash of [...this.blocks.keys()].sort()) {
      const entry = this.blocks.get(hash) as BlockEntry;
      data[hash] = { storedBytes: entry.storedBytes, refs: [...entry.refs].sort((a, b) => a - b) };
    }
    return data;
  }

  /**
   * Loads the persisted blocks; `isCommitted` checks each reference. Returns a problem (a reference to a
   * checkpoint that is not committed) or undefined.
   */
  load(data: CatalogData['blocks'], isCommitted: (id: number) => boolean): string | undefined {
    for (const [hash, block] of Object.entries(data)) {
      for (const ref of block.refs) {
        if (!isCommitted(ref))
          return `block ${hash} is referenced by checkpoint ${ref}, which is not committed`;
        const list = this.blocksOf.get(ref) ?? [];
        list.push(hash);
        this.blocksOf.set(ref, list);
      }
      this.blocks.set(hash, { storedBytes: block.storedBytes, refs: new Set(block.refs) });
    }
    return undefined;
  }
}
