import type { HardState, NodeId } from '../../../src/coordination/raft/core';
import type { SimDisk } from './sim-disk';

/** A broken safety or liveness property: the simulation stops at once and says which, where and when. */
export class Violation extends Error {}

/**
 * The invariants the simulation checks at every step (Raft paper §5.2–5.4, Figure 3), over what nodes
 * persist and apply:
 * - election safety: at most one leader per term;
 * - log matching: two logs with an entry of the same index and term hold the same prefix up to it;
 * - a vote once cast (durably) is never changed in that term; term and commit index never go back, also
 *   across restarts (they are checked on the disk's writes);
 * - leader completeness: a leader of term T holds everything committed by leaders of terms before T;
 * - state machine safety: every node applies, at each index, the entry committed there, and no entry is
 *   applied before it is committed; a committed entry never changes;
 * - linearizable reads: a read's index is at least every commit made before the read was asked.
 */
export class SimChecker {
  private readonly leaders = new Map<number, NodeId>();
  /** Prefix chains by index: one per (index, term) ever persisted anywhere. */
  private readonly logMatch = new Map<number, Map<number, number>>();
  /** The committed prefix's chain at each index, 1-based (what every node must apply). */
  private readonly committed: number[] = [0];
  /** The highest index a leader of each term committed. */
  private readonly leaderCommits = new Map<number, number>();
  private readonly reads = new Map<number, number>();
  maxCommitted = 0;

  constructor(private readonly where: () => string) {}

  fail(what: string): never {
    throw new Violation(`${what} (${this.where()})`);
  }

  hardStateWritten(node: NodeId, before: HardState, after: HardState): void {
    if (after.term < before.term) this.fail(`${node}'s term went back from ${before.term} to ${after.term}`);
    if (after.commit < before.commit) {
      this.fail(`${node}'s commit index went back from ${before.commit} to ${after.commit}`);
    }
    if (after.term === before.term && before.vote !== '' && after.vote !== before.vote) {
      this.fail(`${node} voted twice in term ${after.term}: ${before.vote}, then ${after.vote}`);
    }
  }

  entriesWritten(node: NodeId, added: readonly { index: number; term: number; chain: number }[]): void {
    for (const { index, term, chain } of added) {
      let byTerm = this.logMatch.get(index);
      if (byTerm === undefined) this.logMatch.set(index, (byTerm = new Map()));
      const seen = byTerm.get(term);
      if (seen === undefined) byTerm.set(term, chain);
      else if (seen !== chain) {
        this.fail(
          `log matching: ${node} holds entry ${index} of term ${term} with a prefix another node does not`,
        );
      }
    }
  }

  /** `node` made `commit` durable: entries up to it in its log are committed. */
  committedTo(node: NodeId, disk: SimDisk, commit: number, asLeaderOfTerm: number | undefined): void {
    const check = Math.min(commit, this.maxCommitted);
    const ownChain = disk.chainAt(check);
    if (ownChain !== undefined && ownChain !== this.committed[check]) {
      this.fail(`${node} committed to ${commit}, but its entry ${check} differs from the committed one`);
    }
    for (let index = this.maxCommitted + 1; index <= commit; index++) {
      const chain = disk.chainAt(index);
      if (chain === undefined) this.fail(`${node} committed ${index}, which it does not hold`);
      this.committed[index] = chain;
    }
    this.maxCommitted = Math.max(this.maxCommitted, commit);
    if (asLeaderOfTerm !== undefined) {
      this.leaderCommits.set(asLeaderOfTerm, Math.max(this.leaderCommits.get(asLeaderOfTerm) ?? 0, commit));
    }
  }

  becameLeader(node: NodeId, term: number, disk: SimDisk): void {
    const other = this.leaders.get(term);
    if (other !== undefined && other !== node) this.fail(`two leaders in term ${term}: ${other} and ${node}`);
    this.leaders.set(term, node);
    let mustHold = 0;
    for (const [earlier, index] of this.leaderCommits)
      if (earlier < term) mustHold = Math.max(mustHold, index);
    if (mustHold === 0) return;
    if (mustHold < disk.offset()) {
      if (disk.snapshot && disk.snapshot.chain !== this.committed[disk.offset()]) {
        this.fail(`leader ${node} of term ${term} has a snapshot that differs from the committed log`);
      }
      return;
    }
    if (disk.chainAt(mustHold) !== this.committed[mustHold]) {
      this.fail(
        `leader completeness: ${node}, leader of term ${term}, lacks entry ${mustHold} committed before`,
      );
    }
  }

  applied(node: NodeId, index: number, chain: number): void {
    if (index > this.maxCommitted) this.fail(`${node} applied entry ${index} before it was committed`);
    if (this.committed[index] !== chain)
      this.fail(`${node} applied at ${index} something else than was committed`);
  }

  readAsked(requestId: number): void {
    this.reads.set(requestId, this.maxCommitted);
  }

  readConfirmed(node: NodeId, requestId: number, index: number): void {
    const atLeast = this.reads.get(requestId);
    if (atLeast === undefined) this.fail(`${node} confirmed a read nobody asked for`);
    if (index < atLeast) {
      this.fail(
        `stale read: ${node} confirmed read ${requestId} at ${index}, but ${atLeast} was committed before it`,
      );
    }
  }

  leaderOf(term: number): NodeId | undefined {
    return this.leaders.get(term);
  }
}
