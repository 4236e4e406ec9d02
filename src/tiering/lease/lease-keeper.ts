import type { Timer } from '../../lib/clock';
import { TidemarkError } from '../../lib/errors';
import {
  resolveLeaseKeeperOptions,
  type LeaseKeeperOptions,
  type LeaseLossReason,
  type ResolvedLeaseKeeperOptions,
} from './lease-keeper-options';
import type { LeaseGrant, LeaseProvider } from './lease-provider';

/** One continuous holding of the lease. */
interface Tenure {
  grant: LeaseGrant;
  /** Monotonic ms from which the lease may have run out in the provider: the last good renewal's send + ttl - margin. */
  deadline: number;
  controller: AbortController;
}

/**
 * Keeps one lease for one holder: acquires it (at start, then every retryAcquireEveryMs while someone else
 * holds it), renews it every renewEveryMs, and goes back to acquiring when it is lost.
 *
 * The keeper trusts its own clock over the provider: the lease counts as held only until the last renewal
 * that succeeded, measured from when it was *sent*, plus ttl minus a safety margin. So a process that was
 * paused, or cut off from Redis, stops believing it leads before anyone else can take over; renewals that
 * fail (Redis unavailable) are retried until that deadline, then the tenure ends as `expired`.
 * Every tenure has its own AbortSignal, aborted when it ends, so work in flight can stop.
 * All timers are unref'd: a keeper never holds the process open. It is a hint of leadership: commits are
 * fenced by their token (assertHeld just before, and the token stored with the write).
 */
export class LeaseKeeper {
  private readonly options: ResolvedLeaseKeeperOptions;
  private readonly notHeld: AbortSignal;
  private tenure?: Tenure;
  /** A grant given up locally that the provider may still hold: released before the next acquire. */
  private lapsed?: LeaseGrant;
  private running = false;
  private stepping?: Promise<void>;
  private stepTimer?: Timer;
  private deadlineTimer?: Timer;
  private failing = false;

  constructor(
    private readonly provider: LeaseProvider,
    options: LeaseKeeperOptions,
  ) {
    this.options = resolveLeaseKeeperOptions(options);
    this.notHeld = AbortSignal.abort(
      new TidemarkError('NOT_LEADER', `lease ${options.name} is not held by ${options.holderId}`),
    );
  }

  /** Starts keeping the lease; resolves after the first attempt to acquire it, whatever its outcome. */
  start(): Promise<void> {
    if (this.running) return this.stepping ?? Promise.resolve();
    this.running = true;
    // A tenure left by stop({ release: false }) ended with that stop; begin a new one.
    if (this.tenure) this.lapsed = this.tenure.grant;
    this.tenure = undefined;
    return this.step();
  }

  /**
   * Stops renewing and clears every timer. With `release` (default) the lease is given up at once, so another
   * holder can take it without waiting out the TTL. With `release: false` the grant is left to expire:
   * current() still returns it until its local deadline, as for a process that froze.
   * The tenure's signal is aborted either way; onLost is not called.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    const release = options.release ?? true;
    this.running = false;
    this.clearTimer('stepTimer');
    await this.stepping;
    this.clearTimer('deadlineTimer');
    const tenure = this.tenure;
    tenure?.controller.abort(new TidemarkError('CLOSED', `lease keeper for ${this.options.name} stopped`));
    if (!release) return;
    this.tenure = undefined;
    if (tenure) await this.releaseQuietly(tenure.grant);
    if (this.lapsed) await this.releaseQuietly(this.lapsed);
    this.lapsed = undefined;
  }

  /** The grant while it is surely held; undefined once its local deadline passed, even before the provider says so. */
  current(): LeaseGrant | undefined {
    const tenure = this.tenure;
    return tenure && this.now() < tenure.deadline ? tenure.grant : undefined;
  }

  /** The current tenure's signal: aborted when it ends (FENCED when lost, CLOSED when stopped); aborted while not held. */
  get signal(): AbortSignal {
    return this.tenure?.controller.signal ?? this.notHeld;
  }

  /**
   * The last check before a commit: throws FENCED unless the lease is held, locally and in the provider, by this
   * holder with exactly `token`. Rejects with COORDINATION_UNAVAILABLE when the provider cannot say.
   */
  async assertHeld(token: number): Promise<void> {
    this.assertHeldLocally(token);
    const holder = await this.provider.holder(this.options.name);
    if (holder?.holderId !== this.options.holderId || holder.token !== token) {
      throw this.fenced(
        token,
        holder ? `it is held by ${holder.holderId} with token ${holder.token}` : 'nobody holds it',
      );
    }
    this.assertHeldLocally(token); // the question took time: the deadline may have passed meanwhile
  }

  private assertHeldLocally(token: number): void {
    const grant = this.current();
    if (grant?.token !== token) {
      throw this.fenced(
        token,
        grant ? `this holder's token is ${grant.token} now` : 'this holder does not hold it',
      );
    }
  }

  private fenced(token: number, why: string): TidemarkError {
    const { name, holderId } = this.options;
    return new TidemarkError(
      'FENCED',
      `lease ${name} is not held by ${holderId} with token ${token}: ${why}`,
      {
        details: { lease: name, holderId, token },
      },
    );
  }

  /** One acquire or renew; never two at once, never rejects. Schedules the next when done. */
  private step(): Promise<void> {
    if (this.stepping) return this.stepping;
    this.clearTimer('stepTimer');
    this.stepping = this.runStep().finally(() => {
      this.stepping = undefined;
      this.scheduleNext();
    });
    return this.stepping;
  }

  private async runStep(): Promise<void> {
    try {
      const tenure = this.tenure;
      if (tenure && this.now() >= tenure.deadline) this.lose(tenure, 'expired');
      if (this.tenure) await this.renew(this.tenure);
      else await this.acquire();
    } catch (error) {
      this.options.logger.error({ lease: this.options.name, err: error }, 'lease keeper step failed');
    }
  }

  private scheduleNext(): void {
    if (!this.running) return;
    const { renewEveryMs, retryAcquireEveryMs } = this.options;
    let delay = retryAcquireEveryMs;
    if (this.tenure) delay = this.failing ? Math.min(renewEveryMs, retryAcquireEveryMs) : renewEveryMs;
    this.stepTimer = this.options.clock.setTimeout(() => void this.step(), delay).unref();
  }

  private async acquire(): Promise<void> {
    const { name, holderId, ttlMs, safetyMarginMs, logger } = this.options;
    if (this.lapsed) {
      await this.releaseQuietly(this.lapsed); // ours until its TTL otherwise, and nobody's to use
      this.lapsed = undefined;
    }
    if (!this.running) return;
    const sentAt = this.now();
    let grant: LeaseGrant | undefined;
    try {
      grant = await this.provider.acquire(name, holderId, ttlMs, this.options.minToken?.());
    } catch (error) {
      this.reportFailure('acquire', error);
      return;
    }
    this.reportSuccess('acquire');
    if (!grant) return;
    const tenure: Tenure = {
      grant,
      deadline: sentAt + ttlMs - safetyMarginMs,
      controller: new AbortController(),
    };
    if (this.now() >= tenure.deadline) {
      this.lapsed = grant; // the answer came too late to be of use
      return;
    }
    this.tenure = tenure;
    if (!this.running) return; // stop() is waiting for this step and decides what becomes of it
    this.armDeadline(tenure);
    logger.info({ lease: name, holderId, token: grant.token }, 'lease acquired');
    const onAcquired = this.options.onAcquired;
    if (onAcquired) {
      Promise.resolve()
        .then(() => onAcquired(grant))
        .catch((error: unknown) => {
          logger.error({ lease: name, token: grant.token, err: error }, 'onAcquired failed');
        });
    }
  }

  private async renew(tenure: Tenure): Promise<void> {
    const { ttlMs, safetyMarginMs } = this.options;
    const sentAt = this.now();
    const sentAtWall = this.options.clock.now();
    let renewed: boolean;
    try {
      renewed = await this.provider.renew(tenure.grant, ttlMs);
    } catch (error) {
      // Keep trying until the deadline: the deadline timer ends the tenure if none succeeds by then.
      if (this.tenure === tenure) this.reportFailure('renew', error);
      return;
    }
    if (this.tenure !== tenure) return; // ended while the renewal was under way
    this.reportSuccess('renew');
    if (!renewed) {
      this.lose(tenure, 'refused');
      return;
    }
    tenure.deadline = sentAt + ttlMs - safetyMarginMs;
    tenure.grant = { ...tenure.grant, expiresAt: sentAtWall + ttlMs };
    if (this.now() >= tenure.deadline) this.lose(tenure, 'expired');
    else this.armDeadline(tenure);
  }

  private lose(tenure: Tenure, reason: LeaseLossReason): void {
    const { name, holderId, logger } = this.options;
    const { grant } = tenure;
    this.tenure = undefined;
    this.clearTimer('deadlineTimer');
    if (reason === 'expired') this.lapsed = grant;
    tenure.controller.abort(
      new TidemarkError('FENCED', `lease ${name} lost (${reason})`, {
        details: { lease: name, holderId, token: grant.token, reason },
      }),
    );
    logger.warn({ lease: name, holderId, token: grant.token, reason }, 'lease lost');
    try {
      this.options.onLost?.(grant, reason);
    } catch (error) {
      logger.error({ lease: name, token: grant.token, err: error }, 'onLost failed');
    }
  }

  /** Ends the tenure when its deadline passes without a renewal, even while a renewal is still under way. */
  private armDeadline(tenure: Tenure): void {
    this.clearTimer('deadlineTimer');
    this.deadlineTimer = this.options.clock
      .setTimeout(
        () => {
          if (this.tenure !== tenure) return;
          if (this.now() < tenure.deadline) {
            this.armDeadline(tenure); // timers may fire a little early
            return;
          }
          this.lose(tenure, 'expired');
          if (this.running) void this.step();
        },
        Math.max(0, tenure.deadline - this.now()),
      )
      .unref();
  }

  private async releaseQuietly(grant: LeaseGrant): Promise<void> {
    try {
      await this.provider.release(grant);
    } catch (error) {
      this.options.logger.warn(
        { lease: grant.name, token: grant.token, err: error },
        'could not release the lease; it lapses after its TTL',
      );
    }
  }

  /** Warns once per streak of failures, not on every retry. */
  private reportFailure(operation: 'acquire' | 'renew', error: unknown): void {
    const fields = { lease: this.options.name, holderId: this.options.holderId, err: error };
    if (this.failing) this.options.logger.debug(fields, `lease ${operation} failed again`);
    else this.options.logger.warn(fields, `lease ${operation} failed; retrying`);
    this.failing = true;
  }

  private reportSuccess(operation: 'acquire' | 'renew'): void {
    if (!this.failing) return;
    this.failing = false;
    this.options.logger.info({ lease: this.options.name }, `lease ${operation} works again`);
  }

  private clearTimer(which: 'stepTimer' | 'deadlineTimer'): void {
    this[which]?.cancel();
    this[which] = undefined;
  }

  /** Monotonic ms: leases are timed by the process's own clock, which wall-clock adjustments do not move. */
  private now(): number {
    return this.options.clock.monotonic();
  }
}
