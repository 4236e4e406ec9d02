import { UnrecoverableError, type Job } from 'bullmq';
import type { JobData } from '../job-queue';
import { JobFailure, type JobRunner } from '../job-runner';

/**
 * What a BullMQ worker does with a job, wherever the worker is hosted (a Nest WorkerHost, or a plain Worker
 * for library use): hand it to the runner, and turn an unrecoverable failure into BullMQ's
 * UnrecoverableError so BullMQ does not retry it.
 */
export async function processBullJob(
  runner: JobRunner,
  job: Job<JobData>,
  signal: AbortSignal,
): Promise<unknown> {
  try {
    return await runner.run(job.name, job.data, {
      jobId: job.id ?? '',
      attempt: job.attemptsMade + 1,
      signal,
    });
  } catch (error) {
    if (error instanceof JobFailure) {
      if (error.unrecoverable) throw new UnrecoverableError(error.message);
      throw error.cause instanceof Error ? error.cause : error;
    }
    throw error;
  }
}
