import { Inject } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { MODULE_LOGGERS } from '../tokens';
import { settleWithin } from '../../lib/settle-within';
import type { ModuleLoggers } from '../../node/create-logger';
import type { Logger } from '../../lib/logger';
import { processBullJob } from '../../jobs/bullmq/bull-job-processor';
import { DEFAULT_LANE_CONCURRENCY } from '../../jobs/job-lanes';
import type { JobData } from '../../jobs/job-queue';
import { JobRunner } from '../../jobs/job-runner';

/** BullMQ workers as Nest WorkerHosts: thin, each hands its lane's jobs to the JobRunner. */
abstract class LaneProcessor extends WorkerHost {
  private readonly abort = new AbortController();
  private readonly logger: Logger;

  constructor(
    private readonly runner: JobRunner,
    loggers: ModuleLoggers,
  ) {
    super();
    this.logger = loggers.child('tiering');
  }

  private readonly inFlight = new Set<Promise<unknown>>();

  process(job: Job<JobData>): Promise<unknown> {
    const run = processBullJob(this.runner, job, this.abort.signal);
    this.inFlight.add(run);
    void run.catch(() => undefined).finally(() => this.inFlight.delete(run));
    return run;
  }

  /**
   * Lets the jobs in flight finish for up to `graceMs`, aborts those still running, then closes the worker
   * without waiting on Redis (a graceful close sends QUIT and waits forever while Redis is down). A job
   * cut off is run again elsewhere once its lock lapses: jobs are idempotent.
   */
  async shutDown(graceMs: number): Promise<void> {
    if ((await settleWithin(Promise.allSettled([...this.inFlight]), graceMs)) === 'timed-out') {
      this.logger.warn({ jobs: this.inFlight.size }, 'jobs still running at shutdown were aborted');
      this.abort.abort();
    }
    await settleWithin(this.worker.close(true), graceMs);
  }

  /** A lost Redis connection is reported here; the worker reconnects by itself. */
  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.logger.warn({ err: error }, 'job worker error (Redis unreachable?); it reconnects');
  }
}

@Processor('uploads', { concurrency: DEFAULT_LANE_CONCURRENCY.uploads })
export class UploadsProcessor extends LaneProcessor {
  constructor(@Inject(JobRunner) runner: JobRunner, @Inject(MODULE_LOGGERS) loggers: ModuleLoggers) {
    super(runner, loggers);
  }
}

@Processor('maintenance', { concurrency: DEFAULT_LANE_CONCURRENCY.maintenance })
export class MaintenanceProcessor extends LaneProcessor {
  constructor(@Inject(JobRunner) runner: JobRunner, @Inject(MODULE_LOGGERS) loggers: ModuleLoggers) {
    super(runner, loggers);
  }
}
