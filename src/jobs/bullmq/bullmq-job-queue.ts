import { Queue, Worker, type Job, type JobType } from 'bullmq';
import { systemClock, type Clock } from '../../lib/clock';
import { TidemarkError, invalidArgument } from '../../lib/errors';
import { jobIdProblem } from '../job-errors';
import {
  DEFAULT_LANE_CONCURRENCY,
  JOB_LANES,
  laneOf,
  type JobLane,
  type LaneConcurrency,
} from '../job-lanes';
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
} from '../job-queue';
import type { JobRunner } from '../job-runner';
import { processBullJob } from './bull-job-processor';
import { bullConnection } from './bull-connection';

export interface BullMqJobQueueOptions {
  redisUrl: string;
  /** Redis key prefix of the queues; one per node, since its jobs act on its own disk and catalog. */
  prefix: string;
  /** Finished jobs kept in Redis for `GET /v1/jobs` and id deduplication. */
  keepFinished?: number;
  /** What drain's timeout and polling run on (default: the system clock). */
  clock?: Clock;
}

const PENDING: JobType[] = ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children', 'paused'];
const ALL: JobType[] = [...PENDING, 'completed', 'failed'];

/**
 * The job queue on Redis with BullMQ: one BullMQ queue per lane (job-lanes.ts). This class is the producer
 * and the reader of job state; workers run either as Nest WorkerHosts (server/jobs/tiering.processor.ts) or, for
 * library use, through `startWorkers`. Both hand jobs to the same JobRunner.
 */
export class BullMqJobQueue implements JobQueue {
  private readonly queues: Record<JobLane, Queue>;
  private readonly workers: Worker[] = [];
  private readonly abort = new AbortController();
  private readonly keepFinished: number;
  private readonly clock: Clock;

  constructor(private readonly options: BullMqJobQueueOptions) {
    const connection = bullConnection(options.redisUrl, 'producer');
    this.keepFinished = options.keepFinished ?? 1000;
    this.clock = options.clock ?? systemClock;
    this.queues = {
      uploads: new Queue('uploads', { connection, prefix: options.prefix }),
      maintenance: new Queue('maintenance', { connection, prefix: options.prefix }),
    };
    // ioredis reports a lost connection as an 'error' event; without a listener Node would crash.
    for (const queue of Object.values(this.queues)) queue.on('error', () => undefined);
  }

  /** Runs the jobs in this process with plain BullMQ workers (the Nest service uses WorkerHosts instead). */
  startWorkers(
    runner: JobRunner,
    options: { concurrency?: Partial<LaneConcurrency>; lockDuration?: number; stalledInterval?: number } = {},
  ): void {
    const lanes = { ...DEFAULT_LANE_CONCURRENCY, ...options.concurrency };
    for (const lane of JOB_LANES) {
      const worker = new Worker<JobData>(lane, (job) => processBullJob(runner, job, this.abort.signal), {
        connection: bullConnection(this.options.redisUrl, 'worker'),
        prefix: this.options.prefix,
        concurrency: lanes[lane],
        // How soon a job whose worker vanished (or lost Redis mid-job) is run again (BullMQ's defaults: 30 s).
        ...(options.lockDuration === undefined ? {} : { lockDuration: options.lockDuration }),
        ...(options.stalledInterval === undefined ? {} : { stalledInterval: options.stalledInterval }),
      });
      worker.on('error', () => undefined);
      this.workers.push(worker);
    }
  }

  async enqueue(name: JobName, data: JobData, options: EnqueueOptions): Promise<JobRecord> {
    if (!JOB_NAMES.includes(name)) throw invalidArgument(`unknown job name ${JSON.stringify(name)}`);
    const problem = jobIdProblem(options.jobId);
    if (problem) throw invalidArgument(problem);
    const queue = this.queues[laneOf(name)];
    const job = await redisCall(() =>
      queue.add(name, data, {
        jobId: options.jobId,
        attempts: options.attempts ?? DEFAULT_ATTEMPTS,
        backoff: { type: 'exponential', delay: options.backoffMs ?? DEFAULT_BACKOFF_MS },
        removeOnComplete: { count: this.keepFinished },
        removeOnFail: { count: this.keepFinished },
      }),
    );
    return toRecord(job, await redisCall(() => job.getState()));
  }

  async get(id: string): Promise<JobRecord | undefined> {
    for (const queue of Object.values(this.queues)) {
      // State first, then the job: once it reads completed or failed, the job read after it is final.
      const state = await redisCall(() => queue.getJobState(id));
      if (state === 'unknown') continue;
      const job = await redisCall(() => queue.getJob(id));
      if (job) return toRecord(job, state);
    }
    return undefined;
  }

  async list(filter: { state?: JobState; name?: JobName; limit?: number } = {}): Promise<JobRecord[]> {
    const limit = filter.limit ?? 100;
    const types = filter.state ? typesOf(filter.state) : ALL;
    const records: JobRecord[] = [];
    for (const [lane, queue] of Object.entries(this.queues)) {
      if (filter.name && laneOf(filter.name) !== lane) continue;
      for (const type of types) {
        const jobs = await redisCall(() => queue.getJobs([type], 0, limit - 1));
        for (const job of jobs) {
          if (filter.name && job.name !== filter.name) continue;
          records.push(toRecord(job, stateOf(type)));
        }
      }
    }
    return records.sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }

  async drain(timeoutMs = 60_000): Promise<void> {
    const deadline = this.clock.monotonic() + timeoutMs;
    for (;;) {
      let pending = 0;
      try {
        for (const queue of Object.values(this.queues)) {
          const counts = await redisCall(() => queue.getJobCounts(...PENDING));
          pending += Object.values(counts).reduce((sum, n) => sum + n, 0);
        }
      } catch (error) {
        // Redis away (or reconnecting): the jobs are still pending, as far as anyone can tell.
        if (!TidemarkError.is(error, 'COORDINATION_UNAVAILABLE') || this.clock.monotonic() > deadline)
          throw error;
        pending = -1;
      }
      if (pending === 0) return;
      if (this.clock.monotonic() > deadline) {
        throw new TidemarkError('INTERNAL', `${pending} jobs still pending after ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.workers.map((worker) => worker.close()));
    await Promise.allSettled(Object.values(this.queues).map((queue) => queue.close()));
  }
}

function typesOf(state: JobState): JobType[] {
  return state === 'waiting' ? ['waiting', 'prioritized', 'waiting-children', 'paused'] : [state];
}

function stateOf(type: string): JobState {
  if (type === 'completed' || type === 'failed' || type === 'active' || type === 'delayed') return type;
  return 'waiting';
}

function toRecord(job: Job, state: string): JobRecord {
  const record: JobRecord = {
    id: job.id ?? '',
    name: job.name as JobName,
    state: stateOf(state),
    data: job.data as JobData,
    attemptsMade: job.attemptsMade,
    createdAt: job.timestamp,
  };
  if (job.returnvalue !== undefined && job.returnvalue !== null) record.result = job.returnvalue;
  if (job.failedReason) record.error = { message: job.failedReason };
  if (job.finishedOn) record.finishedAt = job.finishedOn;
  return record;
}

/** Redis being down surfaces as COORDINATION_UNAVAILABLE (retryable), never as a raw ioredis error. */
async function redisCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TidemarkError) throw error;
    throw new TidemarkError(
      'COORDINATION_UNAVAILABLE',
      `Redis (job queue) unavailable: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
