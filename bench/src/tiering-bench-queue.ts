/**
 * Jobs per second through the job-queue port: K trivial jobs (a handler that returns at once) enqueued
 * in a burst, then drained — through the in-process queue and through BullMQ on a redis-server of the
 * benchmark's own. What is measured is the queue's overhead per job, nothing the jobs do.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BullMqJobQueue } from '../../src/jobs/bullmq/bullmq-job-queue';
import { InProcessJobQueue } from '../../src/jobs/in-process-job-queue';
import type { LaneConcurrency } from '../../src/jobs/job-lanes';
import type { JobName, JobQueue } from '../../src/jobs/job-queue';
import { JobRunner } from '../../src/jobs/job-runner';

export interface QueueResult {
  queue: 'in-process' | 'bullmq';
  jobs: number;
  /** The uploads lane's concurrency (the jobs go there: `segment-upload`). */
  concurrency: number;
  /** How many enqueue calls were in flight at once. */
  enqueueInFlight: number;
  enqueueSeconds: number;
  enqueuePerSec: number;
  /** From the first enqueue until drain() resolved. */
  seconds: number;
  jobsPerSec: number;
  completed: number;
}

/** A handler that returns at once, counting its runs. */
function trivialRunner(): { runner: JobRunner; completed: () => number } {
  let done = 0;
  const runner = new JobRunner();
  const handler = async () => {
    done++;
    return null;
  };
  for (const name of ['segment-upload', 'retention'] as JobName[]) runner.register(name, handler);
  return { runner, completed: () => done };
}

async function burst(
  queue: JobQueue,
  jobs: number,
  inFlight: number,
  completed: () => number,
): Promise<Omit<QueueResult, 'queue' | 'concurrency'>> {
  const run = randomBytes(3).toString('hex');
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < jobs) {
        const i = next++;
        await queue.enqueue('segment-upload', { i }, { jobId: `bench.${run}.${i}` });
      }
    }),
  );
  const enqueueSeconds = (performance.now() - started) / 1000;
  await queue.drain(600_000);
  const seconds = (performance.now() - started) / 1000;
  return {
    jobs,
    enqueueInFlight: inFlight,
    enqueueSeconds,
    enqueuePerSec: jobs / enqueueSeconds,
    seconds,
    jobsPerSec: jobs / seconds,
    completed: completed(),
  };
}

export async function inProcessJobsPerSec(jobs: number, uploads?: number): Promise<QueueResult> {
  const { runner, completed } = trivialRunner();
  const concurrency: Partial<LaneConcurrency> = uploads === undefined ? {} : { uploads };
  const queue = new InProcessJobQueue(runner, { concurrency });
  try {
    const result = await burst(queue, jobs, 1, completed);
    return { queue: 'in-process', concurrency: uploads ?? 2, ...result };
  } finally {
    await queue.close();
  }
}

/** BullMQ on `redisUrl` with plain workers in this process (BullMqJobQueue.startWorkers). */
export async function bullMqJobsPerSec(
  redisUrl: string,
  jobs: number,
  uploads: number,
  enqueueInFlight: number,
): Promise<QueueResult> {
  const { runner, completed } = trivialRunner();
  const queue = new BullMqJobQueue({ redisUrl, prefix: `bench-${randomBytes(3).toString('hex')}` });
  try {
    queue.startWorkers(runner, { concurrency: { uploads } });
    const result = await burst(queue, jobs, enqueueInFlight, completed);
    return { queue: 'bullmq', concurrency: uploads, ...result };
  } finally {
    await queue.close();
  }
}
