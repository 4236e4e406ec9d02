/**
 * What a leader knows of one follower's log (etcd's tracker.Progress). `probe`: the leader does not know
 * where the logs agree and sends one append at a time; `replicate`: it streams appends optimistically, up
 * to `maxInflight` unacknowledged messages; `snapshot`: a snapshot is on its way and appends wait.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe: an append is out and unanswered (sending another would only repeat it). */
  probeSent = false;
  /** The snapshot's index while in `snapshot`. */
  pendingSnapshot = 0;
  /** Ticks since the snapshot went out: a lost snapshot is sent again after an election timeout. */
  snapshotTicks = 0;
  /** Heard from within the current check-quorum window. */
  recentActive = true;
  /** Last indexes of appends in flight, oldest first. */
  private readonly inflight: number[] = [];

  constructor(
    next: number,
    private readonly maxInflight: number,
  ) {
    this.next = next;
  }

  /** An acknowledgement up to `index`: true when it told the leader something new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** Streams on: the next append starts after `last` (replicate only). */
  sentUpTo(last: number): void {
    if (this.state === 'replicate') {
      this.next = last + 1;
      this.inflight.push(last);
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /**
   * A rejection of the append after `rejected`: moves `next` back (to just after `matchHint`, what the
   * follower's log suggests). False when the rejection is stale (an older message's).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  becomeProbe(): void {
    // After a snapshot, the follower holds at least its index.
    this.next =
      this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflight.length = 0;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflight.length = 0;
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.snapshotTicks = 0;
    this.probeSent = false;
    this.inflight.length = 0;
  }

  /** Appends acknowledged up to `index` no longer count against the window. */
  freeUpTo(index: number): void {
    let drop = 0;
    while (drop < this.inflight.length && (this.inflight[drop] as number) <= index) drop++;
    if (drop > 0) this.inflight.splice(0, drop);
  }

  /** A heartbeat response: the follower is alive, so one more probe may go. */
  heard(): void {
    this.recentActive = true;
    if (this.state === 'probe') this.probeSent = false;
    // A full window whose acks were all lost would stall forever: let one append through again.
    else if (this.state === 'replicate' && this.inflight.length >= this.maxInflight) this.inflight.shift();
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= this.maxInflight;
      case 'snapshot':
        return true;
    }
  }

  inflightCount(): number {
    return this.inflight.length;
  }
}
