/**
 * What every JobQueue adapter does (src/jobs/job-queue.ts). Each adapter's test file calls
 * `runJobQueueContract` with a factory that builds a queue (running its workers) around a runner.
 */
import { TidemarkError, invalidArgument } from '../../../../src/lib/errors';
import type { JobData, JobQueue, JobRecord } from '../../../../src/jobs/job-queue';
import { JobRunner } from '../../../../src/jobs/job-runner';

export type QueueFactory = (runner: JobRunner) => Promise<JobQueue>;

export async function waitForJob(
  queue: JobQueue,
  id: string,
  done: (record: JobRecord) => boolean = (r) => r.state === 'completed' || r.state === 'failed',
  timeoutMs = 30_000,
): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await queue.get(id);
    if (record && done(record)) return record;
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish: ${JSON.stringify(record)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function runJobQueueContract(name: string, create: QueueFactory): void {
  describe(`JobQueue contract: ${name}`, () => {
    let queue: JobQueue | undefined;
    let runner: JobRunner;

    beforeEach(() => {
      runner = new JobRunner();
    });

    afterEach(async () => {
      await queue?.close();
      queue = undefined;
    });

    it('runs a job and records its result', async () => {
      runner.register('retention', (data) => Promise.resolve({ doubled: Number(data.n) * 2 }));
      queue = await create(runner);
      const added = await queue.enqueue('retention', { n: 21 }, { jobId: 'r-1' });
      expect(added.id).toBe('r-1');
      const done = await waitForJob(queue, 'r-1');
      expect(done).toMatchObject({ state: 'completed', result: { doubled: 42 }, attemptsMade: 1 });
      expect(done.data).toEqual({ n: 21 });
    });

    it('adds nothing for a job id it still holds: the handler runs once', async () => {
      let runs = 0;
      runner.register('garbage-collection', async () => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return runs;
      });
      queue = await create(runner);
      await Promise.all([1, 2, 3].map(() => queue!.enqueue('garbage-collection', {}, { jobId: 'gc-1' })));
      await waitForJob(queue, 'gc-1');
      await queue.enqueue('garbage-collection', {}, { jobId: 'gc-1' }); // after it completed, too
      await queue.drain();
      expect(runs).toBe(1);
    });

    it('retries a transient failure with backoff, then succeeds', async () => {
      let attempts = 0;
      runner.register('segment-upload', () => {
        attempts++;
        if (attempts < 3) {
          return Promise.reject(new TidemarkError('STORAGE_UNAVAILABLE', `store down (${attempts})`));
        }
        return Promise.resolve('uploaded');
      });
      queue = await create(runner);
      await queue.enqueue('segment-upload', {}, { jobId: 'u-1', backoffMs: 10 });
      const done = await waitForJob(queue, 'u-1');
      expect(done).toMatchObject({ state: 'completed', result: 'uploaded', attemptsMade: 3 });
    });

    it('fails a job for good on invalid input, without retrying', async () => {
      let attempts = 0;
      runner.register('checkpoint-compaction', () => {
        attempts++;
        return Promise.reject(invalidArgument('no such chain'));
      });
      queue = await create(runner);
      await queue.enqueue('checkpoint-compaction', {}, { jobId: 'c-1', backoffMs: 10 });
      const done = await waitForJob(queue, 'c-1');
      expect(done.state).toBe('failed');
      expect(done.error?.message).toContain('no such chain');
      expect(attempts).toBe(1);
    });

    it('gives up after the attempts allowed', async () => {
      runner.register('retention', () => Promise.reject(new Error('always')));
      queue = await create(runner);
      await queue.enqueue('retention', {}, { jobId: 'r-2', attempts: 2, backoffMs: 10 });
      const done = await waitForJob(queue, 'r-2');
      expect(done).toMatchObject({ state: 'failed', attemptsMade: 2, error: { message: 'always' } });
    });

    it('lists jobs newest first, filtered by state and name; get of an unknown id is undefined', async () => {
      runner.register('retention', () => Promise.resolve(null));
      runner.register('garbage-collection', () => Promise.reject(invalidArgument('bad')));
      queue = await create(runner);
      await queue.enqueue('retention', {}, { jobId: 'a' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await queue.enqueue('garbage-collection', {}, { jobId: 'b' });
      await queue.drain();
      await waitForJob(queue, 'b');
      expect((await queue.list()).map((job) => job.id)).toEqual(['b', 'a']);
      expect((await queue.list({ state: 'failed' })).map((job) => job.id)).toEqual(['b']);
      expect((await queue.list({ name: 'retention' })).map((job) => job.id)).toEqual(['a']);
      expect(await queue.get('nope')).toBeUndefined();
    });

    it('refuses bad job ids and names, adding nothing', async () => {
      queue = await create(runner);
      const bad: [string, string][] = [
        ['retention', ''],
        ['retention', 'a:b'],
        ['no-such-job', 'x'],
      ];
      for (const [jobName, jobId] of bad) {
        await expect(queue.enqueue(jobName as 'retention', {} as JobData, { jobId })).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
      }
      expect(await queue.list()).toEqual([]);
    });
  });
}
