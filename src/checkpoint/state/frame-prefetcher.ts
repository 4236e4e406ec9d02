import type { EntrySink } from '../../wal';
import type { ComponentState } from './component-state';
import { hashKey } from './key-index';

/**
 * The check pass over a WAL frame (`parseEntries` throws on a malformed one before anything changes) put
 * to use: it hashes each put's and delete's key and notes its component; `touchAll` then reads, in a loop
 * of nothing else, the bucket each key's lookup will start at. Those loads overlap, where the apply pass,
 * one key after another, waits for each (`node --cpu-prof` of a 3.9 M-key ingest: that first load, a cache
 * miss, was 60% of the time; small-record ingest 42–46 → 51–58 MB/s). The hashes are kept, in order, for
 * the apply pass (FrameApplier), which hashes nothing again. Changes nothing.
 */
export class FramePrefetcher implements EntrySink {
  private skipBelow = 0;
  private state: ComponentState | undefined;
  private skipping = false;
  hashes = new Uint32Array(1024);
  /** Per key, its component when it exists already (else undefined: nothing to load). */
  private states: (ComponentState | undefined)[] = [];
  count = 0;
  /** What the loads read, summed: kept so that they are not optimised away. */
  touched = 0;

  constructor(private readonly existing: (componentId: string) => ComponentState | undefined) {}

  start(skip: number): void {
    this.skipBelow = skip;
    this.count = 0;
    this.states.length = 0;
  }

  begin(index: number, componentId: string): void {
    this.skipping = index < this.skipBelow;
    // A component the frame creates is not created here (the check pass changes nothing): no load for it.
    this.state = this.skipping ? undefined : this.existing(componentId);
  }

  put(bytes: Buffer, keyStart: number, keyEnd: number): void {
    this.key(bytes, keyStart, keyEnd);
  }

  delete(bytes: Buffer, keyStart: number, keyEnd: number): void {
    this.key(bytes, keyStart, keyEnd);
  }

  clear(): void {}

  metadata(): void {}

  end(): void {}

  private key(bytes: Buffer, keyStart: number, keyEnd: number): void {
    if (this.skipping) return;
    const hash = hashKey(bytes, keyStart, keyEnd);
    if (this.count === this.hashes.length) {
      const grown = new Uint32Array(2 * this.hashes.length);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.states[this.count] = this.state;
    this.hashes[this.count++] = hash;
  }

  /**
   * Loads every key's first bucket, in a loop of nothing else: the loads overlap (a loop that does more
   * between two loads — parsing, hashing — leaves the CPU no room to run ahead, and gained nothing).
   */
  touchAll(): void {
    const hashes = this.hashes;
    const states = this.states;
    let touched = 0;
    for (let i = 0; i < this.count; i++) {
      const state = states[i];
      if (state !== undefined) touched += state.touch(hashes[i]!);
    }
    this.touched += touched;
    states.length = 0;
  }
}
