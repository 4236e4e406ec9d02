import { Inject } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { MODULE_LOGGERS } from '../../app/tokens';
import type { ModuleLoggers } from '../../observability/create-logger';
import type { Logger } from '../../observability/logger';
import { processBullJob } from '../jobs/bullmq/bull-job-processor';
import { DEFAULT_LANE_CONCURRENCY } from '../jobs/job-lanes';
import type { JobData } from '../jobs/job-queue';
import { JobRunner } from '../jobs/job-runner';

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

  process(job: Job<JobData>): Promise<unknown> {
    return processBullJob(this.runner, job, this.abort.signal);
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
