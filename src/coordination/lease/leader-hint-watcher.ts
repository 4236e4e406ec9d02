import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { invalidArgument } from '../../lib/errors';
import { silentLogger, type Logger } from '../../lib/logger';
import type { LeaderHint, LeaderHintValue } from './leader-hint';

export interface LeaderHintWatcherOptions {
  hint: LeaderHint;
  /** How often the hint is read; below the keeper's TTL, or a new leader is seen late. */
  pollIntervalMs: number;
  /**
   * Called when the leader `{term, nodeId}` changes: a new leader, or undefined once there is none — the hint
   * was cleared or ran out, or could not be read and the last one seen has run out. Renewals do not call it.
   * A throw is logged.
   */
  onChange?: (value: LeaderHintValue | undefined) => void;
  /** Polls and expiry (wall time; the same clock as the hint's) (default: the system clock). */
  clock?: Clock;
  logger?: Logger;
}

/**
 * For workers in other processes, which take no part in Raft: polls the leader hint and says who leads.
 * A worker that must stop when leadership moves stops when onChange reports another `{term, nodeId}` or
 * undefined. A failed read (Redis down) keeps the last value seen until its expiresAt, then reports it
 * unknown (undefined): what cannot be confirmed is not trusted, so a worker cut off from Redis stops too.
 * Timers are unref'd. The watcher does not close the hint it is given.
 */
export class LeaderHintWatcher {
  private readonly hint: LeaderHint;
  private readonly pollIntervalMs: number;
  private readonly onChange?: (value: LeaderHintValue | undefined) => void;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** The last value read; kept through failed reads until it expires. */
  private known?: LeaderHintValue;
  /** Whether the last read succeeded: a value without expiresAt is trusted only while it does. */
  private confirmed = false;
  /** The leader onChange last reported; undefined before the first and while there is none. */
  private reported?: { term: number; nodeId: string };
  private polling?: Promise<void>;
  private pollTimer?: Timer;
  private expiryTimer?: Timer;
  private failing = false;
  private running = false;
  private closed = false;

  constructor(options: LeaderHintWatcherOptions) {
    if (!Number.isSafeInteger(options.pollIntervalMs) || options.pollIntervalMs <= 0) {
      throw invalidArgument(`pollIntervalMs must be a positive integer (got ${options.pollIntervalMs})`);
    }
    this.hint = options.hint;
    this.pollIntervalMs = options.pollIntervalMs;
    this.onChange = options.onChange;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
  }

  /** Starts polling; resolves after the first read, whatever its outcome (never rejects). */
  start(): Promise<void> {
    if (this.closed || this.running) return this.polling ?? Promise.resolve();
    this.running = true;
    return this.poll();
  }

  /** The leader as last read, while it can be trusted; undefined when there is none or it is unknown. */
  current(): LeaderHintValue | undefined {
    const value = this.known;
    if (value === undefined) return undefined;
    if (value.expiresAt === undefined ? !this.confirmed : this.clock.now() >= value.expiresAt)
      return undefined;
    return { ...value };
  }

  /** Stops polling at once (a read in flight is left to finish unheard); onChange is not called after. */
  async close(): Promise<void> {
    this.closed = true;
    this.running = false;
    this.pollTimer?.cancel();
    this.expiryTimer?.cancel();
  }

  private poll(): Promise<void> {
    this.polling ??= this.readOnce().finally(() => {
      this.polling = undefined;
      if (this.running)
        this.pollTimer = this.clock.setTimeout(() => void this.poll(), this.pollIntervalMs).unref();
    });
    return this.polling;
  }

  private async readOnce(): Promise<void> {
    try {
      const value = await this.hint.read();
      if (this.closed) return;
      this.known = value;
      this.confirmed = true;
      if (this.failing) this.log.info({}, 'leader hint readable again');
      this.failing = false;
    } catch (error) {
      if (this.closed) return;
      this.confirmed = false;
      if (this.failing) this.log.debug({ err: error }, 'leader hint read failed again');
      else
        this.log.warn(
          { err: error },
          'leader hint read failed; keeping the last leader seen until it expires',
        );
      this.failing = true;
    }
    this.notify();
    this.armExpiry();
  }

  /** Reports the leader if it is not the one reported last. */
  private notify(): void {
    if (this.closed) return;
    const value = this.current();
    if (value?.term === this.reported?.term && value?.nodeId === this.reported?.nodeId) return;
    this.reported = value && { term: value.term, nodeId: value.nodeId };
    this.log.info(
      { term: value?.term, nodeId: value?.nodeId },
      value ? 'leader hint: new leader' : 'leader hint: no leader known',
    );
    try {
      this.onChange?.(value);
    } catch (error) {
      this.log.error({ err: error }, 'leader hint onChange failed');
    }
  }

  /** Reports the hint gone when it runs out, even if the next read is slow to come or to answer. */
  private armExpiry(): void {
    this.expiryTimer?.cancel();
    this.expiryTimer = undefined;
    const expiresAt = this.current()?.expiresAt;
    if (expiresAt === undefined || this.closed) return;
    this.expiryTimer = this.clock
      .setTimeout(
        () => {
          this.notify();
          if (this.current() !== undefined) this.armExpiry(); // timers may fire a little early
        },
        Math.max(0, expiresAt - this.clock.now()),
      )
      .unref();
  }
}
