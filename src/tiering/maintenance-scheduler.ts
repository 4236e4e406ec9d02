import { randomUUID } from 'node:crypto';
import { systemClock, type Clock, type Timer } from '../lib/clock';
import { silentLogger, type Logger } from '../lib/logger';
import type { JobName, JobQueue, JobRecord } from '../jobs/job-queue';

export interface ScheduledJob {
  name: Exclude<JobName, 'segment-upload'>;
  intervalMs: number;
  data?: Record<string, boolean>;
  /** Job ids are `{idPrefix}.{interval number}`; defaults to the name (a full GC sweep has its own). */
  idPrefix?: string;
}

/**
 * Enqueues the periodic maintenance jobs (compaction, retention, GC) — only while this node holds the
 * maintenance lease (start on acquiring it, stop on losing it). A job's id is its name and the interval it
 * falls in, so two schedulers (a former holder not yet aware it lost the lease) enqueue one job per
 * interval between them, and the fence rejects the stale one's commits anyway.
 */
export class MaintenanceScheduler {
  private readonly timers: Timer[] = [];
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(
    private readonly queue: JobQueue,
    private readonly jobs: readonly ScheduledJob[],
    options: { clock?: Clock; logger?: Logger } = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
  }

  get running(): boolean {
    return this.timers.length > 0;
  }

  start(): void {
    if (this.running) return;
    for (const job of this.jobs) {
      if (job.intervalMs <= 0) continue;
      this.timers.push(this.clock.setInterval(() => this.enqueueScheduled(job), job.intervalMs).unref());
    }
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) timer.cancel();
  }

  /**
   * A run asked for now (REST): its own id, so it runs even if this interval's run is done — and even if
   * another trigger came in the same millisecond (the random part; the time alone would make it a no-op).
   */
  trigger(name: ScheduledJob['name'], data: Record<string, boolean> = {}): Promise<JobRecord> {
    const now = this.clock.now();
    return this.queue.enqueue(name, data, { jobId: `${name}.manual-${now}-${randomUUID().slice(0, 8)}` });
  }

  private enqueueScheduled(job: ScheduledJob): void {
    const now = this.clock.now();
    const jobId = `${job.idPrefix ?? job.name}.${Math.floor(now / job.intervalMs)}`;
    this.queue.enqueue(job.name, job.data ?? {}, { jobId }).catch((error: unknown) => {
      this.logger.warn(
        { err: error, job: job.name },
        'could not enqueue a maintenance job; next interval retries',
      );
    });
  }
}
