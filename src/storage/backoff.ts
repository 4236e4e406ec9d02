/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): after the
 * n-th failed attempt wait a uniformly random time in [0, min(maxDelay, baseDelay · 2^(n-1))). Spreading
 * retries over the whole window keeps many clients from retrying in lock-step after an outage.
 */
export interface BackoffPolicy {
  /** Attempts in all, the first included; 1 means never retry. */
  maxAttempts: number;
  /** Upper bound of the first pause, ms. */
  baseDelayMs: number;
  /** Upper bound of any pause, ms. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 10_000 };

/** The pause after failed attempt `attempt` (1-based), given `random()` uniform in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}
