import Denque from 'denque';
import { systemClock, type Clock, type Timer } from '../lib/clock';
import { TidemarkError, invalidArgument } from '../lib/errors';
import { describeError, jobIdProblem } from './job-errors';
import { DEFAULT_LANE_CONCURRENCY, laneOf, type JobLane, type LaneConcurrency } from './job-lanes';
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  JOB_NAMES,
  type EnqueueOptions,
  type JobData,
  type JobName,
  type JobQueue,
  type JobRecord,
  type JobState,
} from './job-queue';
import { JobFailure, type JobRunner } from './job-runner';

export interface InProcessJobQueueOptions {
  concurrency?: Partial<LaneConcurrency>;
  /** Finished jobs kept for `GET /v1/jobs` (and for id deduplication), oldest dropped first. */
  keepFinished?: number;
  /** Jobs' createdAt and finishedAt, retry backoff and drain's timeout (default: the system clock). */
  clock?: Clock;
}

interface QueuedJob {
  record: JobRecord;
  attempts: number;
  backoffMs: number;
  timer?: Timer;
}

/**
 * The embedded mode's queue: jobs live in this process, run by `runner`, in two lanes (job-lanes.ts). Same
 * semantics as BullMQ's (job-queue.ts), except that nothing survives a restart — which costs nothing here,
 * because every producer re-derives its jobs at start (the upload reconciler finds sealed segments not yet
 * uploaded; the scheduler re-arms periodic runs).
 */
export class InProcessJobQueue implements JobQueue {
  private readonly jobs = new Map<string, QueuedJob>();
  /** Per lane, jobs ready to start, in the order they became ready. */
  private readonly ready = new Map<JobLane, Denque<QueuedJob>>();
  /** Ids of finished jobs, oldest first: the ones pruned beyond `keepFinished`. */
  private readonly finished = new Denque<string>();
  /** Jobs waiting, delayed or active: the queue is idle at 0. */
  private unfinished = 0;
  private readonly running = new Map<JobLane, number>();
  private readonly concurrency: LaneConcurrency;
  private readonly keepFinished: number;
  private readonly clock: Clock;
  private readonly abort = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly activeRuns = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly runner: JobRunner,
    options: InProcessJobQueueOptions = {},
  ) {
    this.concurrency = { ...DEFAULT_LANE_CONCURRENCY, ...options.concurrency };
    this.keepFinished = options.keepFinished ?? 1000;
    this.clock = options.clock ?? systemClock;
  }

  enqueue(name: JobName, data: JobData, options: EnqueueOptions): Promise<JobRecord> {
    if (this.closed) return Promise.reject(new TidemarkError('CLOSED', 'the job queue is closed'));
    if (!JOB_NAMES.includes(name)) {
      return Promise.reject(invalidArgument(`unknown job name ${JSON.stringify(name)}`));
    }
    const problem = jobIdProblem(options.jobId);
    if (problem) return Promise.reject(invalidArgument(problem));
    const existing = this.jobs.get(options.jobId);
    if (existing) return Promise.resolve(copy(existing.record));
    const job: QueuedJob = {
      record: {
        id: options.jobId,
        name,
        state: 'waiting',
        data: { ...data },
        attemptsMade: 0,
        createdAt: this.clock.now(),
      },
      attempts: options.attempts ?? DEFAULT_ATTEMPTS,
      backoffMs: options.backoffMs ?? DEFAULT_BACKOFF_MS,
    };
    this.jobs.set(job.record.id, job);
    this.unfinished++;
    this.makeReady(job);
    return Promise.resolve(copy(job.record));
  }

  get(id: string): Promise<JobRecord | undefined> {
    const job = this.jobs.get(id);
    return Promise.resolve(job ? copy(job.record) : undefined);
  }

  list(filter: { state?: JobState; name?: JobName; limit?: number } = {}): Promise<JobRecord[]> {
    const matching = [...this.jobs.values()]
      .map((job) => job.record)
      .filter((record) => filter.state === undefined || record.state === filter.state)
      .filter((record) => filter.name === undefined || record.name === filter.name)
      .reverse()
      .slice(0, filter.limit ?? 100);
    return Promise.resolve(matching.map(copy));
  }

  drain(timeoutMs = 60_000): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(
        () => reject(new TidemarkError('INTERNAL', `jobs still pending after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.idleWaiters.push(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    for (const job of this.jobs.values()) job.timer?.cancel();
    await Promise.allSettled([...this.activeRuns]);
  }

  private idle(): boolean {
    return this.unfinished === 0;
  }

  private makeReady(job: QueuedJob): void {
    const lane = laneOf(job.record.name);
    let queue = this.ready.get(lane);
    if (!queue) {
      queue = new Denque<QueuedJob>();
      this.ready.set(lane, queue);
    }
    queue.push(job);
    this.pump(lane);
  }

  /** Starts the lane's ready jobs, first ready first, while it has room. */
  private pump(lane: JobLane): void {
    const queue = this.ready.get(lane);
    while (!this.closed && queue && queue.length > 0) {
      const busy = this.running.get(lane) ?? 0;
      if (busy >= this.concurrency[lane]) return;
      const job = queue.shift()!;
      this.running.set(lane, busy + 1);
      const run = this.run(job).finally(() => {
        this.running.set(lane, (this.running.get(lane) ?? 1) - 1);
        this.activeRuns.delete(run);
        this.pump(lane);
        this.afterChange();
      });
      this.activeRuns.add(run);
    }
  }

  private async run(job: QueuedJob): Promise<void> {
    const record = job.record;
    record.state = 'active';
    record.attemptsMade++;
    try {
      record.result = await this.runner.run(record.name, record.data, {
        jobId: record.id,
        attempt: record.attemptsMade,
        signal: this.abort.signal,
      });
      record.state = 'completed';
      record.error = undefined;
      this.finish(record);
    } catch (error) {
      const failure = error instanceof JobFailure ? error : new JobFailure(error, false);
      record.error = describeError(failure.cause);
      if (failure.unrecoverable || record.attemptsMade >= job.attempts || this.closed) {
        record.state = 'failed';
        this.finish(record);
        return;
      }
      record.state = 'delayed';
      const delay = job.backoffMs * 2 ** (record.attemptsMade - 1);
      job.timer = this.clock
        .setTimeout(() => {
          job.timer = undefined;
          record.state = 'waiting';
          this.makeReady(job);
        }, delay)
        .unref();
    }
  }

  private finish(record: JobRecord): void {
    record.finishedAt = this.clock.now();
    this.unfinished--;
    this.finished.push(record.id);
  }

  private afterChange(): void {
    while (this.finished.length > this.keepFinished) this.jobs.delete(this.finished.shift()!);
    if (this.idle()) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

function copy(record: JobRecord): JobRecord {
  return { ...record, data: { ...record.data } };
}
