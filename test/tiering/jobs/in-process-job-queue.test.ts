import { InProcessJobQueue } from '../../../src/tiering/jobs/in-process-job-queue';
import { runJobQueueContract } from './job-queue.contract';

runJobQueueContract('in process', (runner) => Promise.resolve(new InProcessJobQueue(runner)));
