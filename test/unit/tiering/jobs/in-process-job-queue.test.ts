import { InProcessJobQueue } from '../../../../src/jobs/in-process-job-queue';
import { JobRunner } from '../../../../src/jobs/job-runner';
import { runJobQueueContract } from '../../../support/tiering/jobs/job-queue.contract';

runJobQueueContract('in process', (runner) => Promise.resolve(new InProcessJobQueue(runner)));

/** A handler whose runs stay open until released, so a test can see what runs at once. */
function gatedRunner() {
  const open = new Map<string, () => void>();
  const started: string[] = [];
  const hold = (_: unknown, context: { jobId: string }) =>
    new Promise<unknown>((resolve) => {
      started.push(context.jobId);
      open.set(context.jobId, () => resolve(context.jobId));
    });
  const runner = new JobRunner().register('segment-upload', hold).register('checkpoint-compaction', hold);
  const release = (id: string) => {
    open.get(id)!();
    open.delete(id);
  };
  return { runner, started, running: () => [...open.keys()], release };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('InProcessJobQueue', () => {
  it('runs each lane up to its own concurrency, first ready first, and a full upload lane does not hold up maintenance', async () => {
    const gate = gatedRunner();
    const queue = new InProcessJobQueue(gate.runner, { concurrency: { uploads: 2, maintenance: 1 } });
    try {
      for (const id of ['u1', 'u2', 'u3', 'u4']) await queue.enqueue('segment-upload', {}, { jobId: id });
      await queue.enqueue('checkpoint-compaction', {}, { jobId: 'c1' });
      await queue.enqueue('checkpoint-compaction', {}, { jobId: 'c2' });
      await tick();
      expect(gate.running().sort()).toEqual(['c1', 'u1', 'u2']);
      gate.release('u2');
      gate.release('c1');
      await tick();
      expect(gate.running().sort()).toEqual(['c2', 'u1', 'u3']);
      for (const id of ['u1', 'u3', 'c2']) gate.release(id);
      await tick();
      gate.release('u4');
      await queue.drain(5_000);
      expect(gate.started).toEqual(['u1', 'u2', 'c1', 'u3', 'c2', 'u4']);
      expect((await queue.list({ state: 'completed' })).length).toBe(6);
    } finally {
      await queue.close();
    }
  });

  it('keeps the newest finished jobs up to keepFinished, dropping the oldest finished first', async () => {
    const gate = gatedRunner();
    const queue = new InProcessJobQueue(gate.runner, { keepFinished: 2, concurrency: { uploads: 4 } });
    try {
      for (const id of ['a', 'b', 'c', 'd']) await queue.enqueue('segment-upload', {}, { jobId: id });
      await tick();
      // Finish in the order d, a, c, b: the two finished first (d, a) are dropped.
      for (const id of ['d', 'a', 'c', 'b']) {
        gate.release(id);
        await tick();
      }
      await queue.drain(5_000);
      expect((await queue.list()).map((r) => r.id).sort()).toEqual(['b', 'c']);
      expect(await queue.get('d')).toBeUndefined();
      // A dropped id may be used again: it is a new job.
      await queue.enqueue('segment-upload', {}, { jobId: 'd' });
      await tick();
      expect(gate.running()).toEqual(['d']);
      gate.release('d');
      await queue.drain(5_000);
    } finally {
      await queue.close();
    }
  });

  it('runs 20,000 jobs to completion and drains, keeping only keepFinished of them', async () => {
    let runs = 0;
    const runner = new JobRunner().register('segment-upload', () => Promise.resolve(++runs));
    const queue = new InProcessJobQueue(runner, { keepFinished: 100 });
    try {
      for (let i = 0; i < 20_000; i++) await queue.enqueue('segment-upload', { i }, { jobId: `job-${i}` });
      await queue.drain(60_000);
      expect(runs).toBe(20_000);
      const kept = await queue.list({ limit: 1000 });
      expect(kept.length).toBe(100);
      expect(kept.every((r) => r.state === 'completed')).toBe(true);
      expect(kept[0]!.id).toBe('job-19999');
    } finally {
      await queue.close();
    }
  });
});
