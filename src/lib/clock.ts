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
  /** Runs `callback` once after `ms`; the timer never keeps the process alive. */
  setTimeout(callback: () => void, ms: number): Timer;
  /** Runs `callback` every `ms` until cancelled; the timer never keeps the process alive. */
  setInterval(callback: () => void, ms: number): Timer;
}

/** A scheduled callback; `cancel` is idempotent. */
export interface Timer {
  cancel(): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  setInterval(callback, ms) {
    const handle = setInterval(callback, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};
