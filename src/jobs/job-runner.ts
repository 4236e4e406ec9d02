import { invalidArgument } from '../lib/errors';
import { silentLogger, type Logger } from '../lib/logger';
import { describeError, isUnrecoverable } from './job-errors';
import { JOB_NAMES, type JobContext, type JobData, type JobHandler, type JobName } from './job-queue';

/** Why a job attempt failed, and whether retrying can help. */
export class JobFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly unrecoverable: boolean,
  ) {
    super(describeError(cause).message);
    this.name = 'JobFailure';
  }
}

/**
 * The core both queue adapters hand jobs to: finds the handler for a job's name, runs it, logs the outcome,
 * and classifies a failure (JobFailure.unrecoverable) so the adapter retries or gives up. Queue adapters
 * stay thin: they move jobs, this runs them.
 */
export class JobRunner {
  private readonly handlers = new Map<JobName, JobHandler>();

  constructor(private readonly logger: Logger = silentLogger) {}

  register(name: JobName, handler: JobHandler): this {
    if (!JOB_NAMES.includes(name)) throw invalidArgument(`unknown job name ${JSON.stringify(name)}`);
    this.handlers.set(name, handler);
    return this;
  }

  async run(name: string, data: JobData, context: JobContext): Promise<unknown> {
    const handler = this.handlers.get(name as JobName);
    if (!handler) {
      throw new JobFailure(invalidArgument(`no handler for job ${JSON.stringify(name)}`), true);
    }
    try {
      const result = await handler(data, context);
      this.logger.debug({ job: name, jobId: context.jobId, attempt: context.attempt }, 'job done');
      return result ?? null;
    } catch (error) {
      const unrecoverable = isUnrecoverable(error);
      this.logger.warn(
        { job: name, jobId: context.jobId, attempt: context.attempt, err: error, unrecoverable },
        unrecoverable ? 'job failed for good' : 'job failed; it will be retried',
      );
      throw new JobFailure(error, unrecoverable);
    }
  }
}
