import type { Entry, HardState, Snapshot } from '../../../src/coordination/raft/core';
import { EMPTY_HARD_STATE } from '../../../src/coordination/raft/core';

/**
 * A 53-bit hash of a log prefix: chain(i) = mix(chain(i - 1), entry i). Two logs with the same chain value at
 * an index hold the same entries up to it (up to a 2^-53 collision), so "log matching" and "a committed
 * entry never changes" are checked by comparing one number per index.
 */
export function chainWith(previous: number, entry: Pick<Entry, 'term' | 'index' | 'data' | 'kind'>): number {
  let h1 = (previous % 2097152) ^ 0x9e3779b9;
  let h2 = Math.floor(previous / 2097152) ^ 0x85ebca6b;
  const mix = (value: number) => {
    h1 = Math.imul(h1 ^ value, 0x01000193);
    h2 = Math.imul(h2 ^ value, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  };
  mix(entry.term);
  mix(entry.index);
  mix(entry.kind === 'config' ? 1 : 0);
  for (const byte of entry.data) mix(byte);
  return (h1 >>> 0) * 2097152 + ((h2 >>> 0) % 2097152);
}

export interface SimSnapshot extends Snapshot {
  readonly chain: number;
}

/**
 * One node's durable storage in the simulation: what a save resolved is kept; a crash loses the rest (the
 * simulation drops a Ready instead of saving it). Each entry's prefix chain is kept beside it.
 */
export class SimDisk {
  hardState: HardState = EMPTY_HARD_STATE;
  snapshot: SimSnapshot | undefined;
  entries: Entry[] = [];
  chains: number[] = [];

  offset(): number {
    return this.snapshot?.index ?? 0;
  }

  lastIndex(): number {
    return this.offset() + this.entries.length;
  }

  /** The prefix chain at `index`, undefined when compacted away or past the end. */
  chainAt(index: number): number | undefined {
    const offset = this.offset();
    if (index === offset) return this.snapshot?.chain ?? 0;
    if (index < offset || index > this.lastIndex()) return undefined;
    return this.chains[index - offset - 1];
  }

  /** Appends, replacing the stored log from entries[0].index; returns the new entries' chains. */
  append(entries: readonly Entry[]): { index: number; term: number; chain: number }[] {
    if (entries.length === 0) return [];
    const offset = this.offset();
    const from = (entries[0] as Entry).index;
    if (from <= offset || from > this.lastIndex() + 1) {
      throw new Error(`sim disk: cannot append at ${from} to ${offset + 1}..${this.lastIndex()}`);
    }
    this.entries.length = from - offset - 1;
    this.chains.length = from - offset - 1;
    let chain = this.chainAt(from - 1) as number;
    const added = [];
    for (const entry of entries) {
      chain = chainWith(chain, entry);
      this.entries.push(entry);
      this.chains.push(chain);
      added.push({ index: entry.index, term: entry.term, chain });
    }
    return added;
  }

  /** A snapshot from the leader replaces the log (the core hands one out only when its log lacks it). */
  installSnapshot(snapshot: SimSnapshot): void {
    this.snapshot = snapshot;
    this.entries = [];
    this.chains = [];
  }

  /** The node's own snapshot at `index`: entries up to it are dropped. */
  compact(snapshot: SimSnapshot): void {
    const drop = snapshot.index - this.offset();
    this.entries = this.entries.slice(drop);
    this.chains = this.chains.slice(drop);
    this.snapshot = snapshot;
  }
}
