import type { Clock, Timer } from '../../src/lib/clock';

interface Scheduled {
  /** Monotonic ms at which it fires next. */
  at: number;
  /** Order of scheduling: timers due at the same time fire in it. */
  seq: number;
  /** Set for an interval. */
  every?: number;
  callback: () => void;
}

/**
 * A Clock the test moves by hand: `now()` and `monotonic()` stand still until `advance(ms)` moves both,
 * firing the timers that fall due on the way, in time order (each sees the clock at its own due time).
 * `setNow` sets the wall clock alone, as a clock adjustment would. Nothing here runs on its own.
 */
export class ManualClock implements Clock {
  private wall: number;
  private mono = 0;
  private seq = 0;
  private readonly scheduled = new Set<Scheduled>();

  constructor(start = 1_000_000) {
    this.wall = start;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  /** Sets wall time; monotonic time and timers are not moved. */
  setNow(ms: number): void {
    this.wall = ms;
  }

  setTimeout(callback: () => void, ms: number): Timer {
    return this.schedule({ at: this.mono + Math.max(0, ms), seq: this.seq++, callback });
  }

  setInterval(callback: () => void, ms: number): Timer {
    const every = Math.max(1, ms);
    return this.schedule({ at: this.mono + every, seq: this.seq++, every, callback });
  }

  /** Timers armed and not yet fired (intervals count until cancelled). */
  get pendingTimers(): number {
    return this.scheduled.size;
  }

  /** Moves both clocks forward by `ms`, firing every timer due by then. */
  advance(ms: number): void {
    const until = this.mono + ms;
    for (let next = this.due(until); next !== undefined; next = this.due(until)) {
      this.wall += next.at - this.mono;
      this.mono = next.at;
      if (next.every === undefined) this.scheduled.delete(next);
      else {
        next.at += next.every;
        next.seq = this.seq++;
      }
      next.callback();
    }
    this.wall += until - this.mono;
    this.mono = until;
  }

  private due(until: number): Scheduled | undefined {
    let first: Scheduled | undefined;
    for (const entry of this.scheduled) {
      if (entry.at > until) continue;
      if (!first || entry.at < first.at || (entry.at === first.at && entry.seq < first.seq)) first = entry;
    }
    return first;
  }

  private schedule(entry: Scheduled): Timer {
    this.scheduled.add(entry);
    const timer: Timer = {
      cancel: () => {
        this.scheduled.delete(entry);
      },
      unref: () => timer,
    };
    return timer;
  }
}
