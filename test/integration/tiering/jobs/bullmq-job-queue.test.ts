import { BullMqJobQueue } from '../../../../src/jobs/bullmq/bullmq-job-queue';
import { startRedis, type TestRedis } from '../../../support/redis-server';
import { runJobQueueContract } from '../../../support/tiering/jobs/job-queue.contract';

let redis: TestRedis;
let run = 0;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis.dispose();
});

runJobQueueContract('BullMQ on a real redis-server', (runner) => {
  // A fresh prefix per test: an empty queue, as the contract expects.
  const queue = new BullMqJobQueue({ redisUrl: redis.url, prefix: `t${++run}` });
  queue.startWorkers(runner);
  return Promise.resolve(queue);
});
