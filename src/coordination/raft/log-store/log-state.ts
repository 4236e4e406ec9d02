import { invalidArgument } from '../../../lib/errors';
import { EMPTY_HARD_STATE, type Entry, type HardState, type Snapshot } from '../core';
import { checkHardState, checkSnapshotShape, isLogNumber } from './value-checks';

/** Where a snapshot ends the log: what a save needs of it (the file log records only this). */
export interface LogPosition {
  readonly index: number;
  readonly term: number;
}

/** A save as the log sees it; `RaftLogUpdate` is one. */
export interface LogChange {
  readonly snapshot?: LogPosition;
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
}

/**
 * The rules of a stored Raft log, in memory: the position of the newest snapshot, the entries after it and
 * the hard state. Both stores keep one (the file store also replays its file into one on load), so the two
 * accept and refuse the same saves. `check*` throw INVALID_ARGUMENT and change nothing; `apply*` assume
 * the matching check passed.
 */
export class LogState {
  snapshotIndex = 0;
  snapshotTerm = 0;
  /** Entry `i` has index `snapshotIndex + 1 + i`. */
  entries: Entry[] = [];
  hardState: HardState = EMPTY_HARD_STATE;

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  /** The term at `index`: the snapshot's at its index, undefined outside the log. */
  termAt(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex()) return undefined;
    return (this.entries[index - this.snapshotIndex - 1] as Entry).term;
  }

  checkChange(change: LogChange): void {
    let base = this.snapshotIndex;
    let baseTerm = this.snapshotTerm;
    let last = this.lastIndex();
    const snapshot = change.snapshot;
    if (snapshot) {
      this.checkNewer(snapshot);
      if (this.termAt(snapshot.index) !== snapshot.term) last = snapshot.index;
      base = snapshot.index;
      baseTerm = snapshot.term;
    }
    if (change.entries.length > 0) this.checkEntries(change.entries, base, baseTerm, last);
    if (change.hardState) checkHardState(change.hardState);
  }

  applyChange(change: LogChange): void {
    if (change.snapshot) this.dropThrough(change.snapshot);
    const entries = change.entries;
    if (entries.length > 0) {
      // Cut the conflicting suffix (if any), then append.
      this.entries.length = (entries[0] as Entry).index - this.snapshotIndex - 1;
      for (let i = 0; i < entries.length; i++) this.entries.push(entries[i] as Entry);
    }
    if (change.hardState) this.hardState = change.hardState;
  }

  /** A node compacts only what it holds: the snapshot must end at an entry of the log, with its term. */
  checkCompaction(snapshot: Snapshot): void {
    checkSnapshotShape(snapshot);
    this.checkNewer(snapshot);
    const term = this.termAt(snapshot.index);
    if (term !== snapshot.term) {
      throw invalidArgument(
        term === undefined
          ? `cannot compact to index ${snapshot.index}: the log ends at ${this.lastIndex()}`
          : `cannot compact to index ${snapshot.index} of term ${snapshot.term}: the log has term ${term} there`,
        { index: snapshot.index, term: snapshot.term },
      );
    }
  }

  /**
   * Makes `position` the start of the log: the entries after it stay when the log holds its index with its
   * term (a prefix of ours is covered); otherwise the log disagrees with it and every entry goes.
   */
  dropThrough(position: LogPosition): void {
    const keeps = this.termAt(position.index) === position.term;
    this.entries = keeps ? this.entries.slice(position.index - this.snapshotIndex) : [];
    this.snapshotIndex = position.index;
    this.snapshotTerm = position.term;
  }

  private checkNewer(snapshot: LogPosition): void {
    if (!isLogNumber(snapshot.index) || !isLogNumber(snapshot.term) || snapshot.index <= this.snapshotIndex) {
      throw invalidArgument(
        `a snapshot at index ${snapshot.index} is not newer than the stored one at ${this.snapshotIndex}`,
        { index: snapshot.index, term: snapshot.term },
      );
    }
  }

  /** Contiguous indexes from a place in (base, last + 1], terms that never fall, known kinds. */
  private checkEntries(entries: readonly Entry[], base: number, baseTerm: number, last: number): void {
    const first = (entries[0] as Entry).index;
    if (!Number.isSafeInteger(first) || first <= base || first > last + 1) {
      throw invalidArgument(
        `entries from index ${first} do not fit a log that may be continued from ${base + 1} to ${last + 1}`,
        { index: first },
      );
    }
    let previousTerm = first - 1 === base ? baseTerm : (this.termAt(first - 1) as number);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Entry;
      if (entry.index !== first + i) {
        throw invalidArgument(`entry ${i} of a save has index ${entry.index}, expected ${first + i}`);
      }
      if (!Number.isSafeInteger(entry.term) || entry.term < previousTerm) {
        throw invalidArgument(`entry ${entry.index} has term ${entry.term} after term ${previousTerm}`);
      }
      if ((entry.kind !== 'normal' && entry.kind !== 'config') || !(entry.data instanceof Uint8Array)) {
        throw invalidArgument(`entry ${entry.index} needs kind 'normal' or 'config' and Uint8Array data`);
      }
      previousTerm = entry.term;
    }
  }
}
