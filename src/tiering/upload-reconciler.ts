import { systemClock, type Clock, type Timer } from '../lib/clock';
import { silentLogger, type Logger } from '../lib/logger';
import type { JobQueue, JobRecord } from '../jobs/job-queue';
import type { SegmentShipper } from './segment-shipper';

export interface UploadReconcilerOptions {
  intervalMs: number;
  maxPackDelayMs: number;
  /** Below this many pending bytes (and before maxPackDelayMs) there is nothing to ship yet. */
  packTargetBytes: number;
  /** The interval timer, and wall time for pack delays and retry job ids (default: the system clock). */
  clock?: Clock;
  logger?: Logger;
}

/**
 * Makes sure every sealed segment gets an upload job: nudged after each seal, and run at start and on an
 * interval, so that jobs lost with Redis (or with the process, in the embedded mode) are enqueued again.
 * The job id names the pending range — seals and reconciliations of the same range share one job — and
 * says whether the partial pack is due; a range whose job failed for good gets a fresh id on the next
 * round, so a long store outage only delays uploads.
 */
export class UploadReconciler {
  private timer?: Timer;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly waitingSince = new Map<number, number>();
  /** Range job id → the id of its current retry job. */
  private readonly retries = new Map<string, string>();

  constructor(
    private readonly shipper: SegmentShipper,
    private readonly queue: JobQueue,
    private readonly options: UploadReconcilerOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    this.nudge('start');
    if (this.options.intervalMs > 0) {
      this.timer = this.clock.setInterval(() => this.nudge('interval'), this.options.intervalMs).unref();
    }
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Enqueues an upload of what is pending, if anything is; never throws (the next round retries). */
  nudge(reason: string): void {
    this.reconcile().catch((error: unknown) =>
      this.logger.warn({ err: error, reason }, 'could not enqueue WAL uploads; the reconciler retries'),
    );
  }

  /**
   * Resolves with the job enqueued (or found), or undefined when nothing is pending. `flush`: ship the
   * partial pack now, whatever its age.
   */
  async reconcile(options: { flush?: boolean } = {}): Promise<JobRecord | undefined> {
    const pending = this.shipper.pending();
    const first = pending[0];
    const last = pending[pending.length - 1];
    if (!first || !last) return undefined;
    const now = this.clock.now();
    for (const [lsn] of this.waitingSince) if (lsn < first.firstLsn) this.waitingSince.delete(lsn);
    const since = this.waitingSince.get(first.firstLsn) ?? now;
    this.waitingSince.set(first.firstLsn, since);
    const flush = options.flush === true || now - since >= this.options.maxPackDelayMs;
    const pendingBytes = pending.reduce((sum, segment) => sum + segment.sizeBytes, 0);
    // Not a full pack yet and not due: a job would plan nothing (a seal of a small segment, say).
    if (!flush && pendingBytes < this.options.packTargetBytes) return undefined;
    const baseId = `segment-upload.${first.firstLsn}-${last.lastLsn}${flush ? '.flush' : ''}`;
    // The range's job, or its latest retry: a new retry only once that one failed for good too.
    let jobId = this.retries.get(baseId) ?? baseId;
    if ((await this.queue.get(jobId))?.state === 'failed') {
      jobId = `${baseId}.retry-${now}`;
      this.retries.clear(); // older ranges' retries are settled or superseded by this range
      this.retries.set(baseId, jobId);
    }
    return this.queue.enqueue('segment-upload', { flush }, { jobId });
  }
}
