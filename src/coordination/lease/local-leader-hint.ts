import { systemClock, type Clock } from '../../lib/clock';
import { TidemarkError } from '../../lib/errors';
import {
  checkClaim,
  checkHintTtl,
  checkNodeId,
  checkTerm,
  type LeaderClaim,
  type LeaderHint,
  type LeaderHintValue,
  type PublishOutcome,
} from './leader-hint';

export interface LocalLeaderHintOptions {
  /** The clock TTLs run on, wall time (default: the system clock). Tests pass a clock they move by hand. */
  clock?: Clock;
}

interface Stored {
  term: number;
  nodeId: string;
  address?: string;
  expiresAt: number;
}

/**
 * The leader hint in memory, for the embedded mode (one process: whoever asks shares this object) and for
 * deterministic tests: the same semantics as RedisLeaderHint, on an injectable clock.
 */
export class LocalLeaderHint implements LeaderHint {
  private readonly clock: Clock;
  private hint?: Stored;
  /** The highest term published and by whom; kept after the hint expires, as Redis keeps its term key. */
  private highest?: { term: number; nodeId: string };
  private closed = false;

  constructor(options: LocalLeaderHintOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async publish(claim: LeaderClaim, ttlMs: number): Promise<PublishOutcome> {
    checkClaim(claim);
    checkHintTtl(ttlMs);
    this.checkOpen();
    const highest = this.highest;
    if (
      highest &&
      (claim.term < highest.term || (claim.term === highest.term && claim.nodeId !== highest.nodeId))
    ) {
      return 'refused';
    }
    this.highest = { term: claim.term, nodeId: claim.nodeId };
    this.hint = {
      term: claim.term,
      nodeId: claim.nodeId,
      ...(claim.address === undefined ? {} : { address: claim.address }),
      expiresAt: this.clock.now() + ttlMs,
    };
    return 'stored';
  }

  async read(): Promise<LeaderHintValue | undefined> {
    this.checkOpen();
    const hint = this.current();
    return hint && { ...hint };
  }

  async clear(claim: Pick<LeaderClaim, 'term' | 'nodeId'>): Promise<void> {
    checkTerm(claim?.term);
    checkNodeId(claim.nodeId);
    this.checkOpen();
    const hint = this.current();
    if (hint?.term === claim.term && hint.nodeId === claim.nodeId) this.hint = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The unexpired hint; an expired one is dropped, as Redis drops a key whose PX ran out. */
  private current(): Stored | undefined {
    if (this.hint && this.hint.expiresAt <= this.clock.now()) this.hint = undefined;
    return this.hint;
  }

  private checkOpen(): void {
    if (this.closed) throw new TidemarkError('CLOSED', 'leader hint is closed');
  }
}
