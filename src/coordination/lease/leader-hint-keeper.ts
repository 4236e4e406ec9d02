import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { invalidArgument } from '../../lib/errors';
import { silentLogger, type Logger } from '../../lib/logger';
import { settleWithin } from '../../lib/settle-within';
import { checkClaim, checkHintTtl, checkTerm, type LeaderClaim, type LeaderHint } from './leader-hint';

export interface LeaderHintKeeperOptions {
  hint: LeaderHint;
  /** This node's Raft id: the hint names it while it leads. */
  nodeId: string;
  /** Where workers reach this node; stored with the hint. */
  address?: string;
  /** How long a hint lasts without renewal: how long workers may go on trusting a leader that vanished. */
  ttlMs: number;
  /** Default ttl / 3: two renewals can fail before the hint runs out. */
  renewIntervalMs?: number;
  /** The most close() waits for the work in flight and the final clear (default 2,000 ms). */
  closeTimeoutMs?: number;
  /** Timers and the clear window (default: the system clock). */
  clock?: Clock;
  logger?: Logger;
}

/** A hint this node may have stored and should take back, until it would have run out by itself. */
interface PendingClear {
  term: number;
  /** Monotonic ms after which the hint has expired anyway and clearing is pointless. */
  until: number;
}

/**
 * Keeps this node's leader hint while Raft makes it leader: publishes at once, renews every
 * renewIntervalMs, and clears it (compare-and-delete, so never a successor's) when leadership is lost.
 *
 * Raft is the authority; this only reports what Raft decided. So nothing here throws into the caller (the
 * Raft node's role listener) or waits on Redis there: leadershipChanged() records the new state and
 * returns, and the work happens in the background, one call at a time. A failed call (Redis down) is
 * logged once per streak and retried at the next renewal, so the hint comes back with Redis. A publish
 * refused because a higher term is stored is logged and changes nothing: Raft decides, not the hint.
 * Timers are unref'd: a keeper never holds the process open. It does not close the hint it is given.
 */
export class LeaderHintKeeper {
  private readonly hint: LeaderHint;
  private readonly nodeId: string;
  private readonly address?: string;
  private readonly ttlMs: number;
  private readonly renewIntervalMs: number;
  private readonly closeTimeoutMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** The term this node leads in, while it does. */
  private leadingTerm?: number;
  private pendingClear?: PendingClear;
  private stepping?: Promise<void>;
  /** The state changed while a step was under way: step again as soon as it ends. */
  private again = false;
  private timer?: Timer;
  private failing = false;
  /** Terms already reported, so renewals do not log each time. */
  private publishedTerm?: number;
  private refusedTerm?: number;
  private closing?: Promise<void>;

  constructor(options: LeaderHintKeeperOptions) {
    checkClaim({ term: 1, nodeId: options.nodeId, address: options.address });
    checkHintTtl(options.ttlMs);
    const renewIntervalMs = options.renewIntervalMs ?? Math.max(1, Math.floor(options.ttlMs / 3));
    // Renewing less often than the hint lasts would let it run out between two renewals.
    if (!Number.isSafeInteger(renewIntervalMs) || renewIntervalMs <= 0 || renewIntervalMs >= options.ttlMs) {
      throw invalidArgument(
        `renewIntervalMs must be a positive integer below ttlMs = ${options.ttlMs} (got ${renewIntervalMs})`,
      );
    }
    const closeTimeoutMs = options.closeTimeoutMs ?? 2_000;
    if (!Number.isSafeInteger(closeTimeoutMs) || closeTimeoutMs <= 0) {
      throw invalidArgument(`closeTimeoutMs must be a positive integer (got ${closeTimeoutMs})`);
    }
    this.hint = options.hint;
    this.nodeId = options.nodeId;
    this.address = options.address;
    this.ttlMs = options.ttlMs;
    this.renewIntervalMs = renewIntervalMs;
    this.closeTimeoutMs = closeTimeoutMs;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
  }

  /**
   * Raft's role changed (wire to RaftNode.onRoleChange): `'leader'` in `term` starts publishing, any other
   * role stops it and clears this node's hint. Returns at once; never throws.
   */
  leadershipChanged(role: string, term: number): void {
    try {
      if (this.closing) return;
      if (role === 'leader') {
        checkTerm(term);
        if (this.leadingTerm === term) return; // told twice
        this.leadingTerm = term;
        this.pendingClear = undefined; // the new hint replaces any old one
      } else {
        if (this.leadingTerm === undefined) return;
        this.pendingClear = { term: this.leadingTerm, until: this.clock.monotonic() + this.ttlMs };
        this.leadingTerm = undefined;
      }
      this.kick();
    } catch (error) {
      this.log.error({ role, term, err: error }, 'leader hint keeper could not take the role change');
    }
  }

  /**
   * Stops renewing and clears this node's hint, so workers see no leader at once rather than after the TTL.
   * Bounded by closeTimeoutMs (the hint runs out by itself if Redis cannot be told); never rejects.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.cancelTimer();
    if (this.leadingTerm !== undefined) {
      this.pendingClear = { term: this.leadingTerm, until: this.clock.monotonic() + this.ttlMs };
      this.leadingTerm = undefined;
    }
    const work = (async () => {
      await this.stepping; // a publish in flight lands first, so the clear comes after it
      const pending = this.pendingClear;
      if (pending) await this.clear(pending);
    })();
    try {
      if ((await settleWithin(work, this.closeTimeoutMs, this.clock)) === 'timed-out') {
        this.log.warn(
          { nodeId: this.nodeId, closeTimeoutMs: this.closeTimeoutMs },
          'leader hint not cleared in time on close; it runs out after its TTL',
        );
      }
    } catch (error) {
      this.log.error({ err: error }, 'leader hint keeper failed to close');
    }
  }

  /** Runs a step now, or right after the one under way; steps never overlap. */
  private kick(): void {
    if (this.closing) return;
    if (this.stepping) {
      this.again = true;
      return;
    }
    this.cancelTimer();
    this.stepping = this.step().finally(() => {
      this.stepping = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      } else this.scheduleNext();
    });
  }

  /** Publishes while leading, else takes back a hint left behind. Never rejects. */
  private async step(): Promise<void> {
    try {
      if (this.leadingTerm !== undefined) await this.publish(this.leadingTerm);
      else if (this.pendingClear) await this.clear(this.pendingClear);
    } catch (error) {
      this.log.error({ err: error }, 'leader hint keeper step failed');
    }
  }

  private scheduleNext(): void {
    if (this.closing) return;
    if (this.leadingTerm === undefined && this.pendingClear === undefined) return;
    this.timer = this.clock.setTimeout(() => this.kick(), this.renewIntervalMs).unref();
  }

  private async publish(term: number): Promise<void> {
    const claim: LeaderClaim = { term, nodeId: this.nodeId };
    if (this.address !== undefined) claim.address = this.address;
    let outcome: Awaited<ReturnType<LeaderHint['publish']>>;
    try {
      outcome = await this.hint.publish(claim, this.ttlMs);
    } catch (error) {
      this.reportFailure('publish', term, error);
      return;
    }
    this.reportSuccess('publish', term);
    const fields = { term, nodeId: this.nodeId };
    if (outcome === 'stored') {
      if (this.publishedTerm !== term) this.log.info(fields, 'leader hint published');
      this.publishedTerm = term;
      this.refusedTerm = undefined;
    } else if (this.refusedTerm !== term) {
      this.refusedTerm = term;
      this.log.warn(fields, 'leader hint refused: a higher term is stored; Raft decides, so nothing changes');
    }
  }

  private async clear(pending: PendingClear): Promise<void> {
    if (this.clock.monotonic() < pending.until) {
      try {
        await this.hint.clear({ term: pending.term, nodeId: this.nodeId });
      } catch (error) {
        this.reportFailure('clear', pending.term, error); // retried at the next tick, until it ran out
        return;
      }
      this.reportSuccess('clear', pending.term);
      this.log.debug({ term: pending.term, nodeId: this.nodeId }, 'leader hint cleared');
    }
    if (this.pendingClear === pending) this.pendingClear = undefined;
  }

  /** Warns once per streak of failures, not on every retry. */
  private reportFailure(operation: 'publish' | 'clear', term: number, error: unknown): void {
    const fields = { term, nodeId: this.nodeId, err: error };
    if (this.failing) this.log.debug(fields, `leader hint ${operation} failed again`);
    else this.log.warn(fields, `leader hint ${operation} failed; retrying (Raft is not affected)`);
    this.failing = true;
  }

  private reportSuccess(operation: 'publish' | 'clear', term: number): void {
    if (!this.failing) return;
    this.failing = false;
    this.log.info({ term, nodeId: this.nodeId }, `leader hint ${operation} works again`);
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
