import { TidemarkError } from '../../../lib/errors';
import { decodeConfigRecord } from './membership';
import type { Entry, Membership, Snapshot } from './types';

/**
 * A node's log in memory: the newest snapshot (the compacted prefix) and the entries after it. It knows
 * which entries its driver has persisted (`stable`), which are committed, and which were handed out to
 * apply (`applied`). Entries are kept from `snapshot.index + 1` on; the driver's log store holds the same.
 */
export class RaftLog {
  private offset: number;
  private offsetTerm: number;
  private entries: Entry[];
  /** Newest membership at or below the snapshot, and the config entries after it (index order). */
  private baseMembership: Membership;
  private configs: { index: number; membership: Membership }[] = [];
  snapshot: Snapshot | undefined;
  /** A snapshot from the leader to hand the driver (persist, then restore the state machine). */
  pendingSnapshot: Snapshot | undefined;
  committed: number;
  applied: number;
  /** The last index the driver has persisted. */
  stable: number;

  constructor(
    snapshot: Snapshot | undefined,
    entries: readonly Entry[],
    commit: number,
    bootstrap: Membership,
  ) {
    this.snapshot = snapshot;
    this.offset = snapshot?.index ?? 0;
    this.offsetTerm = snapshot?.term ?? 0;
    this.baseMembership = snapshot?.membership ?? bootstrap;
    this.entries = [];
    this.stable = this.offset;
    this.appendAt(entries);
    this.stable = this.lastIndex();
    this.applied = this.offset;
    this.committed = Math.max(this.offset, Math.min(commit, this.lastIndex()));
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) as number;
  }

  /** The term of entry `index`, or undefined when it is compacted away or not (yet) in the log. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.lastIndex()) return undefined;
    return (this.entries[index - this.offset - 1] as Entry).term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as this one. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** The membership in force: the newest config entry in the log, else the snapshot's (or bootstrap). */
  membership(): Membership {
    return this.configs.length > 0
      ? (this.configs[this.configs.length - 1] as { membership: Membership }).membership
      : this.baseMembership;
  }

  /** The membership in force at `index` (for a snapshot taken there). */
  membershipAt(index: number): Membership {
    let found = this.baseMembership;
    for (const config of this.configs) {
      if (config.index > index) break;
      found = config.membership;
    }
    return found;
  }

  /** The newest config entry's index (0 when the log holds none). */
  lastConfigIndex(): number {
    return this.configs.length > 0 ? (this.configs[this.configs.length - 1] as { index: number }).index : 0;
  }

  /**
   * The follower's side of AppendEntries (Figure 2): if the entry before `entries` matches, append them,
   * cutting the log at the first conflicting entry, and commit up to `commit` (no further than the last
   * new entry). Returns the index of the last new entry, or undefined when the entry before does not match.
   */
  maybeAppend(
    prevIndex: number,
    prevTerm: number,
    commit: number,
    entries: readonly Entry[],
  ): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    let first = 0;
    // Entries the log has already (same index, same term) are skipped: a duplicate or reordered
    // message must never truncate what a later message appended.
    while (first < entries.length) {
      const entry = entries[first] as Entry;
      if (this.term(entry.index) !== entry.term) break;
      first++;
    }
    if (first < entries.length) {
      const conflict = (entries[first] as Entry).index;
      if (conflict <= this.committed) {
        throw new TidemarkError(
          'INTERNAL',
          `raft: entry ${conflict} conflicts with a committed entry (committed ${this.committed})`,
        );
      }
      this.appendAt(entries.slice(first));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** Appends `entries` at `entries[0].index`, dropping whatever the log held from there. */
  appendAt(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const from = (entries[0] as Entry).index;
    if (from <= this.offset || from > this.lastIndex() + 1) {
      throw new TidemarkError(
        'INTERNAL',
        `raft: cannot append at ${from} to a log of ${this.firstIndex()}..${this.lastIndex()}`,
      );
    }
    if (from <= this.lastIndex()) {
      this.entries.length = from - this.offset - 1;
      while (
        this.configs.length > 0 &&
        (this.configs[this.configs.length - 1] as { index: number }).index >= from
      ) {
        this.configs.pop();
      }
      this.stable = Math.min(this.stable, from - 1);
    }
    for (const entry of entries) {
      this.entries.push(entry);
      if (entry.kind === 'config') {
        this.configs.push({ index: entry.index, membership: decodeConfigRecord(entry.data).membership });
      }
    }
  }

  /**
   * Entries [from, to) with at most `maxBytes` of data (at least one entry, if any): what a leader sends.
   * Undefined when `from` is compacted away (the follower needs the snapshot).
   */
  slice(from: number, to: number, maxBytes: number): Entry[] | undefined {
    if (from <= this.offset) return undefined;
    const end = Math.min(to, this.lastIndex() + 1);
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = from; index < end; index++) {
      const entry = this.entries[index - this.offset - 1] as Entry;
      bytes += entry.data.length + 32;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  /**
   * Fast back-off: the largest index at or below `index` whose term is at most `term` (the snapshot's index
   * when none is left in memory). A leader and a follower use it on each other's logs to skip a whole term
   * of conflicting entries per round trip.
   */
  findConflictByTerm(index: number, term: number): number {
    let at = Math.min(index, this.lastIndex());
    while (at > this.offset && (this.term(at) as number) > term) at--;
    return at;
  }

  commitTo(index: number): void {
    if (index > this.committed) {
      if (index > this.lastIndex()) {
        throw new TidemarkError(
          'INTERNAL',
          `raft: commit ${index} is past the last index ${this.lastIndex()}`,
        );
      }
      this.committed = index;
    }
  }

  /** Entries persisted by the driver (the last of them is `index` of `term`, if it is still in the log). */
  stableTo(index: number, term: number): void {
    if (this.matchTerm(index, term) && index > this.stable) this.stable = index;
  }

  unstableEntries(): Entry[] {
    return this.entries.slice(this.stable - this.offset);
  }

  /** Committed entries not yet handed out to apply. */
  entriesToApply(): Entry[] {
    if (this.pendingSnapshot !== undefined || this.committed <= this.applied) return [];
    return this.entries.slice(this.applied - this.offset, this.committed - this.offset);
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
  }

  /**
   * A snapshot from the leader: when the log already holds its last entry, it only commits up to it (and
   * returns false); otherwise the log becomes the snapshot alone (returns true).
   */
  restore(snapshot: Snapshot): boolean {
    if (this.matchTerm(snapshot.index, snapshot.term)) {
      this.commitTo(snapshot.index);
      return false;
    }
    this.snapshot = snapshot;
    this.pendingSnapshot = snapshot;
    this.offset = snapshot.index;
    this.offsetTerm = snapshot.term;
    this.entries = [];
    this.configs = [];
    this.baseMembership = snapshot.membership;
    this.committed = snapshot.index;
    this.stable = snapshot.index;
    return true;
  }

  /** The driver persisted and restored the pending snapshot. */
  snapshotApplied(snapshot: Snapshot): void {
    if (this.pendingSnapshot === snapshot) {
      this.pendingSnapshot = undefined;
      this.appliedTo(snapshot.index);
    }
  }

  /**
   * The node's own snapshot of its state machine at `index` (applied already): drops the entries it covers.
   */
  compact(index: number, data: Uint8Array): Snapshot {
    if (index > this.applied) {
      throw new TidemarkError(
        'INVALID_ARGUMENT',
        `raft: cannot snapshot at ${index}, past the applied index ${this.applied}`,
      );
    }
    if (index <= this.offset) {
      throw new TidemarkError('INVALID_ARGUMENT', `raft: the log is compacted to ${this.offset} already`);
    }
    const snapshot: Snapshot = {
      index,
      term: this.term(index) as number,
      membership: this.membershipAt(index),
      data,
    };
    this.entries = this.entries.slice(index - this.offset);
    this.baseMembership = snapshot.membership;
    this.configs = this.configs.filter((config) => config.index > index);
    this.offset = index;
    this.offsetTerm = snapshot.term;
    this.snapshot = snapshot;
    return snapshot;
  }
}
