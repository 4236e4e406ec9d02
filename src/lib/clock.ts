/**
 * Time, as the cores see it: injected, so that tests and simulations set the pace and no core reads the
 * machine's clock directly (the lint rule for core folders refuses Date.now, setTimeout, setInterval and
 * performance.now there). `systemClock` is the machine's.
 */
export interface Clock {
  /** Wall-clock time, ms since the epoch: for what is stored or shown (createdAt, lease values, job times). */
  now(): number;
  /** Monotonic ms from an arbitrary origin: for durations and deadlines, never stored. */
  monotonic(): number;
  /** Runs `callback` once after `ms`. Like Node's timers it keeps the process alive until `unref()`. */
  setTimeout(callback: () => void, ms: number): Timer;
  /** Runs `callback` every `ms` until cancelled. Keeps the process alive until `unref()`. */
  setInterval(callback: () => void, ms: number): Timer;
}

/** A scheduled callback. */
export interface Timer {
  /** Idempotent. */
  cancel(): void;
  /** Background work: the timer no longer keeps the process alive. Returns itself. */
  unref(): Timer;
}

function wrap(handle: NodeJS.Timeout, clear: (handle: NodeJS.Timeout) => void): Timer {
  const timer: Timer = {
    cancel: () => clear(handle),
    unref: () => {
      handle.unref();
      return timer;
    },
  };
  return timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback, ms) => wrap(setTimeout(callback, ms), clearTimeout),
  setInterval: (callback, ms) => wrap(setInterval(callback, ms), clearInterval),
};
