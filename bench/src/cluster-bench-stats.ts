import type { Percentiles } from './cluster-bench-protocol';

/**
 * Nearest-rank percentiles (the ⌈q·n⌉-th smallest sample): with n samples p99 is the ⌈0.99n⌉-th, so under
 * 100 samples it is the maximum.
 */
export function percentiles(samples: ArrayLike<number>): Percentiles {
  const n = samples.length;
  if (n === 0) return { count: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number => sorted[Math.max(0, Math.ceil(q * n) - 1)]!;
  return { count: n, min: sorted[0]!, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[n - 1]! };
}
