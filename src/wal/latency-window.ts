import type { LatencySummary } from './wal-options';

/** The most recent latencies (µs) in a fixed ring; percentiles are computed only when asked. */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private total = 0;

  constructor(size = 4096) {
    this.samples = new Float64Array(size);
  }

  record(micros: number): void {
    this.samples[this.next] = micros;
    this.next = (this.next + 1) % this.samples.length;
    this.total++;
  }

  summary(): LatencySummary {
    const n = Math.min(this.total, this.samples.length);
    if (n === 0) return { count: 0, p50Micros: 0, p99Micros: 0, maxMicros: 0 };
    const sorted = this.samples.slice(0, n).sort();
    const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))] as number;
    return { count: this.total, p50Micros: at(0.5), p99Micros: at(0.99), maxMicros: sorted[n - 1] as number };
  }
}
